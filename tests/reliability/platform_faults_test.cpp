// D2/D3: the platform's faults (docs/RELIABILITY.md, "Faults of the platform").
//
// A wik::App runs in the test's process against the emulator on loopback (app/app_fixture.h). Its
// message handler answers every message with two replies (the load and the ledger: chat_load.h). People of several communities write to
// the bot through the emulator (which delivers the messages as signed webhooks), while the
// emulator's Send API (POST /me/messages) fails 10 % of calls with a transient error, loses 5 % to
// a timeout and 3 % to a dropped connection — half of those losing the request before it is
// processed, half losing the answer after the message was sent (faults.h) — and while a second
// client of the same app (another replica, an operator's script) spends the whole rate-limit budget
// of a few communities, so the kit's next call there is throttled (code 613, with
// estimated_time_to_regain_access in minutes). The ledger is what the emulator recorded as sent.
// The test checks that
//   - every reply is delivered (lost = 0), in the order the kit received the messages of its
//     conversation;
//   - duplicates are counted exactly, and there are no more than the answers the emulator lost of
//     sends it had processed (the Send API has no idempotency key: a send whose answer is lost is
//     sent again, which is the only way a reply can double here);
//   - the kit made no call inside a back-off window the platform told it (the emulator records
//     each window it told the kit's client and every call that arrived inside one);
//   - nothing is stuck: no reply left in the outbox, no event left in the inbox, no dead letter.
// WIK_PLATFORM_FAULTS_MESSAGES sets how many messages the busy communities get (240 unless set).
#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include <boost/json/parse.hpp>

#include "core/appsecret_proof.h"
#include "reliability/chat_load.h"

