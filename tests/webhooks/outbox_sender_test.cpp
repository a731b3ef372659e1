// The outbox sender on a real store: replies leave in order per community and their rows go once
// sent; a transient failure is retried after its back-off; a refusal for good drops the reply.
#include "webhooks/outbox_sender.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <spdlog/spdlog.h>

#include <boost/asio/io_context.hpp>
#include <map>
#include <vector>

#include "store/sqlite/sqlite_database.h"
#include "support/fake_clock.h"
#include "support/result_matchers.h"
#include "support/run_coroutine.h"
#include "support/temp_dir.h"

namespace wik::webhooks {
namespace {

namespace asio = boost::asio;
using ::testing::ElementsAre;
using wik::testing::IsOk;
using wik::testing::run_coroutine;

class OutboxSenderTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { spdlog::set_level(spdlog::level::off); }

  void SetUp() override {
    auto database = store::SqliteDatabase::open({.path = dir_.path() / "wik.db"});
    ASSERT_THAT(database, IsOk());
    store_ = std::move(store::Store::open(std::move(database).value(), ring_, clock_)).value();
    ReplySender send = [this](const store::OutboxMessage& message) { return scripted_send(message); };
    sender_ = std::make_unique<OutboxSender>(*store_, std::move(send), clock_, metrics_,
                                             OutboxOptions{.retry_base = std::chrono::seconds(1)});
  }

  // Queues `replies` as the replies of one handled event of `community`.
  void queue(const std::string& community, const std::string& key, const std::vector<std::string>& replies) {
    auto scope = store_->community(community);
    ASSERT_THAT(scope->put_installation({.community_name = "C", .access_token = AccessToken("T")}), IsOk());
    ASSERT_THAT(scope->insert_inbox_event({.topic = "page/messages", .dedupe_key = key, .payload = "{}"}), IsOk());
    auto claimed = store_->claim_inbox_events("w", 1, std::chrono::seconds(30));
    ASSERT_THAT(claimed, IsOk());
    ASSERT_EQ(claimed->size(), 1u);
    ASSERT_THAT(store_->complete_inbox_event(claimed->front(), replies), IsOk());
  }

  void drain() {
    for (int pass = 0; pass < 100; ++pass) {
      auto sent = run_coroutine(io_, sender_->run_once());
      ASSERT_THAT(sent, IsOk());
      if (*sent == 0) return;
    }
    FAIL() << "the outbox never drained";
  }

  asio::awaitable<Result<void>> scripted_send(const store::OutboxMessage& message) {
    auto failure = failures_.find(message.body);
    if (failure != failures_.end() && failure->second.second > 0) {
      --failure->second.second;
      co_return Error(failure->second.first, "scripted failure");
    }
    delivered_[message.community_id].push_back(message.body);
    co_return ok_result();
  }

  std::int64_t outbox_rows() {
    auto claimed = store_->claim_outbox(100, std::chrono::milliseconds(1));
    return claimed.ok() ? static_cast<std::int64_t>(claimed->size()) : -1;
  }

  std::uint64_t counted(const std::string& outcome) {
    return metrics_.counter("outbox_replies_total", "Replies from the outbox, by outcome.", {{"outcome", outcome}})
        .value();
  }

  testing::TempDir dir_;
  testing::FakeClock clock_{1764370000};
  core::KeyRing ring_ = core::KeyRing::generate("k1");
  http::MetricsRegistry metrics_;
  std::unique_ptr<store::Store> store_;
  asio::io_context io_;
  std::unique_ptr<OutboxSender> sender_;
  std::map<std::string, std::vector<std::string>> delivered_;
  std::map<std::string, std::pair<ErrorCode, int>> failures_;  // body → (error, failures left)
};

TEST_F(OutboxSenderTest, RepliesLeaveInOrderPerCommunityAndTheirRowsGo) {
  queue("111", "a", {"a1", "a2", "a3"});
  queue("222", "b", {"b1"});
  drain();
  EXPECT_THAT(delivered_["111"], ElementsAre("a1", "a2", "a3"));
  EXPECT_THAT(delivered_["222"], ElementsAre("b1"));
  EXPECT_EQ(counted("sent"), 4u);
  EXPECT_EQ(outbox_rows(), 0);
}

TEST_F(OutboxSenderTest, ATransientFailureIsRetriedAfterItsBackOffAndKeepsItsCommunityWaiting) {
  failures_["a1"] = {ErrorCode::kRateLimited, 1};
  queue("111", "a", {"a1", "a2"});
  drain();
  EXPECT_TRUE(delivered_["111"].empty());
  EXPECT_EQ(counted("retry_scheduled"), 1u);
  clock_.advance(std::chrono::seconds(1));
  drain();
  EXPECT_THAT(delivered_["111"], ElementsAre("a1", "a2"));
}

TEST_F(OutboxSenderTest, AReplyThePlatformRefusesForGoodIsDroppedAndTheNextOneGoes) {
  failures_["a1"] = {ErrorCode::kInvalidArgument, 100};
  queue("111", "a", {"a1", "a2"});
  drain();
  EXPECT_THAT(delivered_["111"], ElementsAre("a2"));
  EXPECT_EQ(counted("dropped"), 1u);
  EXPECT_EQ(outbox_rows(), 0);
}

}  // namespace
}  // namespace wik::webhooks
