// The app's webhook subscriptions: the plan (which objects to add, update, remove) as a pure
// function, and the sync against a scripted Graph host: what each change sends, in what order,
// where the verify token travels, the read-back, and how each failure is reported.
#include "graph/subscriptions.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <spdlog/spdlog.h>

#include <boost/asio/io_context.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "support/fake_clock.h"
#include "support/result_matchers.h"
#include "support/run_coroutine.h"
#include "support/scripted_graph.h"

namespace wik::graph {
namespace {

namespace json = boost::json;
using boost::beast::http::status;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using wik::testing::HasError;
using wik::testing::IsOk;
using wik::testing::run_coroutine;
using wik::testing::Scripted;
using wik::testing::ScriptedGraph;
using Kind = SubscriptionChange::Kind;

constexpr const char* kAppId = "1111222233334444";
constexpr const char* kSecret = "0123456789abcdef0123456789abcdef";
constexpr const char* kVerifyToken = "VERIFY-TOKEN-CANARY-0042";
constexpr const char* kCallback = "https://vendor.example/workplace/webhook";
constexpr const char* kPath = "/v3.2/1111222233334444/subscriptions";

AppSubscription subscribed(std::string object, std::vector<std::string> fields, std::string callback = kCallback) {
  return {.object = std::move(object), .callback_url = std::move(callback), .fields = std::move(fields)};
}

TEST(PlanSubscriptionChangesTest, NothingToDoWhenTheyMatch) {
  EXPECT_THAT(plan_subscription_changes({}, {}, kCallback), IsEmpty());
  EXPECT_THAT(plan_subscription_changes({subscribed("page", {"mention", "messages"})},
                                        {{"page", {"messages", "mention", "messages"}}}, kCallback),
              IsEmpty());
}

TEST(PlanSubscriptionChangesTest, AddsUpdatesAndRemovesInObjectOrder) {
  const auto changes = plan_subscription_changes(
      {subscribed("user", {"events"}), subscribed("group", {"comments", "posts"}),
       subscribed("link", {"preview"}, "https://old.example/hook"),
       subscribed("workplace_security", {"admin_activity"})},
      {{"page", {"messages", "mention"}}, {"group", {"posts"}}, {"link", {"preview"}},
       {"workplace_security", {"admin_activity"}}},
      kCallback);
  ASSERT_EQ(changes.size(), 4u);
  EXPECT_EQ(changes[0].object, "group");
  EXPECT_EQ(changes[0].kind, Kind::kUpdate);
  EXPECT_THAT(changes[0].fields_before, ElementsAre("comments", "posts"));
  EXPECT_THAT(changes[0].fields_after, ElementsAre("posts"));
  EXPECT_EQ(changes[1].object, "link");
  EXPECT_EQ(changes[1].kind, Kind::kUpdate);
  EXPECT_EQ(changes[1].callback_before, "https://old.example/hook");
  EXPECT_EQ(changes[1].callback_after, kCallback);
  EXPECT_EQ(changes[1].fields_before, changes[1].fields_after);
  EXPECT_EQ(changes[2].object, "page");
  EXPECT_EQ(changes[2].kind, Kind::kAdd);
  EXPECT_THAT(changes[2].fields_before, IsEmpty());
  EXPECT_THAT(changes[2].fields_after, ElementsAre("mention", "messages"));
  EXPECT_EQ(changes[2].callback_before, "");
  EXPECT_EQ(changes[3].object, "user");
  EXPECT_EQ(changes[3].kind, Kind::kRemove);
  EXPECT_THAT(changes[3].fields_before, ElementsAre("events"));
  EXPECT_THAT(changes[3].fields_after, IsEmpty());
  EXPECT_EQ(changes[3].callback_after, "");
}

TEST(PlanSubscriptionChangesTest, AnObjectListedTwiceGetsBothListsAndOneWithoutFieldsIsNotWanted) {
  const auto changes = plan_subscription_changes(
      {subscribed("group", {"posts"})}, {{"page", {"messages"}}, {"page", {"mention"}}, {"group", {}}}, kCallback);
  ASSERT_EQ(changes.size(), 2u);
  EXPECT_EQ(changes[0].kind, Kind::kRemove);
  EXPECT_EQ(changes[0].object, "group");
  EXPECT_EQ(changes[1].kind, Kind::kAdd);
  EXPECT_THAT(changes[1].fields_after, ElementsAre("mention", "messages"));
}

std::string list_body(const std::string& items) { return R"({"data":[)" + items + "]}"; }

// Returns one subscription as the platform lists it (PROTOCOL.md §7.2).
std::string item(const std::string& object, const std::vector<std::string>& fields,
                 const std::string& callback = kCallback) {
  json::array names;
  for (const auto& field : fields) names.push_back(json::object{{"name", field}, {"version", "v3.2"}});
  return json::serialize(
      json::object{{"object", object}, {"callback_url", callback}, {"active", true}, {"fields", names}});
}

constexpr const char* kSuccess = R"({"success":true})";

class SyncSubscriptionsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { spdlog::set_level(spdlog::level::warn); }

