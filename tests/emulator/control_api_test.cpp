// The control API over plain HTTP, as a test script or curl uses it: every endpoint, and the 400/403/
// 404 answers to bad input, each naming what was wrong.
#include <atomic>

#include "core/appsecret_proof.h"
#include "emulator_fixture.h"
#include "http/server/server.h"

namespace wik::emulator {
namespace {

using boost::beast::http::verb;
using ::testing::HasSubstr;
using ::testing::SizeIs;
using namespace testing;  // NOLINT: the fixture's seed ids
namespace json = boost::json;

std::size_t data_size(const Reply& reply) {
  const auto* data = reply.body.is_object() ? reply.body.get_object().if_contains("data") : nullptr;
  return data != nullptr && data->is_array() ? data->get_array().size() : 0;
}

const json::value& data_at(const Reply& reply, std::size_t index) { return reply.body.at("data").at(index); }

std::string error_message(const Reply& reply) {
  const auto* error = reply.body.is_object() ? reply.body.get_object().if_contains("error") : nullptr;
  return error != nullptr && error->is_object() ? text(*error, "message") : std::string();
}

// The test app's deauthorize callback: counts the call and answers 200.
boost::asio::awaitable<http::Response> count_and_accept(std::atomic<int>* calls) {
  ++*calls;
  co_return http::Response::text("ok");
}

class ControlApiTest : public EmulatorFixture {
 protected:
  // Sends a Graph POST with a JSON body and the install token, signed as the kit signs it.
  Reply graph_post(const std::string& path, const std::string& token, const json::value& body) {
    const auto proof = core::make_appsecret_proof(Secret(kAppSecret), AccessToken(token),
                                                  emulator_->state().clock().unix_seconds());
    return send(verb::post,
                emulator_->graph_url() + path + "?access_token=" + token + "&appsecret_proof=" + proof.proof +
                    "&appsecret_time=" + proof.time,
                json::serialize(body));
  }

  // Installs the app, opens Bruno's chat with its bot and returns (install, thread id).
  std::pair<json::object, std::string> chat_with_bot() {
    const auto install = install_app();
    const Reply thread = control_post("/users/" + kBruno + "/open_chat", {{"page_id", text(install, "page_id")}});
    EXPECT_EQ(thread.status, 200u) << thread.raw.body;
    return {install, text(thread.body, "id")};
  }