namespace wik {
namespace {

namespace json = boost::json;
using boost::beast::http::verb;
using wik::testing::ChatLoadTest;
using wik::testing::Ledger;
using wik::testing::Writer;
using wik::testing::echo_twice;
using wik::testing::IsOk;
using wik::testing::kAppId;
using wik::testing::kSecret;

constexpr std::size_t kBusyCommunities = 6;   // the fixture's seed community and five more
constexpr std::size_t kPeoplePerBusy = 3;
constexpr std::size_t kQuietCommunities = 3;  // each throttled once, with one person writing twice
constexpr std::size_t kQuietMessages = 2;
constexpr std::uint32_t kCallsPerWindow = 150;  // the rate limit per (app, community)
constexpr std::int64_t kWindowSeconds = 60;
constexpr const char* kKitClient = "wik";  // the kit's User-Agent
constexpr const char* kNeighbourClient = "platform-faults-neighbour";
constexpr const char* kSendApi = "/me/messages";

// The busy communities' messages: WIK_PLATFORM_FAULTS_MESSAGES, else 240.
std::size_t busy_messages() {
  const char* text = std::getenv("WIK_PLATFORM_FAULTS_MESSAGES");
  std::size_t value = 0;
  if (text == nullptr) return 240;
  const char* end = text + std::char_traits<char>::length(text);
  const auto [stop, error] = std::from_chars(text, end, value);
  return error == std::errc() && stop == end ? std::clamp<std::size_t>(value, 10, 100000) : 240;
}

class PlatformFaultsTest : public ChatLoadTest {
 protected:
  // Makes signed GET /community calls with `token` as another client of the app, until the
  // usage the platform reports for the community is at 100 %: the budget is spent.
  void spend_budget(const std::string& token) {
    for (std::uint32_t call = 0; call <= kCallsPerWindow; ++call) {
      const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                           std::chrono::system_clock::now().time_since_epoch())
                           .count();
      const auto signed_proof = core::make_appsecret_proof(Secret(kSecret), AccessToken(token), now);
      http::ClientRequest request{
          .method = verb::get,
          .url = emulator_->graph_url() + "/v3.2/community?" +
                 http::encode_form({{"appsecret_proof", signed_proof.proof}, {"appsecret_time", signed_proof.time}})};
      request.headers.set(boost::beast::http::field::authorization, "Bearer " + token);
      request.headers.set(boost::beast::http::field::user_agent, kNeighbourClient);
      auto response = testing::run_coroutine(io_, http_->request(std::move(request)));
      ASSERT_THAT(response, IsOk());
      const auto usage = response->header("X-App-Usage");
      ASSERT_TRUE(usage.has_value());
      if (json::parse(*usage).at("call_count").to_number<std::int64_t>() >= 100) return;
    }
    FAIL() << "the budget was never spent";
  }
};

TEST_F(PlatformFaultsTest, EveryReplyArrivesInOrderWithinWhatThePlatformAllowed) {
  config_.app.reverify_interval = std::chrono::hours(0);  // the install sweep is not this test's subject
  config_.log.level = LogLevel::kError;                    // each failed send logs a warning
  start_installed_app([](App& app) { app.on_message(echo_twice); });
  kit_store_ = open_kit_store();
  ASSERT_NE(kit_store_, nullptr);

  std::vector<Writer> busy = seed_writers(kPeoplePerBusy);
  const std::vector<Writer> more = create_writers(kBusyCommunities - 1, kPeoplePerBusy, "busy");
  busy.insert(busy.end(), more.begin(), more.end());
  const std::vector<Writer> quiet = create_writers(kQuietCommunities, 1, "quiet");
  ASSERT_EQ(busy.size(), kBusyCommunities * kPeoplePerBusy);
  ASSERT_EQ(quiet.size(), kQuietCommunities);

  const auto limited = control("/rate_limits", {{"calls", kCallsPerWindow}, {"window_seconds", kWindowSeconds}});
  ASSERT_EQ(limited.status, 200u) << limited.body;
  const auto faulty = control("/faults/graph", {{"endpoint", kSendApi},
                                                {"error_rate", 0.10},
                                                {"timeout_rate", 0.025},
                                                {"processed_timeout_rate", 0.025},
                                                {"drop_rate", 0.015},
                                                {"processed_drop_rate", 0.015},
                                                {"hang_ms", 250}});
  ASSERT_EQ(faulty.status, 200u) << faulty.body;

  const auto started = std::chrono::steady_clock::now();
  std::int64_t number = 0;
  for (const Writer& writer : quiet) {
    spend_budget(writer.token);
    for (std::size_t m = 0; m < kQuietMessages; ++m) write(writer, number++);
  }
  const std::size_t messages = busy_messages();
  for (std::size_t m = 0; m < messages && !HasFatalFailure(); ++m) write(busy[m % busy.size()], number++);
  ASSERT_FALSE(HasFatalFailure());

  // Every reply comes within the back-off the platform asked for plus the retries' back-off; the
  // bound only stops a run that would never end.
  const auto deadline = started + std::chrono::seconds(150) + std::chrono::milliseconds(200) * messages;
  const auto finished = [&] {
    const Ledger now = read_ledger();
    return now.delivered == now.expected && stuck_rows() == 0;
  };
  while (std::chrono::steady_clock::now() < deadline && !finished()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  const std::int64_t stuck = stuck_rows();
  read_arrivals();
  const Ledger ledger = read_ledger();

  const json::value faults = control_get("/faults/graph");
  const json::value limits = control_get("/rate_limits");
  const auto figure = [](const json::value& where, std::initializer_list<std::string_view> path) -> std::int64_t {
    const json::value* at = &where;
    for (const std::string_view step : path) {
      const auto* object = at->if_object();
      at = object != nullptr ? object->if_contains(step) : nullptr;
      if (at == nullptr) return 0;
    }
    return at->to_number<std::int64_t>();
  };
  const auto send_faults = [&](std::string_view kind) { return figure(faults, {"endpoints", kSendApi, kind}); };
  const auto kit = [&](std::string_view counted) { return figure(limits, {"clients", kKitClient, counted}); };
  // Webhook deliveries of chat messages the platform had to attempt again (the App did not answer
  // 2xx in time): a retried delivery can reach the kit after later messages.
  const json::value log = control_get("/deliveries?app_id=" + std::string(kAppId));
  const auto redelivered = std::ranges::count_if(log.at("data").as_array(), [](const json::value& attempt) {
    return attempt.at("kind") == "event" && attempt.at("attempt").to_number<int>() > 1;
  });
  const std::int64_t lost_responses = send_faults("processed_timeouts") + send_faults("processed_drops");
  const std::int64_t lost_successes = send_faults("lost_successes");

  std::cout << "platform faults: messages=" << sent_.size() << ", replies expected=" << ledger.expected
            << ", delivered=" << ledger.delivered << ", lost=" << ledger.expected - ledger.delivered
            << ", dup=" << ledger.duplicates << ", lost-response faults=" << lost_responses
            << " (of sends processed: " << lost_successes << "), order violations=" << ledger.order_violations
            << ", webhook redeliveries=" << redelivered
            << ", delivered out of order by the platform=" << ledger.delivered_out_of_order
            << ", calls in back-off=" << kit("calls_in_backoff") << ", throttled responses=" << kit("backoffs_told")
            << ", errors=" << send_faults("errors") << ", timeouts=" << send_faults("timeouts")
            << ", drops=" << send_faults("drops") << ", kit calls=" << kit("calls") << ", stuck=" << stuck
            << ", elapsed=" << elapsed << "s" << std::endl;

  EXPECT_EQ(ledger.delivered, ledger.expected) << "lost replies";
  EXPECT_EQ(ledger.unexpected, 0);
  EXPECT_EQ(ledger.order_violations, 0);
  EXPECT_LE(ledger.duplicates, lost_successes) << "a reply doubled without a lost answer to explain it";
  EXPECT_EQ(kit("calls_in_backoff"), 0) << "the kit called inside a back-off window it was told";
  EXPECT_EQ(stuck, 0) << "replies left in the outbox, events in the inbox or dead letters";
  // The run exercised what it claims to: every kind of fault, and throttling of the kit.
  EXPECT_GT(send_faults("errors"), 0);
  EXPECT_GT(send_faults("timeouts") + send_faults("drops"), 0);
  EXPECT_GT(lost_responses, 0);
  EXPECT_GT(kit("backoffs_told"), 0) << "the kit was never throttled";
}

}  // namespace
}  // namespace wik
