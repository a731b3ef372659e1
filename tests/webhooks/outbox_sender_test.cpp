// The outbox sender on a real store: replies leave in order per community and their rows go once
// sent; a transient failure is retried after its back-off; a refusal for good drops the reply; one
// community's backlog never delays another's reply, and communities' replies go at once; the
// pacing holds replies back without spending their attempts, and lets them go, in order, when
// their time comes.
#include "webhooks/outbox_sender.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <spdlog/spdlog.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
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
    pace({});
  }

  // Replaces the sender by one with the pacing `pacing`, sending `concurrent_sends` replies at once.
  void pace(BotConfig pacing, std::size_t concurrent_sends = OutboxOptions{}.concurrent_sends) {
    ReplySender send = [this](const store::OutboxMessage& message) { return scripted_send(message); };
    sender_ = std::make_unique<OutboxSender>(
        *store_, std::move(send), clock_, metrics_,
        OutboxOptions{.retry_base = std::chrono::seconds(1), .concurrent_sends = concurrent_sends, .pacing = pacing});
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
    if (round_trip_ > std::chrono::milliseconds::zero()) {
      max_in_flight_ = std::max(max_in_flight_, ++in_flight_);
      asio::steady_timer round_trip(co_await asio::this_coro::executor, round_trip_);
      co_await round_trip.async_wait(asio::use_awaitable);
      --in_flight_;
    }
    auto failure = failures_.find(message.body);
    if (failure != failures_.end() && failure->second.second > 0) {
      --failure->second.second;
      co_return Error(failure->second.first, "scripted failure");
    }
    delivered_[message.community_id].push_back(message.body);
    sent_at_[message.body] = clock_.now();
    co_return ok_result();
  }

  std::int64_t outbox_rows() {
    auto claimed = store_->claim_outbox(100, std::chrono::milliseconds(1));
    return claimed.ok() ? static_cast<std::int64_t>(claimed->size()) : -1;
  }

  // Returns the replies claimable now (claiming them for an instant, then letting the claim run out).
  std::vector<store::OutboxMessage> claimable() {
    auto claimed = store_->claim_outbox(100, std::chrono::milliseconds(1));
    clock_.advance(std::chrono::milliseconds(1));
    return claimed.ok() ? std::move(claimed).value() : std::vector<store::OutboxMessage>{};
  }

  std::uint64_t counted(const std::string& outcome) {
    return metrics_.counter("outbox_replies_total", "Replies from the outbox, by outcome.", {{"outcome", outcome}})
        .value();
  }

  std::uint64_t deferred(const std::string& reason) {
    return metrics_
        .counter("outbox_deferred_total", "Replies held back by the pacing, by the rule that held them.",
                 {{"reason", reason}})
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
  std::map<std::string, std::chrono::system_clock::time_point> sent_at_;  // body → when it was sent
  std::map<std::string, std::pair<ErrorCode, int>> failures_;  // body → (error, failures left)
  std::chrono::milliseconds round_trip_{0};  // how long each send takes (real time)
  int in_flight_ = 0;
  int max_in_flight_ = 0;
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
  failures_["a1"] = {ErrorCode::kUnavailable, 1};
  queue("111", "a", {"a1", "a2"});
  drain();
  EXPECT_TRUE(delivered_["111"].empty());
  EXPECT_EQ(counted("retry_scheduled"), 1u);
  clock_.advance(std::chrono::seconds(1));
  drain();
  EXPECT_THAT(delivered_["111"], ElementsAre("a1", "a2"));
}

TEST_F(OutboxSenderTest, AThrottledReplyWaitsLongerEachTimeWithoutSpendingAttemptsAndIsNeverDropped) {
  failures_["a1"] = {ErrorCode::kRateLimited, 12};  // more throttles than the store's 8 attempts
  queue("111", "a", {"a1", "a2"});
  std::chrono::seconds waited{0};
  for (int throttle = 0; throttle < 12; ++throttle) {
    drain();
    ASSERT_TRUE(delivered_["111"].empty()) << "throttle " << throttle;
    const auto waiting = claimable();
    ASSERT_EQ(waiting.size(), 0u) << "the reply waits after throttle " << throttle;
    const auto wait = std::min<std::chrono::seconds>(std::chrono::seconds(1LL << throttle), std::chrono::minutes(10));
    clock_.advance(wait);
    waited += wait;
  }
  drain();
  EXPECT_THAT(delivered_["111"], ElementsAre("a1", "a2"));
  EXPECT_EQ(deferred("platform_throttle"), 12u);
  EXPECT_EQ(counted("retry_scheduled"), 0u);
  EXPECT_EQ(counted("dropped"), 0u);
  EXPECT_GE(waited, std::chrono::seconds(1023)) << "the waits grew";
}

TEST_F(OutboxSenderTest, AReplyThePlatformRefusesForGoodIsDroppedAndTheNextOneGoes) {
  failures_["a1"] = {ErrorCode::kInvalidArgument, 100};
  queue("111", "a", {"a1", "a2"});
  drain();
  EXPECT_THAT(delivered_["111"], ElementsAre("a2"));
  EXPECT_EQ(counted("dropped"), 1u);
  EXPECT_EQ(outbox_rows(), 0);
}