  // Has the bot send `message` to Bruno through the Graph Send API; returns the bot message's mid.
  std::string bot_sends(const json::object& install, const json::value& message) {
    const std::string scoped = text(control_get("/apps/" + kAppId + "/users/" + kBruno).body, "scoped_id");
    const Reply sent = graph_post("/me/messages", text(install, "access_token"),
                                  {{"recipient", {{"id", scoped}}}, {"message", message}});
    EXPECT_EQ(sent.status, 200u) << sent.raw.body;
    return text(sent.body, "message_id");
  }
};

TEST_F(ControlApiTest, ListsItsEndpoints) {
  const Reply index = control_get("");
  ASSERT_EQ(index.status, 200u);
  EXPECT_GT(index.body.at("endpoints").as_array().size(), 25u);
}

TEST_F(ControlApiTest, IsAbsentUnlessEnabled) {
  EmulatorOptions options;
  options.graph_port = 0;
  options.web_port = 0;
  auto quiet = Emulator::start(std::move(options));
  ASSERT_THAT(quiet, wik::testing::IsOk());
  EXPECT_EQ(send(verb::get, (*quiet)->web_url() + "/_emulator/communities").status, 404u);
}

TEST_F(ControlApiTest, CreatesAndListsCommunitiesPeopleAndGroups) {
  const Reply globex = control_post("/communities", {{"name", "Globex"}});
  ASSERT_EQ(globex.status, 200u) << globex.raw.body;
  const std::string community = text(globex.body, "id");
  EXPECT_EQ(data_size(control_get("/communities")), 2u);

  const Reply hank = control_post("/communities/" + community + "/users",
                                  {{"name", "Hank"}, {"email", "hank@globex.example"}, {"locale", "fr_CA"},
                                   {"title", "CEO"}, {"system_admin", true}});
  ASSERT_EQ(hank.status, 200u) << hank.raw.body;
  EXPECT_EQ(text(hank.body, "locale"), "fr_CA");
  EXPECT_EQ(hank.body.at("system_admin"), true);
  EXPECT_EQ(data_size(control_get("/communities/" + community + "/users")), 1u);
  EXPECT_EQ(text(control_get("/users/" + text(hank.body, "id")).body, "name"), "Hank");

  const Reply group = control_post("/communities/" + community + "/groups",
                                   {{"name", "Board"}, {"members", json::array{text(hank.body, "id")}}});
  ASSERT_EQ(group.status, 200u) << group.raw.body;
  EXPECT_EQ(data_size(control_get("/communities/" + community + "/groups")), 1u);
  EXPECT_EQ(data_size(control_get("/communities/" + kAcme + "/groups")), 2u);

  const Reply joined = control_post("/groups/" + kSupportTeam + "/members", {{"user_id", kBruno}});
  ASSERT_EQ(joined.status, 200u) << joined.raw.body;
  EXPECT_THAT(joined.body.at("members").as_array(), SizeIs(4));
  EXPECT_EQ(control_post("/groups/" + text(group.body, "id") + "/members", {{"user_id", kBruno}}).status, 403u);
}

TEST_F(ControlApiTest, AnswersBadInputWithAnErrorNamingIt) {
  struct Case {
    std::string path;
    std::string body;
    unsigned status;
    std::string named;
  };
  const std::vector<Case> cases = {
      {"/communities", "{}", 400, "name is required"},
      {"/communities", R"({"name":7})", 400, "name must be a string"},
      {"/communities", R"({"name":"A","colour":"red"})", 400, "unknown field \"colour\""},
      {"/communities", R"({"nmae":"A"})", 400, "unknown field \"nmae\""},
      {"/communities", "[1,2]", 400, "JSON object"},
      {"/communities", "{not json", 400, ""},
      {"/communities", std::string(10000, '[') + std::string(10000, ']'), 400, ""},
      {"/communities", R"({"name":")" + std::string(300, 'x') + "\"}", 400, "longer than 200 bytes"},
      {"/communities/404/users", R"({"name":"X"})", 404, "no such community"},
      {"/communities/" + kAcme + "/users", R"({"name":"X","system_admin":"yes"})", 400, "system_admin"},
      {"/communities/" + kAcme + "/groups", R"({"name":"G","members":"everyone"})", 400, "members"},
      {"/apps", R"({"id":"abc","secret":"s","name":"n"})", 400, "decimal"},
      {"/apps", R"({"id":"1","secret":"s","name":"n","icon_png_base64":"%%%"})", 400, "icon_png_base64"},
      {"/apps/" + kAppId + "/install", R"({"admin_id":")" + kBruno + "\"}", 403, "system administrator"},
      {"/apps/999/install", R"({"admin_id":")" + kAda + "\"}", 404, ""},
      {"/users/" + kBruno + "/quick_reply", R"({"thread_id":"1","mid":"m","index":-1})", 400, "index"},
      {"/faults/graph", R"({"endpoint":"/me","error_rate":2})", 400, "error_rate"},
      {"/faults/graph", R"({"endpoint":"me"})", 400, "endpoint"},
      {"/faults/callbacks", R"({"latency_ms":99999999})", 400, "latency_ms"},
      {"/rate_limits", R"({"window_seconds":60})", 400, "calls is required"},
      {"/clock/advance", R"({"seconds":-5})", 400, "seconds"},
  };
  for (const Case& c : cases) {
    const Reply reply = send(verb::post, emulator_->web_url() + "/_emulator" + c.path, c.body);
    EXPECT_EQ(reply.status, c.status) << c.path << " " << c.body << " → " << reply.raw.body;
    EXPECT_THAT(error_message(reply), HasSubstr(c.named)) << c.path << " " << c.body;
  }
  const Reply form = send(verb::post, emulator_->web_url() + "/_emulator/communities", "name=x",
                          "application/x-www-form-urlencoded");
  EXPECT_EQ(form.status, 415u);
  // Last: the server closes the connection after refusing a body over its limit.
  const Reply huge = send(verb::post, emulator_->web_url() + "/_emulator/communities",
                          R"({"name":")" + std::string(2 * 1024 * 1024, 'x') + "\"}");
  EXPECT_EQ(huge.status, 413u);
  EXPECT_EQ(huge.raw.header("Connection").value_or(""), "close");
}

