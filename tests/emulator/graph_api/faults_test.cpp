// Conformance of rate limiting (§11.2: usage headers, code 4 / 613 with
// estimated_time_to_regain_access) and of the injectable faults of faults.h (error code 2,
// latency, timeout and dropped connections), per endpoint pattern.
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

}  // namespace
}  // namespace wik::emulator::testing