// Returns `count` replies named prefix1, prefix2, …
std::vector<std::string> numbered(const std::string& prefix, int count) {
  std::vector<std::string> replies;
  for (int i = 1; i <= count; ++i) replies.push_back(prefix + std::to_string(i));
  return replies;
}

TEST_F(OutboxSenderTest, ACommunitysThousandQueuedRepliesDoNotDelayAnotherCommunitysReply) {
  queue("111", "a", numbered("a", 1000));
  queue("222", "b", {"b1"});
  auto sent = run_coroutine(io_, sender_->run_once());
  ASSERT_THAT(sent, IsOk());
  EXPECT_THAT(delivered_["222"], ElementsAre("b1")) << "in the first batch";
  EXPECT_THAT(delivered_["111"], ElementsAre("a1"));
}

TEST_F(OutboxSenderTest, RepliesOfDifferentCommunitiesAreSentConcurrentlyAndEachCommunitysInOrder) {
  round_trip_ = std::chrono::milliseconds(20);
  queue("111", "a", {"a1", "a2"});
  queue("222", "b", {"b1", "b2"});
  queue("333", "c", {"c1"});
  drain();
  EXPECT_EQ(max_in_flight_, 3) << "one round trip at a time per community, the communities at once";
  EXPECT_THAT(delivered_["111"], ElementsAre("a1", "a2"));
  EXPECT_THAT(delivered_["222"], ElementsAre("b1", "b2"));
  EXPECT_THAT(delivered_["333"], ElementsAre("c1"));
  EXPECT_EQ(counted("sent"), 5u);
  EXPECT_EQ(outbox_rows(), 0);
}

TEST_F(OutboxSenderTest, NoMoreRepliesThanConcurrentSendsAreInFlight) {
  pace({}, 2);
  round_trip_ = std::chrono::milliseconds(20);
  for (const char* community : {"111", "222", "333", "444", "555"}) queue(community, "m", {std::string(community)});
  drain();
  EXPECT_EQ(max_in_flight_, 2);
  EXPECT_EQ(counted("sent"), 5u);
  EXPECT_EQ(outbox_rows(), 0);
}

TEST_F(OutboxSenderTest, TheCommunityBudgetHoldsRepliesBackWithoutSpendingTheirAttempts) {
  pace({.community_budget = 5, .budget_window = std::chrono::seconds(60), .thread_spacing = {}});
  queue("111", "a", numbered("a", 12));
  queue("222", "b", {"b1", "b2"});
  drain();
  EXPECT_THAT(delivered_["111"], ElementsAre("a1", "a2", "a3", "a4", "a5"));
  EXPECT_THAT(delivered_["222"], ElementsAre("b1", "b2")) << "another community's budget is its own";
  EXPECT_EQ(deferred("community_budget"), 1u);
  EXPECT_TRUE(claimable().empty()) << "a6 waits for the budget, and the later replies behind it";

  clock_.advance(std::chrono::seconds(60));
  const std::vector<store::OutboxMessage> waiting = claimable();
  ASSERT_EQ(waiting.size(), 1u);
  EXPECT_EQ(waiting[0].body, "a6");
  EXPECT_EQ(waiting[0].attempts, 0) << "being held back is not an attempt";

  for (int window = 0; window < 2; ++window) {
    drain();
    clock_.advance(std::chrono::seconds(60));
  }
  EXPECT_THAT(delivered_["111"], ::testing::ContainerEq(numbered("a", 12))) << "none dropped, in order";
  EXPECT_EQ(counted("sent"), 14u);
  EXPECT_EQ(counted("dropped"), 0u);
  EXPECT_EQ(counted("retry_scheduled"), 0u);
  EXPECT_EQ(outbox_rows(), 0);
}

TEST_F(OutboxSenderTest, RepliesToOneConversationAreSpacedAndKeepTheirOrder) {
  pace({.community_budget = 100, .budget_window = std::chrono::seconds(60),
        .thread_spacing = std::chrono::milliseconds(500), .thread_burst = 1});
  const auto to = [](const std::string& thread, const std::string& text) {
    return R"({"recipient":{"thread_key":")" + thread + R"("},"message":{"text":")" + text + R"("}})";
  };
  const std::vector<std::string> replies = {to("t_1", "x1"), to("t_1", "x2"), to("t_2", "y1"), to("t_1", "x3")};
  queue("111", "a", replies);
  const auto start = clock_.now();
  for (int step = 0; step < 20 && delivered_["111"].size() < replies.size(); ++step) {
    drain();
    clock_.advance(std::chrono::milliseconds(100));
  }
  EXPECT_THAT(delivered_["111"], ::testing::ContainerEq(replies)) << "in the order they were queued";
  EXPECT_EQ(sent_at_[replies[0]], start);
  EXPECT_EQ(sent_at_[replies[1]], start + std::chrono::milliseconds(500));
  EXPECT_EQ(sent_at_[replies[2]], start + std::chrono::milliseconds(500)) << "another thread is not spaced";
  EXPECT_EQ(sent_at_[replies[3]], start + std::chrono::milliseconds(1000));
  EXPECT_EQ(deferred("thread_spacing"), 2u);
  EXPECT_EQ(deferred("community_budget"), 0u);
  EXPECT_EQ(counted("sent"), 4u);
}

}  // namespace
}  // namespace wik::webhooks