TEST_F(ControlApiTest, RegistersAppsWithoutShowingTheirSecret) {
  const Reply registered = control_post("/apps", {{"id", "5555"},
                                                  {"secret", "top-secret"},
                                                  {"name", "Survey"},
                                                  {"redirect_url", "https://survey.example/install"},
                                                  {"permissions", json::array{"message"}},
                                                  {"icon_png_base64", "iVBORw0KGgo="}});
  ASSERT_EQ(registered.status, 200u) << registered.raw.body;
  EXPECT_EQ(registered.body.at("has_icon"), true);
  const Reply apps = control_get("/apps");
  EXPECT_EQ(data_size(apps), 2u);
  EXPECT_EQ(apps.raw.body.find("top-secret"), std::string::npos);
  EXPECT_EQ(emulator_->state().app("5555")->icon_png, "\x89PNG\r\n\x1a\n");

  const std::string for_helpdesk = text(control_get("/apps/" + kAppId + "/users/" + kBruno).body, "scoped_id");
  const std::string for_survey = text(control_get("/apps/5555/users/" + kBruno).body, "scoped_id");
  EXPECT_FALSE(for_helpdesk.empty());
  EXPECT_NE(for_helpdesk, for_survey);
  EXPECT_EQ(control_get("/apps/5555/users/404").status, 404u);
}

TEST_F(ControlApiTest, InstallsListsAndUninstallsWithADeauthorizationCall) {
  std::atomic<int> deauthorizations = 0;
  http::Server app_server({.port = 0, .io_threads = 1, .access_log = false});
  app_server.router().post("/deauthorize",
                            [&deauthorizations](http::Request&) { return count_and_accept(&deauthorizations); });
  ASSERT_THAT(app_server.start(), wik::testing::IsOk());
  start({.apps = {helpdesk_app("http://127.0.0.1:" + std::to_string(app_server.port()) + "/deauthorize")}});

  const auto install = install_app();
  EXPECT_FALSE(text(install, "access_token").empty());
  EXPECT_EQ(text(install, "community_id"), kAcme);
  EXPECT_EQ(data_size(control_get("/installs")), 1u);
  EXPECT_EQ(data_size(control_get("/installs?app_id=" + kAppId)), 1u);
  EXPECT_EQ(data_size(control_get("/installs?community_id=" + kAcme + "&app_id=999")), 0u);

  const Reply reinstall = control_post("/apps/" + kAppId + "/install", {{"admin_id", kAda}});
  EXPECT_NE(text(reinstall.body, "access_token"), text(install, "access_token"));
  EXPECT_FALSE(emulator_->state().install_by_token(text(install, "access_token")));

  EXPECT_EQ(control_post("/apps/" + kAppId + "/uninstall", {{"admin_id", kBruno}}).status, 403u);
  const Reply removed = control_post("/apps/" + kAppId + "/uninstall", {{"admin_id", kAda}});
  ASSERT_EQ(removed.status, 200u) << removed.raw.body;
  EXPECT_EQ(data_size(control_get("/installs")), 0u);
  EXPECT_EQ(control_post("/apps/" + kAppId + "/uninstall", {{"admin_id", kAda}}).status, 404u);

  EXPECT_TRUE(wait_for([&] { return deauthorizations.load() == 1; }));
  EXPECT_TRUE(wait_for([&] {
    const Reply log = control_get("/deliveries?app_id=" + kAppId);
    return data_size(log) > 0 && text(data_at(log, 0), "kind") == "deauthorize" && data_at(log, 0).at("delivered") == true;
  }));
  app_server.stop();
}

