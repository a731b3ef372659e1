// GraphClient against a scripted Graph server on loopback: signing (invariant 3), token placement,
// error mapping, rate-limit back-off, retries and their budget, paging and the code exchange.
#include "graph/graph_client.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <spdlog/spdlog.h>

#include <boost/asio/io_context.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "core/appsecret_proof.h"
#include "graph/graph_error.h"
#include "support/fake_clock.h"
#include "support/result_matchers.h"
#include "support/run_coroutine.h"
#include "support/scripted_graph.h"

namespace wik::graph {
namespace {

namespace asio = boost::asio;
using boost::beast::http::status;
using boost::beast::http::verb;
using ::testing::HasSubstr;
using ::testing::Not;
using wik::testing::HasError;
using wik::testing::IsOk;
using wik::testing::run_coroutine;
using wik::testing::Scripted;
using wik::testing::ScriptedGraph;

constexpr const char* kSecret = "0123456789abcdef0123456789abcdef";
constexpr const char* kToken = "WPTOKEN-EXAMPLE-1";

// A repeatable "random" source: every draw is the same bytes.
class FixedRandom final : public core::RandomSource {
 public:
  core::Bytes bytes(std::size_t count) override { return core::Bytes(count, '\x01'); }
};

std::string error_body(int code, std::optional<int> subcode = std::nullopt, std::string type = "OAuthException") {
  boost::json::object error{{"message", "scripted"}, {"type", type}, {"code", code}, {"fbtrace_id", "T"}};
  if (subcode) error["error_subcode"] = *subcode;
  return boost::json::serialize(boost::json::object{{"error", error}});
}

class GraphClientTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { spdlog::set_level(spdlog::level::warn); }

  void SetUp() override {
    http::ClientOptions client_options;
    client_options.allow_plain_http = true;
    client_options.read_timeout = std::chrono::milliseconds(500);
    http_ = std::move(http::Client::create(client_options)).value();
    make_graph({});
  }

  void make_graph(GraphOptions options) {
    options.base_url = graph_host_.url();
    options.retry.base_delay = std::chrono::milliseconds(1);
    options.retry.max_delay = std::chrono::milliseconds(5);
    graph_ = std::make_unique<GraphClient>(*http_, options, AppCredentials{"1111222233334444", Secret(kSecret)},
                                           clock_, random_);
  }

  Result<boost::json::value> call(GraphRequest request) {
    return run_coroutine(io_, graph_->call(install_, std::move(request)));
  }

