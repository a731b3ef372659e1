// Conformance of group content (§10) and of /app/subscriptions (§7), the latter against a real
// callback server that answers (or fails) the verification challenge of §6.1.
#include <boost/json/serialize.hpp>

#include <atomic>

#include "graph_fixture.h"

namespace wik::emulator::testing {
namespace {

namespace asio = boost::asio;
namespace json = boost::json;
using boost::beast::http::verb;
using ::testing::HasSubstr;
using ::testing::StartsWith;

class GroupsTest : public GraphFixture {};

TEST_F(GroupsTest, Section10_PostToAGroupNeedsWriteGroupAndAnswersTheId) {
  const Answer posted = post_json("/" + acme_group_.id + "/feed", json::object{{"message", "Release notes"}});
  ASSERT_EQ(posted.status, 200u) << posted.raw;
  const std::string id(posted.body.at("id").as_string());
  EXPECT_THAT(id, StartsWith(acme_group_.id + "_"));
  const auto post = state_->post(id);
  ASSERT_TRUE(post);
  EXPECT_EQ(post->message, "Release notes");
  EXPECT_TRUE(post->from_bot);
  const Answer denied = post_json("/" + acme_group_.id + "/feed", json::object{{"message", "x"}}, limited_);
  EXPECT_TRUE(IsGraphError(denied, 403, "OAuthException", 200));
  EXPECT_THAT(std::string(denied.error().at("message").as_string()), HasSubstr("write_group"));
  EXPECT_TRUE(IsGraphError(post_json("/" + acme_group_.id + "/feed", json::object{}), 400, "OAuthException", 100));
}

TEST_F(GroupsTest, Section10_ReadTheFeedAndAPost) {
  auto post = state_->add_post(acme_group_.id, acme_people_.at(1).id, false, "Hello group");
  ASSERT_TRUE(post.ok());
  const Answer feed = get("/" + acme_group_.id + "/feed?fields=id,message,from,permalink_url");
  ASSERT_EQ(feed.status, 200u) << feed.raw;
  const json::value& first = feed.body.at("data").at(0);
  EXPECT_EQ(first.at("id"), json::value(post->id));
  EXPECT_EQ(first.at("from").at("id"), json::value(scoped(1)));
  EXPECT_THAT(std::string(first.at("permalink_url").as_string()), StartsWith("http://web.test/groups/" + acme_group_.id));
  const Answer single = get("/" + post->id + "?fields=id,message,created_time");
  EXPECT_EQ(single.body.at("message"), "Hello group");
  EXPECT_THAT(std::string(single.body.at("created_time").as_string()), ::testing::EndsWith("+0000"));
  EXPECT_TRUE(IsGraphError(get("/" + acme_group_.id + "/feed", limited_), 403, "OAuthException", 200));
}

TEST_F(GroupsTest, Section10_CommentsAndLikes) {
  auto post = state_->add_post(acme_group_.id, acme_people_.at(1).id, false, "Question?");
  ASSERT_TRUE(post.ok());
  const Answer commented = post_json("/" + post->id + "/comments", json::object{{"message", "Answer."}});
  ASSERT_EQ(commented.status, 200u) << commented.raw;
  const std::string comment_id(commented.body.at("id").as_string());
  const Answer comments = get("/" + post->id + "/comments");
  ASSERT_EQ(comments.status, 200u);
  EXPECT_EQ(comments.body.at("data").at(0).at("id"), json::value(comment_id));
  EXPECT_EQ(comments.body.at("data").at(0).at("message"), "Answer.");
  // A bot holding only bot_mention may answer a mention and like it.
  EXPECT_EQ(post_json("/" + comment_id + "/comments", json::object{{"message", "Reply"}}, limited_).status, 200u);
  EXPECT_EQ(post_json("/" + post->id + "/likes", json::object{}).body, (json::object{{"success", true}}));
  EXPECT_EQ(delete_json("/" + post->id + "/likes", json::object{}).body, (json::object{{"success", true}}));
  EXPECT_TRUE(IsGraphError(post_json("/" + globex_group_.id + "_1/likes", json::object{}), 400,
                           "GraphMethodException", 100, 33));
}

// A callback server that answers the §6.1 challenge on /webhook when the verify token matches,
// and answers something else on /wrong.
class SubscriptionsTest : public GraphFixture {
 protected:
  void SetUp() override {
    GraphFixture::SetUp();
    http::ServerOptions options;
    options.port = 0;
    options.io_threads = 1;
    options.access_log = false;
    options.builtin_routes = false;
    callback_ = std::make_unique<http::Server>(options);
    callback_->router()
        .get("/webhook", http::Handler([this](http::Request& request) { return challenge(verifications_, request); }))
        .get("/wrong", http::Handler([this](http::Request& request) { return wrong(verifications_, request); }));
    ASSERT_TRUE(callback_->start().ok());
  }
  void TearDown() override {
    callback_->stop(std::chrono::seconds(1));
    GraphFixture::TearDown();
  }

  static asio::awaitable<Result<http::Response>> challenge(std::atomic<int>& count, http::Request& request) {
    ++count;
    if (request.query("hub.mode") != "subscribe" || request.query("hub.verify_token") != "s3cr3t") {
      co_return http::Response::text("forbidden", boost::beast::http::status::forbidden);
    }
    co_return http::Response::text(std::string(request.query("hub.challenge").value_or("")));
  }
  static asio::awaitable<Result<http::Response>> wrong(std::atomic<int>& count, http::Request&) {
    ++count;
    co_return http::Response::text("not the challenge");
  }