TEST_F(ControlApiTest, ActsAsAPersonInWorkChat) {
  const auto [install, thread_id] = chat_with_bot();
  ASSERT_FALSE(thread_id.empty());
  const Reply sent = control_post("/users/" + kBruno + "/messages", {{"thread_id", thread_id}, {"text", "hello"}});
  ASSERT_EQ(sent.status, 200u) << sent.raw.body;
  EXPECT_EQ(text(sent.body.at("message"), "text"), "hello");
  EXPECT_EQ(control_post("/users/" + kChloe + "/messages", {{"thread_id", thread_id}, {"text", "x"}}).status, 403u);
  EXPECT_EQ(control_post("/users/" + kBruno + "/messages", {{"thread_id", "404"}, {"text", "x"}}).status, 404u);
  EXPECT_EQ(control_post("/users/" + kBruno + "/read", {{"thread_id", thread_id}}).status, 200u);
  const json::value get_started = {{"page_id", text(install, "page_id")}};
  EXPECT_EQ(control_post("/users/" + kBruno + "/get_started", get_started).status, 404u);  // no button yet
  ASSERT_EQ(graph_post("/me/messenger_profile", text(install, "access_token"),
                       {{"get_started", {{"payload", "GET_STARTED"}}}})
                .status,
            200u);
  EXPECT_EQ(control_post("/users/" + kBruno + "/get_started", get_started).status, 200u);

  const std::string quick = bot_sends(install, {{"text", "Pick one"},
                                                {"quick_replies", json::array{{{"content_type", "text"},
                                                                               {"title", "Yes"},
                                                                               {"payload", "YES"}}}}});
  const Reply bot = control_get("/bot_messages?app_id=" + kAppId);
  ASSERT_EQ(data_size(bot), 1u) << bot.raw.body;
  EXPECT_EQ(text(data_at(bot, 0), "mid"), quick);
  const Reply pressed = control_post("/users/" + kBruno + "/quick_reply",
                                     {{"thread_id", thread_id}, {"mid", quick}, {"index", 0}});
  ASSERT_EQ(pressed.status, 200u) << pressed.raw.body;
  EXPECT_EQ(text(pressed.body.at("message"), "text"), "Yes");
  EXPECT_EQ(control_post("/users/" + kBruno + "/quick_reply", {{"thread_id", thread_id}, {"mid", quick}, {"index", 5}}).status,
            400u);

  const std::string buttons = bot_sends(
      install, {{"attachment",
                 {{"type", "template"},
                  {"payload",
                   {{"template_type", "button"},
                    {"text", "Choose"},
                    {"buttons", json::array{{{"type", "postback"}, {"title", "Go"}, {"payload", "GO"}}}}}}}}});
  EXPECT_EQ(control_post("/users/" + kBruno + "/postback", {{"thread_id", thread_id}, {"mid", buttons}, {"index", 0}}).status,
            200u);
  // hello, the bot's two messages and the two presses (recorded as Bruno's messages).
  const Reply history = control_get("/threads/" + thread_id + "/messages");
  EXPECT_EQ(data_size(history), 5u) << history.raw.body;
  EXPECT_EQ(control_get("/threads/404/messages").status, 404u);
  EXPECT_EQ(data_size(control_get("/bot_messages")), 2u);
}

TEST_F(ControlApiTest, WhatABotSendsIsConfirmedWithADeliveryReceipt) {
  std::atomic<int> deliveries = 0;
  http::Server app_server({.port = 0, .io_threads = 1, .access_log = false});
  app_server.router().post("/webhook", [&deliveries](http::Request&) { return count_and_accept(&deliveries); });
  ASSERT_THAT(app_server.start(), wik::testing::IsOk());
  const auto [install, thread_id] = chat_with_bot();
  emulator_->state().subscribe(kAppId, {.object = "page",
                                        .callback_url = "http://127.0.0.1:" + std::to_string(app_server.port()) + "/webhook",
                                        .verify_token = "v",
                                        .fields = {"message_deliveries"}});
  const std::string mid = bot_sends(install, {{"text", "Your ticket is open"}});
  EXPECT_TRUE(wait_for([&] { return deliveries.load() == 1; }));
  // The delivery log entry is written once the app's answer has come back, just after the app saw it.
  Reply log;
  EXPECT_TRUE(wait_for([&] {
    log = control_get("/deliveries?app_id=" + kAppId);
    return data_size(log) > 0;
  }));
  ASSERT_GT(data_size(log), 0u);
  const std::string body = text(data_at(log, data_size(log) - 1), "body");
  EXPECT_THAT(body, ::testing::HasSubstr("\"delivery\":{\"mids\":[\"" + mid + "\"]"));
  app_server.stop();
}