  asio::io_context io_;
  testing::FakeClock clock_{1764370000};
  FixedRandom random_;
  ScriptedGraph graph_host_;
  std::unique_ptr<http::Client> http_;
  std::unique_ptr<GraphClient> graph_;
  InstallAuth install_{"100042", AccessToken(kToken)};
};

TEST_F(GraphClientTest, SignsEveryInstallCallWithAFreshProofAndKeepsTheTokenOutOfTheUrl) {
  graph_host_.script({.body = R"({"id":"100042","name":"Acme"})"});
  const auto community = call({.path = "/community", .query = {{"fields", "id,name"}}});
  ASSERT_THAT(community, IsOk());
  EXPECT_EQ(community->as_object().at("name"), "Acme");

  clock_.advance(std::chrono::seconds(42));
  ASSERT_THAT(call({.path = "/me"}), IsOk());

  const auto received = graph_host_.received();
  ASSERT_EQ(received.size(), 2u);
  const auto first = core::make_appsecret_proof(Secret(kSecret), AccessToken(kToken), 1764370000);
  const auto second = core::make_appsecret_proof(Secret(kSecret), AccessToken(kToken), 1764370042);
  EXPECT_EQ(received[0].target, "/v3.2/community?fields=id%2Cname&appsecret_proof=" + first.proof +
                                    "&appsecret_time=1764370000");
  EXPECT_EQ(received[1].target, "/v3.2/me?appsecret_proof=" + second.proof + "&appsecret_time=1764370042");
  for (const auto& request : received) {
    EXPECT_EQ(request.authorization, std::string("Bearer ") + kToken);
    EXPECT_THAT(request.target, Not(HasSubstr(kToken)));
  }
}

TEST_F(GraphClientTest, AppCallsCarryTheAppTokenAndNoProof) {
  graph_host_.script({.body = R"({"data":[]})"});
  ASSERT_THAT(run_coroutine(io_, graph_->call_as_app({.path = "/app/subscriptions"})), IsOk());
  const auto received = graph_host_.received();
  ASSERT_EQ(received.size(), 1u);
  EXPECT_EQ(received[0].target, "/v3.2/app/subscriptions");
  EXPECT_EQ(received[0].authorization, std::string("Bearer 1111222233334444|") + kSecret);
}

TEST_F(GraphClientTest, SendsJsonBodiesAndEncodesParameters) {
  graph_host_.script({.body = R"({"recipient_id":"7","message_id":"m_1"})"});
  const boost::json::value message = {{"recipient", {{"id", "7"}}}, {"message", {{"text", "héllo & bye"}}}};
  ASSERT_THAT(call({.method = verb::post, .path = "/me/messages", .query = {{"q", "a b&c"}}, .body = message}), IsOk());
  const auto received = graph_host_.received();
  ASSERT_EQ(received.size(), 1u);
  EXPECT_EQ(received[0].method, "POST");
  EXPECT_THAT(received[0].target, HasSubstr("/v3.2/me/messages?q=a%20b%26c&"));
  EXPECT_EQ(boost::json::parse(received[0].body), message);
}

TEST_F(GraphClientTest, RefusesPathsThatClimbOrHaveEmptySegmentsBeforeSendingAnything) {
  for (const char* path : {"", "me", "/", "/../app/subscriptions", "/123/../me/messages", "/123/./x", "//me",
                           "/me/", "/me//messages"}) {
    EXPECT_THAT(call({.path = path}), HasError(ErrorCode::kInvalidArgument)) << path;
  }
  EXPECT_TRUE(graph_host_.received().empty());
  graph_host_.script({.body = R"({"id":"1"})"});
  EXPECT_THAT(call({.path = "/123_456/comments"}), IsOk());
}

TEST_F(GraphClientTest, MapsThePlatformsErrorsToErrorCodes) {
  const struct {
    int code;
    std::optional<int> subcode;
    ErrorCode expected;
  } cases[] = {
      {190, 458, ErrorCode::kUnauthenticated}, {100, 33, ErrorCode::kNotFound},
      {100, std::nullopt, ErrorCode::kInvalidArgument}, {10, std::nullopt, ErrorCode::kPermissionDenied},
      {200, std::nullopt, ErrorCode::kPermissionDenied},
  };
  for (const auto& c : cases) {
    graph_host_.script({.code = status::bad_request, .body = error_body(c.code, c.subcode)});
    const auto result = call({.path = "/community"});
    EXPECT_THAT(result, HasError(c.expected, HasSubstr("graph error " + std::to_string(c.code)))) << c.code;
    // The platform's message goes to the detail only.
    if (!result.ok()) {
      EXPECT_THAT(result.error().reason(), Not(HasSubstr("scripted")));
    }
  }
  EXPECT_EQ(graph_host_.received().size(), std::size(cases));
}

TEST_F(GraphClientTest, RetriesTransientFailuresOfReadsWithANewProofEachTime) {
  graph_host_.script({.code = status::internal_server_error, .body = error_body(2)});
  graph_host_.script({.code = status::service_unavailable, .body = "<html>busy</html>"});
  graph_host_.script({.body = R"({"id":"100042"})"});
  ASSERT_THAT(call({.path = "/community"}), IsOk());
  EXPECT_EQ(graph_host_.received().size(), 3u);
}

TEST_F(GraphClientTest, RetriesAPostOnlyWhenThePlatformSaysItFailed) {
  graph_host_.script({.code = status::internal_server_error, .body = error_body(2)});
  graph_host_.script({.body = R"({"message_id":"m_1"})"});
  ASSERT_THAT(call({.method = verb::post, .path = "/me/messages", .body = boost::json::object{}}), IsOk());
  EXPECT_EQ(graph_host_.received().size(), 2u);

  // A timed-out POST may have been applied: it is returned to the caller, not repeated.
  graph_host_.script({.body = R"({"message_id":"m_2"})", .delay = std::chrono::milliseconds(1500)});
  EXPECT_THAT(call({.method = verb::post, .path = "/me/messages", .body = boost::json::object{}}),
              HasError(ErrorCode::kTimeout));
  EXPECT_EQ(graph_host_.received().size(), 3u);
}

TEST_F(GraphClientTest, GivesUpAfterMaxAttempts) {
  for (int i = 0; i < 6; ++i) graph_host_.script({.code = status::internal_server_error, .body = error_body(1)});
  EXPECT_THAT(call({.path = "/community"}), HasError(ErrorCode::kUnavailable));
  EXPECT_EQ(graph_host_.received().size(), 4u);
}

TEST_F(GraphClientTest, TheRetryBudgetCapsRetriesUnderAnOutage) {
  GraphOptions options;
  options.retry.budget_reserve = 2;
  options.retry.budget_ratio = 0.1;
  make_graph(options);
  for (int i = 0; i < 40; ++i) graph_host_.script({.code = status::internal_server_error, .body = error_body(2)});
  for (int i = 0; i < 10; ++i) EXPECT_THAT(call({.path = "/community"}), HasError(ErrorCode::kUnavailable));
  // 10 first attempts; retries limited to the reserve of 2 plus 10 × 0.1 earned.
  EXPECT_LE(graph_host_.received().size(), 10u + 3u);
  EXPECT_GE(graph_host_.received().size(), 10u + 2u);
}

TEST_F(GraphClientTest, ThrottlingClosesTheWindowAndNoCallIsMadeInsideIt) {
  graph_host_.script({.code = status::bad_request,
                      .body = error_body(613),
                      .headers = {{"X-Business-Use-Case-Usage",
                                   R"({"100042":[{"type":"pages","call_count":100,"estimated_time_to_regain_access":5}]})"}}});
  EXPECT_THAT(call({.path = "/community"}), HasError(ErrorCode::kRateLimited));
  EXPECT_THAT(call({.path = "/community"}), HasError(ErrorCode::kRateLimited, HasSubstr("rate limit is in force")));
  EXPECT_EQ(graph_host_.received().size(), 1u);

  // Another community's budget is not affected.
  InstallAuth other{"200042", AccessToken("OTHER")};
  EXPECT_THAT(run_coroutine(io_, graph_->call(other, {.path = "/community"})), IsOk());

  clock_.advance(std::chrono::minutes(5) + std::chrono::seconds(1));
  EXPECT_THAT(call({.path = "/community"}), IsOk());
  EXPECT_EQ(graph_host_.received().size(), 3u);
}

TEST_F(GraphClientTest, FollowsCursorsNeverTheNextUrl) {
  graph_host_.script({.body = R"({"data":[{"id":"1"},{"id":"2"}],
      "paging":{"cursors":{"after":"CUR1"},"next":"http://elsewhere.invalid/steal"}})"});
  graph_host_.script({.body = R"({"data":[{"id":"3"}],"paging":{"cursors":{"after":"CUR2"}}})"});
  const auto members = run_coroutine(io_, graph_->get_all(install_, {.path = "/community/members",
                                                                     .query = {{"limit", "2"}}}));
  ASSERT_THAT(members, IsOk());
  ASSERT_EQ(members->size(), 3u);
  EXPECT_EQ((*members)[2].as_object().at("id"), "3");
  const auto received = graph_host_.received();
  ASSERT_EQ(received.size(), 2u);
  EXPECT_THAT(received[1].target, HasSubstr("/v3.2/community/members?limit=2&after=CUR1&appsecret_proof="));
}

TEST_F(GraphClientTest, ExchangesACodeWithAFormPostAndNamesEachRefusal) {
  graph_host_.script({.body = R"({"access_token":"NEW-TOKEN","token_type":"bearer"})"});
  const auto token = run_coroutine(io_, graph_->exchange_code("CODE+1", "https://vendor.example/install?x=1"));
  ASSERT_THAT(token, IsOk());
  EXPECT_EQ(token->expose(), "NEW-TOKEN");
  const auto received = graph_host_.received();
  ASSERT_EQ(received.size(), 1u);
  EXPECT_EQ(received[0].method, "POST");
  EXPECT_EQ(received[0].target, "/v3.2/oauth/access_token");
  EXPECT_EQ(received[0].body, std::string("client_id=1111222233334444&client_secret=") + kSecret +
                                  "&redirect_uri=https%3A%2F%2Fvendor.example%2Finstall%3Fx%3D1&code=CODE%2B1");

  const struct {
    int code;
    std::optional<int> subcode;
    ErrorCode expected;
  } refusals[] = {{100, 36007, ErrorCode::kExpired}, {100, 36009, ErrorCode::kConflict},
                  {100, 36008, ErrorCode::kInvalidArgument}, {1, std::nullopt, ErrorCode::kConfig},
                  {101, std::nullopt, ErrorCode::kConfig}};
  for (const auto& refusal : refusals) {
    graph_host_.script({.code = status::bad_request, .body = error_body(refusal.code, refusal.subcode)});
    EXPECT_THAT(run_coroutine(io_, graph_->exchange_code("C", "https://vendor.example/install")),
                HasError(refusal.expected))
        << refusal.code;
  }
  graph_host_.script({.body = R"({"token_type":"bearer"})"});
  EXPECT_THAT(run_coroutine(io_, graph_->exchange_code("C", "https://vendor.example/install")),
              HasError(ErrorCode::kMalformed));
}

TEST(ParseUsageTest, ReadsTheHighestFigureAndTheRegainTime) {
  const auto usage = parse_usage(R"({"call_count":28,"total_time":91,"total_cputime":25})", std::nullopt,
                                 R"({"1":[{"type":"pages","call_count":40,"estimated_time_to_regain_access":3}]})");
  EXPECT_EQ(usage.max_percent, 91);
  EXPECT_EQ(usage.regain_access, std::chrono::minutes(3));
  const auto hostile = parse_usage("not json", R"({"call_count":"x"})", R"({"1":"nope","2":[7,{"call_count":1e300}]})");
  EXPECT_EQ(hostile.max_percent, 1000);
  EXPECT_FALSE(hostile.regain_access);
}

TEST(RateGovernorTest, PacesCallsAboveEightyPercent) {
  testing::FakeClock clock;
  RateGovernor governor(clock, {.max_pacing = std::chrono::milliseconds(2000)});
  governor.after_call("c", {.max_percent = 90}, false);
  EXPECT_EQ(governor.before_call("c").pace, std::chrono::milliseconds(1000));
  EXPECT_FALSE(governor.before_call("c").blocked_until);
  governor.after_call("c", {.max_percent = 10}, false);
  EXPECT_EQ(governor.before_call("c").pace, std::chrono::milliseconds(0));
}

TEST(RateGovernorTest, BacksOffExponentiallyWithoutARegainTime) {
  testing::FakeClock clock;
  RateGovernor governor(clock);
  governor.after_call("c", {}, true);
  EXPECT_EQ(*governor.before_call("c").blocked_until, clock.now() + std::chrono::seconds(60));
  governor.after_call("c", {}, true);
  EXPECT_EQ(*governor.before_call("c").blocked_until, clock.now() + std::chrono::seconds(120));
}

TEST(GraphErrorTest, ParsesOnlyTheEnvelope) {
  EXPECT_FALSE(parse_graph_error(R"({"data":[]})"));
  EXPECT_FALSE(parse_graph_error("<html>"));
  const auto body = parse_graph_error(error_body(190, 463));
  ASSERT_TRUE(body);
  EXPECT_EQ(body->code, 190);
  EXPECT_EQ(body->subcode, 463);
  EXPECT_THAT(Result<void>(graph_error(502, std::nullopt)), HasError(ErrorCode::kUnavailable));
  EXPECT_THAT(Result<void>(graph_error(429, std::nullopt)), HasError(ErrorCode::kRateLimited));
}

}  // namespace
}  // namespace wik::graph