  void SetUp() override {
    http_ = std::move(http::Client::create({.allow_plain_http = true})).value();
    GraphOptions options{.base_url = host_.url()};
    options.retry.base_delay = std::chrono::milliseconds(1);
    options.retry.max_delay = std::chrono::milliseconds(5);
    graph_ = std::make_unique<GraphClient>(*http_, options, AppCredentials{kAppId, Secret(kSecret)}, clock_, random_);
  }

  Result<std::vector<SubscriptionChange>> sync(std::vector<WantedSubscription> wanted, bool apply = true,
                                               std::string callback = kCallback, std::string token = kVerifyToken) {
    const Secret verify_token(std::move(token));
    return run_coroutine(io_, sync_subscriptions(*graph_, std::move(callback), verify_token, std::move(wanted), apply));
  }

  // Returns "METHOD target" of every request the host received.
  std::vector<std::string> requests() const {
    std::vector<std::string> lines;
    for (const auto& request : host_.received()) lines.push_back(request.method + " " + request.target);
    return lines;
  }

  boost::asio::io_context io_;
  testing::FakeClock clock_;
  core::SecureRandomSource random_;
  ScriptedGraph host_;
  std::unique_ptr<http::Client> http_;
  std::unique_ptr<GraphClient> graph_;
};

TEST_F(SyncSubscriptionsTest, ListsAsTheAppInObjectOrder) {
  host_.script({.body = list_body(item("page", {"messages", "mention"}) + "," + item("group", {"posts"}))});
  const auto listed = run_coroutine(io_, list_subscriptions(*graph_));
  ASSERT_THAT(listed, IsOk());
  ASSERT_EQ(listed->size(), 2u);
  EXPECT_EQ((*listed)[0].object, "group");
  EXPECT_EQ((*listed)[1].object, "page");
  EXPECT_THAT((*listed)[1].fields, ElementsAre("mention", "messages"));
  EXPECT_EQ((*listed)[1].callback_url, kCallback);
  EXPECT_TRUE((*listed)[1].active);
  const auto received = host_.received();
  ASSERT_EQ(received.size(), 1u);
  EXPECT_EQ(received[0].target, kPath);
  EXPECT_EQ(received[0].authorization, std::string("Bearer ") + kAppId + "|" + kSecret);
}

TEST_F(SyncSubscriptionsTest, AddsWithTheVerifyTokenInTheBodyOnlyThenReadsBack) {
  host_.script({.body = list_body("")});
  host_.script({.body = kSuccess});
  host_.script({.body = list_body(item("page", {"mention", "messages"}))});
  const auto changes = sync({{"page", {"messages", "mention"}}});
  ASSERT_THAT(changes, IsOk());
  ASSERT_EQ(changes->size(), 1u);
  EXPECT_EQ((*changes)[0].kind, Kind::kAdd);
  EXPECT_THAT(requests(), ElementsAre(std::string("GET ") + kPath, std::string("POST ") + kPath,
                                      std::string("GET ") + kPath));
  const auto post = host_.received()[1];
  EXPECT_EQ(json::parse(post.body), json::parse(std::string(R"({"object":"page","callback_url":")") + kCallback +
                                                R"(","fields":"mention,messages","verify_token":")" + kVerifyToken +
                                                R"(","include_values":true})"));
  for (const auto& request : host_.received()) EXPECT_THAT(request.target, Not(HasSubstr(kVerifyToken)));
}

TEST_F(SyncSubscriptionsTest, AnUpdatePostsTheNewFieldsBeforeDeletingTheDroppedOnes) {
  host_.script({.body = list_body(item("group", {"comments", "membership"}))});
  host_.script({.body = kSuccess});
  host_.script({.body = kSuccess});
  host_.script({.body = list_body(item("group", {"comments", "posts"}))});
  ASSERT_THAT(sync({{"group", {"comments", "posts"}}}), IsOk());
  EXPECT_THAT(requests(), ElementsAre(std::string("GET ") + kPath, std::string("POST ") + kPath,
                                      std::string("DELETE ") + kPath + "?object=group&fields=membership",
                                      std::string("GET ") + kPath));
  EXPECT_EQ(json::parse(host_.received()[1].body).at("fields"), "comments,posts");
}

TEST_F(SyncSubscriptionsTest, DroppingFieldsOnlyDeletesThemAndRemovingAnObjectDeletesIt) {
  host_.script({.body = list_body(item("page", {"mention", "messages"}) + "," + item("user", {"events"}))});
  host_.script({.body = kSuccess});
  host_.script({.body = kSuccess});
  host_.script({.body = list_body(item("page", {"messages"}))});
  const auto changes = sync({{"page", {"messages"}}});
  ASSERT_THAT(changes, IsOk());
  ASSERT_EQ(changes->size(), 2u);
  EXPECT_EQ((*changes)[1].kind, Kind::kRemove);
  EXPECT_THAT(requests(), ElementsAre(std::string("GET ") + kPath,
                                      std::string("DELETE ") + kPath + "?object=page&fields=mention",
                                      std::string("DELETE ") + kPath + "?object=user", std::string("GET ") + kPath));
}

TEST_F(SyncSubscriptionsTest, WithoutApplyItOnlyReads) {
  host_.script({.body = list_body(item("user", {"events"}))});
  const auto changes = sync({{"page", {"messages"}}}, false);
  ASSERT_THAT(changes, IsOk());
  EXPECT_EQ(changes->size(), 2u);
  EXPECT_THAT(requests(), ElementsAre(std::string("GET ") + kPath));
}

TEST_F(SyncSubscriptionsTest, NothingToChangeMeansNoWrite) {
  host_.script({.body = list_body(item("page", {"messages"}))});
  const auto changes = sync({{"page", {"messages"}}});
  ASSERT_THAT(changes, IsOk());
  EXPECT_THAT(*changes, IsEmpty());
  EXPECT_EQ(host_.received().size(), 1u);
}

TEST_F(SyncSubscriptionsTest, AReadBackThatStillDiffersIsAConflict) {
  host_.script({.body = list_body("")});
  host_.script({.body = kSuccess});
  host_.script({.body = list_body("")});
  EXPECT_THAT(sync({{"page", {"messages"}}}),
              HasError(ErrorCode::kConflict, HasSubstr("still differ for page")));
}

TEST_F(SyncSubscriptionsTest, AFailedCallbackVerificationSaysWhatTheEndpointMustDo) {
  host_.script({.body = list_body("")});
  host_.script({.code = status::bad_request,
                .body = R"({"error":{"message":"(#2200) callback verification failed: the callback answered HTTP 403",)"
                        R"("type":"OAuthException","code":2200,"fbtrace_id":"T"}})"});
  const auto failed = sync({{"page", {"messages"}}});
  ASSERT_THAT(failed,
              HasError(ErrorCode::kInvalidArgument,
                       HasSubstr(std::string("subscribing page: the platform could not verify the callback URL ") +
                                 kCallback + " (graph error 2200)")));
  EXPECT_THAT(failed.error().reason(), Not(HasSubstr(kVerifyToken)));
  EXPECT_EQ(host_.received().size(), 2u) << "a failed step stops the sync";
}

TEST_F(SyncSubscriptionsTest, APlatformRefusalNamesTheStep) {
  host_.script({.body = list_body(item("user", {"events"}))});
  host_.script({.code = status::bad_request,
                .body = R"({"error":{"message":"nope","type":"OAuthException","code":10,"fbtrace_id":"T"}})"});
  EXPECT_THAT(sync({}), HasError(ErrorCode::kPermissionDenied, HasSubstr("unsubscribing user: graph error 10")));

  host_.script({.code = status::bad_request,
                .body = R"({"error":{"message":"bad token","type":"OAuthException","code":190,"fbtrace_id":"T"}})"});
  EXPECT_THAT(sync({}), HasError(ErrorCode::kUnauthenticated,
                                 HasSubstr("reading the app's subscriptions: the platform refused the app access "
                                           "token (graph error 190): are the app id and secret right?")));

  host_.script({.body = list_body("")});
  host_.script({.body = R"({"success":false})"});
  EXPECT_THAT(sync({{"page", {"messages"}}}),
              HasError(ErrorCode::kMalformed, HasSubstr("subscribing page: the platform did not answer success")));
}

TEST_F(SyncSubscriptionsTest, AMalformedListIsRefused) {
  for (const char* body : {R"({"data":{}})", R"({"data":[{"fields":[]}]})", R"({"data":[{"object":""}]})",
                           R"({"data":[{"object":"page","fields":[{"version":"v3.2"}]}]})"}) {
    host_.script({.body = body});
    EXPECT_THAT(run_coroutine(io_, list_subscriptions(*graph_)), HasError(ErrorCode::kMalformed)) << body;
  }
}

TEST_F(SyncSubscriptionsTest, RefusesWhatThePlatformWouldBeforeAnyCall) {
  EXPECT_THAT(sync({{"page", {"messages"}}}, true, "vendor.example/hook"),
              HasError(ErrorCode::kInvalidArgument, HasSubstr("callback URL")));
  EXPECT_THAT(sync({{"Page", {"messages"}}}), HasError(ErrorCode::kInvalidArgument, HasSubstr("object")));
  EXPECT_THAT(sync({{"page", {"messages,mention"}}}),
              HasError(ErrorCode::kInvalidArgument, HasSubstr("fields of page")));
  EXPECT_THAT(sync({{"page", {"messages"}}}, true, kCallback, ""),
              HasError(ErrorCode::kInvalidArgument, HasSubstr("verify token")));
  EXPECT_THAT(host_.received(), IsEmpty());
}

}  // namespace
}  // namespace wik::graph