TEST_F(ControlApiTest, PostsCommentsAndMentions) {
  const auto install = install_app();
  const Reply post = control_post("/users/" + kChloe + "/posts",
                                  {{"group_id", kSupportTeam}, {"message", "Help, @[" + text(install, "page_id") + "]"}});
  ASSERT_EQ(post.status, 200u) << post.raw.body;
  EXPECT_EQ(text(post.body, "group_id"), kSupportTeam);
  const Reply comment = control_post("/users/" + kChloe + "/comments", {{"object_id", text(post.body, "id")}, {"message", "+1"}});
  ASSERT_EQ(comment.status, 200u) << comment.raw.body;
  EXPECT_EQ(text(comment.body, "post_id"), text(post.body, "id"));
  EXPECT_EQ(control_post("/users/" + kBruno + "/posts", {{"group_id", kSupportTeam}, {"message", "x"}}).status, 403u);
  EXPECT_EQ(control_post("/users/" + kChloe + "/comments", {{"object_id", "404"}, {"message", "x"}}).status, 404u);
}

TEST_F(ControlApiTest, SetsGraphFaultsAndClearsThem) {
  const auto install = install_app();
  const Reply set = control_post("/faults/graph", {{"endpoint", "/me/messages"}, {"error_rate", 1}});
  ASSERT_EQ(set.status, 200u) << set.raw.body;
  EXPECT_EQ(set.body.at("error_rate"), 1.0);
  const std::string scoped = text(control_get("/apps/" + kAppId + "/users/" + kBruno).body, "scoped_id");
  const json::value message = {{"recipient", {{"id", scoped}}}, {"message", {{"text", "hi"}}}};
  EXPECT_EQ(graph_post("/me/messages", text(install, "access_token"), message).status, 500u);
  EXPECT_EQ(control(verb::delete_, "/faults/graph").status, 200u);
  EXPECT_EQ(graph_post("/me/messages", text(install, "access_token"), message).status, 200u);
  const Reply counts = control_get("/faults/graph");
  ASSERT_EQ(counts.status, 200u) << counts.raw.body;
  EXPECT_EQ(counts.body.at("endpoints").at("/me/messages"),
            (json::value{{"errors", 1}, {"timeouts", 0}, {"drops", 0}, {"processed_timeouts", 0},
                         {"processed_drops", 0}, {"lost_successes", 0}}));
}

TEST_F(ControlApiTest, SetsCallbackFaultsAndRateLimits) {
  const Reply callbacks = control_post("/faults/callbacks", {{"app_id", kAppId}, {"latency_ms", 10}, {"refuse_rate", 0.5}});
  ASSERT_EQ(callbacks.status, 200u) << callbacks.raw.body;
  EXPECT_EQ(callbacks.body.at("refuse_rate"), 0.5);

  const Reply limits = control_post("/rate_limits", {{"calls", 2}, {"window_seconds", 60}});
  ASSERT_EQ(limits.status, 200u) << limits.raw.body;
  EXPECT_EQ(control_get("/rate_limits").body,
            (json::value{{"calls", 2}, {"window_seconds", 60}, {"clients", json::object{}}}));
}

TEST_F(ControlApiTest, AdvancesTheClock) {
  const Reply before = control_get("/clock");
  ASSERT_EQ(before.status, 200u);
  const Reply after = control_post("/clock/advance", {{"seconds", 3600}});
  ASSERT_EQ(after.status, 200u) << after.raw.body;
  EXPECT_EQ(after.body.at("offset_seconds"), 3600);
  EXPECT_GE(after.body.at("now").as_int64(), before.body.at("now").as_int64() + 3600);
}

}  // namespace
}  // namespace wik::emulator
