// Conformance of rate limiting (§11.2: usage headers, code 4 / 613 with
// estimated_time_to_regain_access) and of the injectable faults of faults.h (error code 2,
// latency, timeout and dropped connections, losing the request or, once it was processed, its
// answer), per endpoint pattern; and of the records tests read: faults drawn, back-off windows told
// and calls inside them.
#include <boost/json/parse.hpp>

#include <chrono>

#include "graph_fixture.h"

namespace wik::emulator::testing {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;
using boost::beast::http::verb;

class FaultsTest : public GraphFixture {
 protected:
  // A Send API body: a text to the first seeded person.
  json::object text_to_person() {
    return json::object{{"recipient", {{"id", scoped(1)}}}, {"message", {{"text", "Hello"}}}};
  }

  static std::int64_t usage_of(const Answer& answer) {
    return json::parse(answer.header("X-App-Usage")).at("call_count").to_number<std::int64_t>();
  }
};

TEST_F(FaultsTest, Section11_2_UsageHeadersAndThrottlingOfInstallTokens) {
  limits_->configure({.calls = 4, .window = std::chrono::hours(1)});
  std::vector<std::int64_t> usage;
  for (int i = 0; i < 4; ++i) {
    const Answer answer = get("/me");
    ASSERT_EQ(answer.status, 200u) << answer.raw;
    usage.push_back(usage_of(answer));
  }
  EXPECT_EQ(usage, (std::vector<std::int64_t>{25, 50, 75, 100}));
  const Answer throttled = get("/community");
  EXPECT_TRUE(IsGraphError(throttled, 400, "OAuthException", 613));
  const json::value business = json::parse(throttled.header("X-Business-Use-Case-Usage"));
  const json::value& entry = business.at(acme_community_.id).at(0);
  EXPECT_EQ(entry.at("estimated_time_to_regain_access"), 60);
  EXPECT_EQ(entry.at("type"), "pages");
  // Other communities have their own budget; the throttled one recovers when the window moves on.
  EXPECT_EQ(get("/me", globex_).status, 200u);
  clock_.advance(std::chrono::minutes(30));
  EXPECT_EQ(json::parse(get("/me").header("X-Business-Use-Case-Usage")).at(acme_community_.id).at(0)
                .at("estimated_time_to_regain_access"),
            30);
  clock_.advance(std::chrono::minutes(30));
  EXPECT_EQ(get("/me").status, 200u);
}

TEST_F(FaultsTest, Section11_2_AppTokenCallsAreThrottledWithCode4) {
  limits_->configure({.calls = 1, .window = std::chrono::hours(1)});
  const std::string target = "/app/subscriptions?access_token=" + url_encode(app_token_.token);
  EXPECT_EQ(send(verb::get, target).status, 200u);
  const Answer throttled = send(verb::get, target);
  EXPECT_TRUE(IsGraphError(throttled, 400, "OAuthException", 4));
  EXPECT_FALSE(throttled.header("X-Business-Use-Case-Usage").empty());
}

TEST_F(FaultsTest, Faults_ErrorRateGivesCode2OnThatEndpointOnly) {
  faults_.set("/community", {.error_rate = 1.0});
  const Answer failed = get("/company");
  EXPECT_TRUE(IsGraphError(failed, 500, "OAuthException", 2));
  EXPECT_EQ(get("/me").status, 200u);
  faults_.set("/{id}/feed", {.error_rate = 1.0});
  EXPECT_TRUE(IsGraphError(get("/" + acme_group_.id + "/feed"), 500, "OAuthException", 2));
  faults_.clear();
  EXPECT_EQ(get("/company").status, 200u);
}

TEST_F(FaultsTest, Faults_DropClosesTheConnectionWithoutAnAnswer) {
  faults_.set("/me", {.drop_rate = 1.0});
  EXPECT_FALSE(get("/me").answered);
  EXPECT_EQ(get("/community").status, 200u);
}

TEST_F(FaultsTest, Faults_TimeoutHoldsThenClosesWithoutAnAnswer) {
  faults_.set("*", {.timeout_rate = 1.0, .hang = 200ms});
  const auto started = std::chrono::steady_clock::now();
  EXPECT_FALSE(get("/me").answered);
  EXPECT_GE(std::chrono::steady_clock::now() - started, 200ms);
}

TEST_F(FaultsTest, Faults_LatencyDelaysTheAnswer) {
  faults_.set("/me", {.latency = 150ms});
  const auto started = std::chrono::steady_clock::now();
  EXPECT_EQ(get("/me").status, 200u);
  EXPECT_GE(std::chrono::steady_clock::now() - started, 150ms);
}

TEST_F(FaultsTest, Faults_RatesAreDrawnPerRequest) {
  faults_.set("/me", {.error_rate = 0.5});
  int failures = 0;
  for (int i = 0; i < 40; ++i) failures += get("/me").status == 500 ? 1 : 0;
  EXPECT_GT(failures, 5);
  EXPECT_LT(failures, 35);
}

TEST_F(FaultsTest, Faults_TimeoutsAndDropsLoseTheRequestBeforeItIsProcessed) {
  faults_.set("/me/messages", {.timeout_rate = 1.0, .hang = 50ms});
  EXPECT_FALSE(post_json("/me/messages", text_to_person()).answered);
  faults_.set("/me/messages", {.drop_rate = 1.0});
  EXPECT_FALSE(post_json("/me/messages", text_to_person()).answered);
  EXPECT_TRUE(state_->bot_messages(std::string(kAppId)).empty()) << "nothing was sent";
  const FaultCounts counts = faults_.counts().at("/me/messages");
  EXPECT_EQ(counts.timeouts, 1u);
  EXPECT_EQ(counts.drops, 1u);
  EXPECT_EQ(counts.lost_successes, 0u);
}

TEST_F(FaultsTest, Faults_ProcessedFaultsSendTheMessageThenLoseTheAnswer) {
  faults_.set("/me/messages", {.hang = 100ms, .processed_timeout_rate = 1.0});
  const auto started = std::chrono::steady_clock::now();
  EXPECT_FALSE(post_json("/me/messages", text_to_person()).answered);
  EXPECT_GE(std::chrono::steady_clock::now() - started, 100ms) << "held for the hang";
  faults_.set("/me/messages", {.processed_drop_rate = 1.0});
  EXPECT_FALSE(post_json("/me/messages", text_to_person()).answered);
  EXPECT_EQ(state_->bot_messages(std::string(kAppId)).size(), 2u) << "both were sent";
  // A call that failed loses its answer too, but nothing happened that a retry would repeat.
  EXPECT_FALSE(post_json("/me/messages", json::object{{"recipient", {{"id", scoped(1)}}}}).answered);
  const FaultCounts counts = faults_.counts().at("/me/messages");
  EXPECT_EQ(counts.processed_timeouts, 1u);
  EXPECT_EQ(counts.processed_drops, 2u);
  EXPECT_EQ(counts.lost_successes, 2u);
  EXPECT_EQ(counts.errors + counts.timeouts + counts.drops, 0u);
}

TEST_F(FaultsTest, Section11_2_CallsInsideABackOffWindowToldAreCountedPerClient) {
  limits_->configure({.calls = 1, .window = std::chrono::hours(1)});
  const auto get_as = [&](const std::string& client, const Credentials& credentials) {
    return send(verb::get, "/me?" + signed_query(credentials), {}, {}, {{"User-Agent", client}});
  };
  EXPECT_EQ(get_as("kit", acme_).status, 200u);
  EXPECT_TRUE(IsGraphError(get_as("kit", acme_), 400, "OAuthException", 613));  // told: 60 minutes
  EXPECT_EQ(get_as("other", acme_).status, 400u);                             // never told before
  EXPECT_EQ(get_as("kit", globex_).status, 200u);                             // another community
  clock_.advance(std::chrono::minutes(59));
  EXPECT_EQ(get_as("kit", acme_).status, 400u);  // inside the window: counted, and told 60 minutes more
  clock_.advance(std::chrono::minutes(60));
  EXPECT_EQ(get_as("kit", acme_).status, 200u);  // the window has closed
  const auto counts = limits_->backoff_counts();
  EXPECT_EQ(counts.at("kit").calls, 5u);
  EXPECT_EQ(counts.at("kit").backoffs_told, 2u);
  EXPECT_EQ(counts.at("kit").calls_in_backoff, 1u);
  EXPECT_EQ(counts.at("other").backoffs_told, 1u);
  EXPECT_EQ(counts.at("other").calls_in_backoff, 0u);
}

TEST_F(FaultsTest, Section11_2_ClientsCountedApartAreBoundedWhateverTheUserAgentsSent) {
  const auto get_as = [&](const std::string& client) {
    return send(verb::get, "/me?" + signed_query(acme_), {}, {}, {{"User-Agent", client}});
  };
  const std::string long_agent(4096, 'a');
  EXPECT_EQ(get_as(long_agent).status, 200u);
  for (std::size_t i = 0; i < RateLimits::kMaxTrackedClients + 50; ++i) {
    EXPECT_EQ(get_as("agent-" + std::to_string(i)).status, 200u);
  }
  const auto counts = limits_->backoff_counts();
  EXPECT_EQ(counts.size(), RateLimits::kMaxTrackedClients + 1);  // the tracked ones, and the rest together
  EXPECT_EQ(counts.at(std::string(RateLimits::kMaxClientLabel, 'a')).calls, 1u);
  EXPECT_EQ(counts.at(std::string(RateLimits::kOtherClients)).calls, 51u);
}

TEST_F(FaultsTest, Section11_2_AThrottlingAnswerThatIsLostTellsNothing) {
  limits_->configure({.calls = 1, .window = std::chrono::hours(1)});
  EXPECT_EQ(get("/me").status, 200u);
  faults_.set("/me", {.processed_drop_rate = 1.0});
  EXPECT_FALSE(get("/me").answered);
  faults_.clear();
  EXPECT_TRUE(IsGraphError(get("/me"), 400, "OAuthException", 613));  // not inside a window: none was told
  const BackoffCounts counts = limits_->backoff_counts().at("wik");
  EXPECT_EQ(counts.backoffs_told, 1u);
  EXPECT_EQ(counts.calls_in_backoff, 0u);
  EXPECT_EQ(faults_.counts().at("/me").lost_successes, 0u);
}

}  // namespace
}  // namespace wik::emulator::testing