  std::string callback_url(std::string_view path) const {
    return "http://127.0.0.1:" + std::to_string(callback_->port()) + std::string(path);
  }
  Answer subscribe(const std::string& target, const std::string& object, std::string_view path,
                   const std::string& fields, const std::string& verify_token = "s3cr3t") {
    return send(verb::post, target + "?object=" + object + "&callback_url=" + url_encode(callback_url(path)) +
                                "&fields=" + url_encode(fields) + "&verify_token=" + verify_token +
                                "&include_values=true",
                {}, {}, {{"Authorization", "Bearer " + app_token_.token}});
  }
  Answer list(const std::string& target = "/app/subscriptions") {
    return send(verb::get, target + "?access_token=" + url_encode(app_token_.token));
  }

  std::atomic<int> verifications_{0};
  std::unique_ptr<http::Server> callback_;
};

TEST_F(SubscriptionsTest, Section7_1_PostVerifiesTheCallbackBeforeAnswering) {
  const Answer answer = subscribe("/v3.2/app/subscriptions", "page", "/webhook", "messages,messaging_postbacks");
  ASSERT_EQ(answer.status, 200u) << answer.raw;
  EXPECT_EQ(answer.body, (json::object{{"success", true}}));
  EXPECT_EQ(verifications_.load(), 1);
  const Answer listed = list();
  ASSERT_EQ(listed.status, 200u);
  const json::value& page = listed.body.at("data").at(0);
  EXPECT_EQ(page.at("object"), "page");
  EXPECT_EQ(page.at("callback_url"), json::value(callback_url("/webhook")));
  EXPECT_EQ(page.at("active"), true);
  EXPECT_EQ(page.at("fields").as_array().size(), 2u);
  EXPECT_EQ(page.at("fields").at(0).at("version"), "v3.2");
}

TEST_F(SubscriptionsTest, Section7_1_UpdatingAnObjectKeepsTheUnionOfFields) {
  ASSERT_EQ(subscribe("/app/subscriptions", "page", "/webhook", "messages").status, 200u);
  ASSERT_EQ(subscribe("/" + std::string(kAppId) + "/subscriptions", "page", "/webhook", "mention").status, 200u);
  const Answer listed = list("/" + std::string(kAppId) + "/subscriptions");
  ASSERT_EQ(listed.body.at("data").as_array().size(), 1u);
  EXPECT_EQ(listed.body.at("data").at(0).at("fields").as_array().size(), 2u);
}

TEST_F(SubscriptionsTest, Section7_1_FailedVerificationIs2200AndStoresNothing) {
  for (const auto& [path, token] : {std::pair{"/wrong", "s3cr3t"}, std::pair{"/webhook", "other"}}) {
    const Answer answer = subscribe("/app/subscriptions", "page", path, "messages", token);
    EXPECT_TRUE(IsGraphError(answer, 400, "OAuthException", 2200)) << path;
    EXPECT_THAT(std::string(answer.error().at("message").as_string()),
                StartsWith("(#2200) callback verification failed: "));
  }
  EXPECT_TRUE(list().body.at("data").as_array().empty());
  EXPECT_TRUE(state_->subscriptions(std::string(kAppId)).empty());
}

TEST_F(SubscriptionsTest, Section7_1_NoCallbackListeningIs2200) {
  const Answer answer = send(verb::post, "/app/subscriptions?object=page&fields=messages&verify_token=x"
                                         "&callback_url=" + url_encode("http://127.0.0.1:1/none") +
                                         "&access_token=" + url_encode(app_token_.token));
  EXPECT_TRUE(IsGraphError(answer, 400, "OAuthException", 2200));
}

TEST_F(SubscriptionsTest, Section7_1_InvalidParameters) {
  EXPECT_TRUE(IsGraphError(subscribe("/app/subscriptions", "planet", "/webhook", "messages"), 400, "OAuthException", 100));
  EXPECT_TRUE(IsGraphError(subscribe("/app/subscriptions", "page", "/webhook", ""), 400, "OAuthException", 100));
  EXPECT_TRUE(IsGraphError(subscribe("/" + std::string(kOtherAppId) + "/subscriptions", "page", "/webhook", "messages"),
                           400, "GraphMethodException", 100, 33));
  EXPECT_EQ(verifications_.load(), 0);
}

TEST_F(SubscriptionsTest, Section7_3_DeleteOneFieldOneObjectOrAll) {
  ASSERT_EQ(subscribe("/app/subscriptions", "page", "/webhook", "messages,mention").status, 200u);
  ASSERT_EQ(subscribe("/app/subscriptions", "group", "/webhook", "posts").status, 200u);
  const std::string auth = "&access_token=" + url_encode(app_token_.token);
  EXPECT_EQ(send(verb::delete_, "/app/subscriptions?object=page&fields=mention" + auth).body,
            (json::object{{"success", true}}));
  EXPECT_EQ(list().body.at("data").as_array().size(), 2u);
  EXPECT_EQ(send(verb::delete_, "/app/subscriptions?object=group" + auth).status, 200u);
  EXPECT_EQ(list().body.at("data").as_array().size(), 1u);
  EXPECT_EQ(send(verb::delete_, "/app/subscriptions?" + auth.substr(1)).status, 200u);
  EXPECT_TRUE(list().body.at("data").as_array().empty());
}

}  // namespace
}  // namespace wik::emulator::testing
