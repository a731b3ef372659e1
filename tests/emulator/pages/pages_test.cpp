// Tests of the emulator's pages over plain HTTP: a real http::Server on port 0 with the Pages
// routes, an in-memory PlatformState on a FakeClock, and PlatformActions over a WebhookDelivery whose
// apps point at a closed port (deliveries fail and are retried; no test waits for them).
#include "emulator/pages/pages.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include <map>
#include <optional>
#include <regex>
#include <string>
#include <utility>
#include <vector>

#include "emulator/pages/chat_view.h"
#include "emulator/pages/html.h"
#include "emulator/pages/install_dialog.h"
#include "emulator/pages/sessions.h"
#include "http/raw_connection.h"
#include "http/server/server.h"
#include "support/fake_clock.h"
#include "support/result_matchers.h"

namespace wik::emulator {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;
using wik::testing::HasError;
using wik::testing::IsOk;

constexpr std::string_view kAppId = "1111222233334444";
constexpr std::string_view kSecret = "0123456789abcdef0123456789abcdef";
constexpr std::string_view kRedirect = "http://127.0.0.1:9/workplace/install";
constexpr std::string_view kHostileName = "<script>alert(\"x\")</script>'";

std::string form_body(const std::vector<std::pair<std::string, std::string>>& fields) {
  std::string body;
  for (const auto& [name, value] : fields) {
    if (!body.empty()) body += '&';
    body += html::query_component(name) + "=" + html::query_component(value);
  }
  return body;
}

// Returns the first CSRF token in a page, or "".
std::string csrf_of(const std::string& page) {
  static const std::regex kCsrf(R"re(name="csrf" value="([^"]+)")re");
  std::smatch match;
  return std::regex_search(page, match, kCsrf) ? match[1].str() : std::string();
}

// One browser: a cookie jar holding the session cookie, one connection per request.
class Browser {
 public:
  explicit Browser(std::uint16_t port) : port_(port) {}

  http::testing::RawResponse get(std::string_view target) {
    return send(http::testing::get_request(target, cookie_header() + "Connection: close\r\n"));
  }

  http::testing::RawResponse post(std::string_view target, const std::vector<std::pair<std::string, std::string>>& fields) {
    const std::string body = form_body(fields);
    std::string request = "POST " + std::string(target) + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" + cookie_header() +
                          "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: " +
                          std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
    return send(request);
  }

  // Signs in as `user_id` through the sign-in page; returns the login response.
  http::testing::RawResponse sign_in(const Id& user_id, std::string_view next = {}) {
    const auto page = get(next.empty() ? "/" : "/?next=" + html::query_component(next));
    return post("/login", {{"csrf", csrf_of(page.body)}, {"user_id", user_id}, {"next", std::string(next)}});
  }

  // Returns the CSRF token shown on `target`.
  std::string csrf(std::string_view target) { return csrf_of(get(target).body); }

  const std::string& session() const { return session_; }

 private:
  std::string cookie_header() const {
    return session_.empty() ? std::string() : "Cookie: " + std::string(Sessions::kCookieName) + "=" + session_ + "\r\n";
  }

  http::testing::RawResponse send(const std::string& request) {
    http::testing::RawConnection connection;
    EXPECT_TRUE(connection.connect(port_));
    auto response = connection.round_trip(request);
    EXPECT_TRUE(response.has_value()) << request;
    if (!response) return {};
    const auto set_cookie = response->headers.find(boost::beast::http::field::set_cookie);
    if (set_cookie != response->headers.end()) {
      const std::string pair(set_cookie->value().substr(0, set_cookie->value().find(';')));
      const auto id = find_cookie(pair, Sessions::kCookieName);
      session_ = id ? std::string(*id) : std::string();
    }
    return std::move(*response);
  }

  std::uint16_t port_;
  std::string session_;
};

std::string header(const http::testing::RawResponse& response, boost::beast::http::field name) {
  const auto it = response.headers.find(name);
  return it == response.headers.end() ? std::string() : std::string(it->value());
}

std::string location(const http::testing::RawResponse& response) {
  return header(response, boost::beast::http::field::location);
}

// Returns the value of query parameter `name` in a URL (decoded), or "".
std::string query_value(const std::string& url, const std::string& name) {
  auto target = http::parse_target(url.substr(url.find('/', url.find("//") + 2)));
  if (!target.ok()) return {};
  return std::string(target->query.find(name).value_or(""));
}

class PagesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto opened = PlatformState::open({}, clock_);
    ASSERT_THAT(opened, IsOk());
    state_ = std::move(*opened);
    for (const User& user : state_->users(state_->communities().front().id)) {
      if (user.system_admin && admin_.empty()) admin_ = user.id;
      if (!user.system_admin && member_.empty()) member_ = user.id;
    }
    ASSERT_FALSE(admin_.empty());
    ASSERT_FALSE(member_.empty());
    ASSERT_THAT(state_->register_app(test_app("Helpdesk")), IsOk());

    delivery_ = std::make_unique<WebhookDelivery>(io_, *state_);
    actions_ = std::make_unique<PlatformActions>(*state_, *delivery_);
    server_ = std::make_unique<http::Server>(http::ServerOptions{.port = 0, .io_threads = 1, .access_log = false});
    pages_ = std::make_unique<Pages>(*state_, *actions_, PagesOptions{.web_url = "http://127.0.0.1:8091"});
    pages_->add_routes(server_->router());
    ASSERT_THAT(server_->start(), IsOk());
  }

  void TearDown() override {
    if (server_) server_->stop(std::chrono::milliseconds(0));
    if (delivery_) delivery_->stop();
  }

  static App test_app(std::string name) {
    return App{.id = std::string(kAppId), .secret = std::string(kSecret), .name = std::move(name),
               .publisher = "Example Ltd", .tagline = "Answers questions", .icon_png = "\x89PNG\r\n\x1a\nfake",
               .redirect_url = std::string(kRedirect), .deauthorize_url = "http://127.0.0.1:9/workplace/deauthorize",
               .permissions = {"message", "read_user_email", "bot_mention"}};
  }

  Browser browser() { return Browser(server_->port()); }

  Browser signed_in(const Id& user_id) {
    Browser result = browser();
    const auto login = result.sign_in(user_id);
    EXPECT_EQ(login.status, 303u);
    return result;
  }

  // The dialog URL an app sends an admin to (PROTOCOL.md §1.3).
  std::string dialog_target(std::string_view redirect_uri, std::string_view state = "st-42") {
    return "/dialog/work/app_install/?app_id=" + std::string(kAppId) + "&redirect_uri=" +
           html::query_component(redirect_uri) + "&state=" + html::query_component(state);
  }

  Install install_bot() {
    auto installed = state_->install_directly(std::string(kAppId), admin_);
    EXPECT_THAT(installed, IsOk());
    return installed.ok() ? *installed : Install{};
  }

  testing::FakeClock clock_;
  boost::asio::io_context io_;
  std::unique_ptr<PlatformState> state_;
  std::unique_ptr<WebhookDelivery> delivery_;
  std::unique_ptr<PlatformActions> actions_;
  std::unique_ptr<http::Server> server_;
  std::unique_ptr<Pages> pages_;
  Id admin_;
  Id member_;
};

TEST_F(PagesTest, SignInPageSaysItIsAnEmulatorAndSetsAStrictCookie) {
  Browser person = browser();
  const auto page = person.get("/");
  EXPECT_EQ(page.status, 200u);
  EXPECT_THAT(page.body, AllOf(HasSubstr("emulator"), HasSubstr("no passwords"), HasSubstr("Sign in as")));
  const std::string cookie = header(page, boost::beast::http::field::set_cookie);
  EXPECT_THAT(cookie, AllOf(HasSubstr("HttpOnly"), HasSubstr("SameSite=Lax"), HasSubstr("Path=/")));
  EXPECT_THAT(header(page, boost::beast::http::field::content_type), HasSubstr("text/html"));
  EXPECT_THAT(std::string(page.headers["Content-Security-Policy"]), HasSubstr("default-src 'none'"));

  const std::string anonymous_session = person.session();
  const auto login = person.post("/login", {{"csrf", csrf_of(page.body)}, {"user_id", member_}});
  EXPECT_EQ(login.status, 303u);
  EXPECT_EQ(location(login), "/");
  EXPECT_THAT(header(login, boost::beast::http::field::set_cookie),
              AllOf(HasSubstr("HttpOnly"), HasSubstr("SameSite=Lax"), HasSubstr("Path=/")));
  EXPECT_NE(person.session(), anonymous_session) << "signing in must issue a new session id";
  EXPECT_THAT(person.get("/").body, HasSubstr("Signed in as <strong>" + state_->user(member_)->name));

  const auto logout = person.post("/logout", {{"csrf", person.csrf("/")}});
  EXPECT_EQ(logout.status, 303u);
  EXPECT_THAT(header(logout, boost::beast::http::field::set_cookie), HasSubstr("Max-Age=0"));
  EXPECT_THAT(person.get("/").body, HasSubstr("Sign in as"));
}

TEST_F(PagesTest, SignInWithoutTheFormsTokenIsRefused) {
  Browser person = browser();
  (void)person.get("/");
  EXPECT_EQ(person.post("/login", {{"user_id", admin_}}).status, 403u);
  EXPECT_EQ(person.post("/login", {{"csrf", "forged"}, {"user_id", admin_}}).status, 403u);
  EXPECT_THAT(person.get("/chat").status, 303u) << "still signed out";

  Browser stranger = browser();  // no session at all
  EXPECT_EQ(stranger.post("/login", {{"csrf", ""}, {"user_id", admin_}}).status, 403u);
}

TEST_F(PagesTest, SignedOutVisitorOfTheDialogSignsInAndComesBack) {
  Browser person = browser();
  const std::string dialog = dialog_target(kRedirect);
  const auto bounced = person.get(dialog);
  EXPECT_EQ(bounced.status, 303u);
  EXPECT_EQ(location(bounced), "/?next=" + html::query_component(dialog));

  const auto login = person.sign_in(admin_, dialog);
  EXPECT_EQ(login.status, 303u);
  EXPECT_EQ(location(login), dialog);
  EXPECT_THAT(person.get(dialog).body, HasSubstr("Install Helpdesk?"));
}

TEST_F(PagesTest, SignInNeverRedirectsOffTheSite) {
  Browser person = browser();
  const auto login = person.sign_in(member_, "//evil.example/x");
  EXPECT_EQ(location(login), "/");
}

TEST_F(PagesTest, NonAdministratorsAreRefusedAtTheTabAndTheDialog) {
  Browser member = signed_in(member_);
  EXPECT_EQ(member.get("/work/admin?section=apps").status, 403u);
  EXPECT_EQ(member.get(dialog_target(kRedirect)).status, 403u);
  EXPECT_EQ(member.get("/work/admin/install?app_id=" + std::string(kAppId)).status, 403u);
  const auto pressed = member.post("/dialog/work/app_install", {{"csrf", member.csrf("/")},
                                                                {"app_id", std::string(kAppId)},
                                                                {"redirect_uri", std::string(kRedirect)},
                                                                {"decision", "install"}});
  EXPECT_EQ(pressed.status, 403u);
  EXPECT_EQ(location(pressed), "");
  EXPECT_THAT(member.get("/").body, Not(HasSubstr("Integrations</a>")));
}

TEST_F(PagesTest, DialogWithAForeignRedirectUriIsAnErrorPageNotARedirect) {
  Browser admin = signed_in(admin_);
  const auto shown = admin.get(dialog_target("https://evil.example/steal"));
  EXPECT_EQ(shown.status, 400u);
  EXPECT_EQ(location(shown), "");
  EXPECT_THAT(shown.body, AllOf(HasSubstr("redirect_uri"), Not(HasSubstr("href=\"https://evil.example"))));

  const auto pressed = admin.post("/dialog/work/app_install", {{"csrf", admin.csrf("/")},
                                                               {"app_id", std::string(kAppId)},
                                                               {"redirect_uri", "https://evil.example/steal"},
                                                               {"decision", "cancel"}});
  EXPECT_EQ(pressed.status, 400u);
  EXPECT_EQ(location(pressed), "");

  const auto unknown = admin.get("/dialog/work/app_install?app_id=999&redirect_uri=" + html::query_component(kRedirect));
  EXPECT_EQ(unknown.status, 404u);
  EXPECT_EQ(location(unknown), "");
}

TEST_F(PagesTest, InstallRedirectsWithACodeTheTokenExchangeAccepts) {
  Browser admin = signed_in(admin_);
  // permissions[] with raw brackets, as browsers send it.
  const auto shown = admin.get("/v3.2" + dialog_target(kRedirect, "a b&c") +
                               "&permissions[]=message&permissions=read_user_email");
  ASSERT_EQ(shown.status, 200u);
  EXPECT_THAT(shown.body, AllOf(HasSubstr("Example Ltd"), HasSubstr("Answers questions"), HasSubstr("Message any member"),
                                HasSubstr("Read user email"), Not(HasSubstr("Mention bot")),
                                HasSubstr("src=\"/apps/" + std::string(kAppId) + "/icon.png\"")));

  const auto pressed = admin.post("/dialog/work/app_install", {{"csrf", csrf_of(shown.body)},
                                                               {"app_id", std::string(kAppId)},
                                                               {"redirect_uri", std::string(kRedirect)},
                                                               {"state", "a b&c"},
                                                               {"permissions", "message,read_user_email"},
                                                               {"decision", "install"}});
  ASSERT_EQ(pressed.status, 302u);
  const std::string to = location(pressed);
  EXPECT_THAT(to, StartsWith(std::string(kRedirect) + "?code="));
  EXPECT_THAT(to, HasSubstr("&state=a+b%26c"));
  EXPECT_EQ(query_value(to, "state"), "a b&c");

  auto install = state_->exchange_code(std::string(kAppId), std::string(kSecret), query_value(to, "code"), std::string(kRedirect));
  ASSERT_THAT(install, IsOk());
  EXPECT_EQ(install->installed_by, admin_);
  EXPECT_THAT(install->permissions, ::testing::UnorderedElementsAre("message", "read_user_email"));
}

TEST_F(PagesTest, LegacyAdminUrlShowsTheDialogAndWithoutStateSendsNone) {
  Browser admin = signed_in(admin_);
  const auto shown = admin.get("/work/admin?section=apps&app_id=" + std::string(kAppId));
  ASSERT_EQ(shown.status, 200u);
  EXPECT_THAT(shown.body, HasSubstr("Install Helpdesk?"));
  const auto pressed = admin.post("/dialog/work/app_install", {{"csrf", csrf_of(shown.body)},
                                                               {"app_id", std::string(kAppId)},
                                                               {"redirect_uri", std::string(kRedirect)},
                                                               {"decision", "install"}});
  ASSERT_EQ(pressed.status, 302u);
  EXPECT_THAT(location(pressed), Not(HasSubstr("state=")));
}

TEST_F(PagesTest, CancelSendsTheFacebookDenialParameters) {
  Browser admin = signed_in(admin_);
  const auto pressed = admin.post("/dialog/work/app_install", {{"csrf", admin.csrf("/")},
                                                               {"app_id", std::string(kAppId)},
                                                               {"redirect_uri", std::string(kRedirect)},
                                                               {"state", "st-42"},
                                                               {"decision", "cancel"}});
  ASSERT_EQ(pressed.status, 302u);
  EXPECT_EQ(location(pressed), std::string(kRedirect) +
                                   "?error_reason=user_denied&error=access_denied&error_description=Permissions+error&state=st-42");
}

TEST_F(PagesTest, IntegrationsTabInstallsWithTheWorkplaceInitiatedRedirectAndUninstalls) {
  Browser admin = signed_in(admin_);
  const auto tab = admin.get("/work/admin/?section=apps");
  ASSERT_EQ(tab.status, 200u);
  EXPECT_THAT(tab.body, AllOf(HasSubstr("Helpdesk"), HasSubstr("Not installed"), HasSubstr("Install Helpdesk")));

  const auto consent = admin.get("/work/admin/install?app_id=" + std::string(kAppId));
  ASSERT_EQ(consent.status, 200u);
  EXPECT_THAT(consent.body, HasSubstr("Mention bot"));
  const auto pressed = admin.post("/work/admin/install",
                                  {{"csrf", csrf_of(consent.body)}, {"app_id", std::string(kAppId)}, {"decision", "install"}});
  ASSERT_EQ(pressed.status, 302u);
  const std::string to = location(pressed);
  EXPECT_THAT(to, AllOf(StartsWith(std::string(kRedirect) + "?code="), Not(HasSubstr("state="))));
  EXPECT_EQ(query_value(to, "redirect_uri"), "http://127.0.0.1:8091/work/admin/?section=apps");
  ASSERT_THAT(state_->exchange_code(std::string(kAppId), std::string(kSecret), query_value(to, "code"), std::string(kRedirect)),
              IsOk());

  EXPECT_THAT(admin.get("/work/admin/?section=apps").body, HasSubstr("Uninstall Helpdesk"));
  const auto uninstalled = admin.post("/work/admin/uninstall", {{"csrf", admin.csrf("/")}, {"app_id", std::string(kAppId)}});
  EXPECT_EQ(uninstalled.status, 303u);
  EXPECT_FALSE(state_->install_of(std::string(kAppId), state_->user(admin_)->community_id).has_value());
}

TEST_F(PagesTest, FormsWithoutTheSessionsTokenChangeNothing) {
  const Install install = install_bot();
  Browser admin = signed_in(admin_);
  const Thread thread = state_->direct_thread(admin_, install.page_id);
  const std::string other_token = browser().csrf("/");  // a real token, of another session

  for (const std::string& token : {std::string(), std::string("forged"), other_token}) {
    std::vector<std::pair<std::string, std::string>> uninstall{{"app_id", std::string(kAppId)}};
    std::vector<std::pair<std::string, std::string>> install_form{{"app_id", std::string(kAppId)},
                                                                  {"redirect_uri", std::string(kRedirect)},
                                                                  {"decision", "install"}};
    std::vector<std::pair<std::string, std::string>> send{{"text", "hello"}};
    if (!token.empty()) {
      for (auto* fields : {&uninstall, &install_form, &send}) fields->emplace_back("csrf", token);
    }
    EXPECT_EQ(admin.post("/work/admin/uninstall", uninstall).status, 403u);
    const auto pressed = admin.post("/dialog/work/app_install", install_form);
    EXPECT_EQ(pressed.status, 403u);
    EXPECT_EQ(location(pressed), "");
    EXPECT_EQ(admin.post("/chat/" + thread.id + "/send", send).status, 403u);
  }
  EXPECT_TRUE(state_->install_of(std::string(kAppId), install.community_id).has_value());
  EXPECT_TRUE(state_->messages(thread.id).empty());
}

TEST_F(PagesTest, HostileNamesAreEscapedEverywhere) {
  ASSERT_THAT(state_->register_app(test_app(std::string(kHostileName))), IsOk());
  const Install install = install_bot();
  User hostile;
  hostile.name = "\"><img src=x onerror=alert(1)>";
  hostile.email = "h@acme.example";
  hostile.locale = "en_US";
  auto created = state_->create_user(install.community_id, hostile);
  ASSERT_THAT(created, IsOk());

  Browser admin = signed_in(admin_);
  const std::vector<std::string> pages{"/", "/work/admin?section=apps", "/chat",
                                       "/work/admin/install?app_id=" + std::string(kAppId),
                                       dialog_target(kRedirect, "\"><script>x</script>")};
  for (const std::string& target : pages) {
    const auto page = admin.get(target);
    EXPECT_THAT(page.body, AllOf(Not(HasSubstr("<script>alert")), Not(HasSubstr("<script>x")), Not(HasSubstr("<img src=x"))))
        << target;
  }
  EXPECT_THAT(admin.get("/work/admin/?section=apps").body, HasSubstr("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&#39;"));
  EXPECT_THAT(browser().get("/").body, AllOf(HasSubstr("&quot;&gt;&lt;img src=x"), Not(HasSubstr("<img src=x"))));
}

TEST_F(PagesTest, ChatShowsSentMessagesAndTheBotsQuickReplies) {
  const Install install = install_bot();
  Browser person = signed_in(member_);
  const auto list = person.get("/chat");
  ASSERT_EQ(list.status, 200u);
  EXPECT_THAT(list.body, HasSubstr("Message Helpdesk"));

  const auto opened = person.post("/chat/open", {{"csrf", csrf_of(list.body)}, {"page_id", install.page_id}});
  ASSERT_EQ(opened.status, 303u);
  const std::string thread_path = location(opened);
  ASSERT_THAT(thread_path, StartsWith("/chat/"));
  const std::string thread_id = thread_path.substr(6);

  const auto sent = person.post(thread_path + "/send", {{"csrf", person.csrf(thread_path)}, {"text", "Hello <b>bot</b>"}});
  EXPECT_EQ(sent.status, 303u);
  EXPECT_EQ(location(sent), thread_path);
  EXPECT_THAT(person.get(thread_path).body, HasSubstr("Hello &lt;b&gt;bot&lt;/b&gt;"));

  const std::string version_before = std::string(person.get(thread_path + "/messages").headers["X-Chat-Version"]);
  boost::json::value reply = {{"text", "Pick one"},
                              {"quick_replies", boost::json::array{{{"content_type", "text"}, {"title", "Yes"}, {"payload", "Y"}},
                                                                   {{"content_type", "text"}, {"title", "No"}, {"payload", "N"}}}}};
  auto bot_message = state_->add_message(thread_id, install.page_id, true, reply);
  ASSERT_THAT(bot_message, IsOk());
  const auto fragment = person.get(thread_path + "/messages");
  EXPECT_EQ(fragment.status, 200u);
  EXPECT_THAT(fragment.body, AllOf(HasSubstr("Pick one"), HasSubstr(">Yes</button>"), HasSubstr(">No</button>")));
  EXPECT_NE(std::string(fragment.headers["X-Chat-Version"]), version_before) << "the page's poll sees the reply";

  const auto pressed = person.post(thread_path + "/quick_reply",
                                   {{"csrf", person.csrf(thread_path)}, {"mid", bot_message->mid}, {"index", "1"}});
  EXPECT_EQ(pressed.status, 303u);
  const auto messages = state_->messages(thread_id);
  ASSERT_EQ(messages.size(), 3u);
  EXPECT_EQ(messages.back().message.as_object().at("text"), "No");
  EXPECT_THAT(person.get(thread_path + "/messages").body, Not(HasSubstr(">Yes</button>"))) << "only the newest message offers quick replies";
}

TEST_F(PagesTest, TemplatePostbacksAndGetStartedArePressable) {
  const Install install = install_bot();
  state_->set_messenger_profile(install.id, boost::json::object{{"get_started", {{"payload", "GET_STARTED"}}}});
  const Thread thread = state_->direct_thread(member_, install.page_id);
  auto offered = state_->add_message(thread.id, install.page_id, true, boost::json::parse(R"json(
      {"attachment":{"type":"template","payload":{"template_type":"button","text":"Choose",
       "buttons":[{"type":"web_url","title":"Docs","url":"https://docs.example/"},
                  {"type":"postback","title":"Open ticket","payload":"OPEN"}]}}})json"));
  ASSERT_THAT(offered, IsOk());

  Browser person = signed_in(member_);
  const std::string path = "/chat/" + thread.id;
  const auto page = person.get(path);
  EXPECT_THAT(page.body, AllOf(HasSubstr(">Get Started</button>"), HasSubstr(">Open ticket</button>"),
                               HasSubstr("href=\"https://docs.example/\" target=\"_blank\" rel=\"noopener noreferrer\"")));

  EXPECT_EQ(person.post(path + "/postback", {{"csrf", csrf_of(page.body)}, {"mid", offered->mid}, {"index", "1"}}).status, 303u);
  const auto messages = state_->messages(thread.id);
  ASSERT_EQ(messages.size(), 2u);
  EXPECT_EQ(messages.back().message.as_object().at("postback_payload"), "OPEN");
  EXPECT_EQ(person.post(path + "/postback", {{"csrf", csrf_of(page.body)}, {"mid", offered->mid}, {"index", "0"}}).status, 400u)
      << "a web_url button is no postback";
  EXPECT_EQ(person.post(path + "/postback", {{"csrf", csrf_of(page.body)}, {"mid", offered->mid}, {"index", "-1"}}).status, 400u);
  EXPECT_EQ(person.post(path + "/get_started", {{"csrf", csrf_of(page.body)}}).status, 303u);
}

TEST_F(PagesTest, DialogPathTakesOnlyGraphVersionPrefixes) {
  Browser admin = signed_in(admin_);
  EXPECT_EQ(admin.get("/v12.0" + dialog_target(kRedirect)).status, 200u);
  EXPECT_EQ(admin.get("/latest" + dialog_target(kRedirect)).status, 404u);
}

TEST_F(PagesTest, SignOutNeedsTheFormsToken) {
  Browser person = signed_in(member_);
  EXPECT_EQ(person.post("/logout", {}).status, 403u);
  EXPECT_THAT(person.get("/").body, HasSubstr("Signed in as"));
}

TEST_F(PagesTest, OthersConversationsAreNotShown) {
  const Install install = install_bot();
  const Thread admins_thread = state_->direct_thread(admin_, install.page_id);
  Browser person = signed_in(member_);
  EXPECT_EQ(person.get("/chat/" + admins_thread.id).status, 404u);
  EXPECT_EQ(person.post("/chat/" + admins_thread.id + "/send", {{"csrf", person.csrf("/")}, {"text", "hi"}}).status, 404u);
  EXPECT_TRUE(state_->messages(admins_thread.id).empty());
}

TEST_F(PagesTest, GroupFeedPostsAndCommentsWithABotMention) {
  const Install install = install_bot();
  Browser person = signed_in(member_);
  const auto list = person.get("/groups");
  const Group group = state_->groups(install.community_id).front();
  EXPECT_THAT(list.body, HasSubstr(group.name));
  const std::string path = "/groups/" + group.id;
  const auto feed = person.get(path);
  ASSERT_EQ(feed.status, 200u);
  EXPECT_THAT(feed.body, HasSubstr("value=\"" + install.page_id + "\">@Helpdesk"));

  EXPECT_EQ(person.post(path + "/post", {{"csrf", csrf_of(feed.body)}, {"message", "Printer <on> fire"}, {"mention", install.page_id}}).status,
            303u);
  const auto posts = state_->feed(group.id);
  ASSERT_EQ(posts.size(), 1u);
  EXPECT_EQ(posts.front().message, "@[" + install.page_id + "] Printer <on> fire");
  EXPECT_EQ(person.post(path + "/comment", {{"csrf", csrf_of(feed.body)}, {"object_id", posts.front().id}, {"message", "+1"}}).status,
            303u);
  EXPECT_THAT(person.get(path).body,
              AllOf(HasSubstr("<span class=\"mention\">@Helpdesk</span> Printer &lt;on&gt; fire"), HasSubstr("+1")));
}

TEST_F(PagesTest, AppIconIsServedAsPng) {
  const auto icon = browser().get("/apps/" + std::string(kAppId) + "/icon.png");
  EXPECT_EQ(icon.status, 200u);
  EXPECT_EQ(header(icon, boost::beast::http::field::content_type), "image/png");
  EXPECT_EQ(browser().get("/apps/999/icon.png").status, 404u);
}

TEST(HtmlTest, EscapesMarkupAndEncodesQueries) {
  EXPECT_EQ(html::escape("<a href=\"x\">'&'</a>"), "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
  EXPECT_EQ(html::query_component("a b&c=d/é"), "a+b%26c%3Dd%2F%C3%A9");
  EXPECT_EQ(html::with_query("https://x.example/cb", {{"code", "1 2"}}), "https://x.example/cb?code=1+2");
  EXPECT_EQ(html::with_query("https://x.example/cb?v=1#top", {{"code", "c"}}), "https://x.example/cb?v=1&code=c#top");
}

TEST(HtmlTest, OnlyLocalPathsAndWebUrlsAreTrusted) {
  EXPECT_TRUE(html::is_local_path("/chat?x=1"));
  EXPECT_FALSE(html::is_local_path("//evil.example"));
  EXPECT_FALSE(html::is_local_path("/\\evil.example"));
  EXPECT_FALSE(html::is_local_path("https://evil.example"));
  EXPECT_TRUE(html::is_web_url("https://example.com/x"));
  EXPECT_FALSE(html::is_web_url("javascript:alert(1)"));
  EXPECT_FALSE(html::is_web_url(" https://example.com"));
  EXPECT_FALSE(html::is_web_url("data:text/html,x"));
}

TEST(ChatViewTest, TemplateButtonsBecomeFormsAndSafeLinks) {
  ChatMessage message{.mid = "m_1", .thread_id = "7", .from = "9", .from_bot = true};
  message.message = boost::json::parse(R"json({"attachment":{"type":"template","payload":{"template_type":"generic","elements":[
      {"title":"A","buttons":[{"type":"web_url","title":"Site","url":"https://example.com/a"}]},
      {"title":"B","buttons":[{"type":"web_url","title":"Bad","url":"javascript:alert(1)"},
                              {"type":"postback","title":"Choose B","payload":"B"}]}]}}})json");
  const std::string out = render_conversation({{.message = &message, .sender_name = "Bot"}}, "/chat/7", "tok");
  EXPECT_THAT(out, HasSubstr("href=\"https://example.com/a\" target=\"_blank\" rel=\"noopener noreferrer\""));
  EXPECT_THAT(out, Not(HasSubstr("javascript:")));
  EXPECT_THAT(out, HasSubstr("name=\"index\" value=\"2\"><button type=\"submit\">Choose B</button>"));
}

TEST(ChatViewTest, GenericTemplateCardsShowEveryField) {
  ChatMessage message{.mid = "m_1", .thread_id = "7", .from = "9", .from_bot = true};
  message.message = boost::json::parse(R"json({"attachment":{"type":"template","payload":{"template_type":"generic","elements":[
      {"title":"Ticket <42>","subtitle":"Printer jam","image_url":"https://vendor.example/42.png",
       "default_action":{"type":"web_url","url":"https://vendor.example/t/42"},
       "buttons":[{"type":"postback","title":"Close","payload":"CLOSE_42"}]},
      {"title":"Bad image","image_url":"javascript:alert(1)"}]}}})json");
  const std::string out = render_conversation({{.message = &message, .sender_name = "Bot"}}, "/chat/7", "tok");
  EXPECT_THAT(out, HasSubstr("<strong>Ticket &lt;42&gt;</strong><div class=\"muted\">Printer jam</div>"));
  EXPECT_THAT(out, HasSubstr("href=\"https://vendor.example/42.png\" target=\"_blank\" rel=\"noopener noreferrer\">[image]</a>"));
  EXPECT_THAT(out, HasSubstr("href=\"https://vendor.example/t/42\" target=\"_blank\" rel=\"noopener noreferrer\">Open</a>"));
  EXPECT_THAT(out, HasSubstr("name=\"index\" value=\"0\"><button type=\"submit\">Close</button>"));
  EXPECT_THAT(out, HasSubstr("<span class=\"button\">[image]</span>"));
  EXPECT_THAT(out, Not(HasSubstr("javascript:")));
  EXPECT_THAT(out, Not(HasSubstr("<img")));
}

TEST(ChatViewTest, MalformedMessagesRenderWithoutCrashing) {
  for (const char* text : {R"(null)", R"([1,2])", R"({"text":5,"quick_replies":"x"})",
                           R"({"attachment":{"type":"template","payload":{"template_type":"button","buttons":[1,{"type":7}]}}})"}) {
    ChatMessage message{.mid = "m_1", .from_bot = true};
    message.message = boost::json::parse(text);
    EXPECT_THAT(render_conversation({{.message = &message, .sender_name = "<b>"}}, "/chat/7", "tok"), HasSubstr("&lt;b&gt;"))
        << text;
  }
}

TEST(ChatViewTest, MentionsOfKnownIdsAreHighlightedAndTheRestEscaped) {
  const auto name_of = [](const Id& id) -> std::optional<std::string> {
    if (id == "42") return std::string("<Bot>");
    return std::nullopt;
  };
  EXPECT_EQ(render_mentions("@[42] hi @[7] <x> @[", name_of),
            "<span class=\"mention\">@&lt;Bot&gt;</span> hi @[7] &lt;x&gt; @[");
}

TEST(InstallDialogTest, PermissionsComeFromBothSpellingsAndMustBeRegistered) {
  testing::FakeClock clock;
  auto state = PlatformState::open({}, clock);
  ASSERT_THAT(state, IsOk());
  ASSERT_THAT((*state)->register_app(App{.id = "5", .secret = "s", .name = "A", .redirect_url = "https://a.example/cb",
                                          .permissions = {"message", "read_group", "bot_mention"}}),
              IsOk());
  http::Params both({{"app_id", "5"}, {"permissions[]", "MESSAGE"}, {"permissions", "read_group, message"}});
  auto parsed = parse_install_request(**state, both);
  ASSERT_THAT(parsed, IsOk());
  EXPECT_THAT(parsed->permissions, ::testing::ElementsAre("message", "read_group"));
  EXPECT_EQ(parsed->redirect_uri, "https://a.example/cb");
  EXPECT_FALSE(parsed->state.has_value());

  EXPECT_THAT(parse_install_request(**state, http::Params({{"app_id", "5"}, {"permissions", "manage_accounts"}})),
              HasError(ErrorCode::kInvalidArgument, HasSubstr("manage_accounts")));
  EXPECT_THAT(parse_install_request(**state, http::Params({{"app_id", "6"}, {"state", "s"}})), HasError(ErrorCode::kNotFound));
  EXPECT_THAT(parse_install_request(**state, http::Params({{"app_id", "5"}, {"redirect_uri", "https://a.example/cb2"}})),
              HasError(ErrorCode::kInvalidArgument));
  EXPECT_THAT(parse_install_request(**state, http::Params({{"app_id", "5"}, {"state", std::string(kMaxStateBytes + 1, 'x')}})),
              HasError(ErrorCode::kInvalidArgument));
}

TEST(SessionsTest, IdleSessionsExpireAndTheOldestIsDroppedWhenFull) {
  testing::FakeClock clock;
  Sessions sessions(clock, {.max_sessions = 2, .idle_lifetime = std::chrono::seconds(60)});
  const auto request_with = [](const Session& session) {
    http::Request::Message message;
    message.set(boost::beast::http::field::cookie, "other=1; " + Sessions::cookie(session).substr(0, Sessions::cookie(session).find(';')));
    return http::Request(std::move(message), {}, "/", {}, "r");
  };
  const Session first = sessions.start(std::nullopt);
  clock.advance(std::chrono::seconds(1));
  const Session second = sessions.start(std::string("7"));
  clock.advance(std::chrono::seconds(1));
  EXPECT_TRUE(sessions.find(request_with(first)).has_value());  // now used more recently than `second`
  clock.advance(std::chrono::seconds(1));
  const Session third = sessions.start(std::nullopt);  // drops `second`, used least recently
  EXPECT_FALSE(sessions.find(request_with(second)).has_value());
  clock.advance(std::chrono::seconds(61));
  EXPECT_FALSE(sessions.find(request_with(third)).has_value());
  EXPECT_TRUE(Sessions::csrf_matches(first, first.csrf_token));
  EXPECT_FALSE(Sessions::csrf_matches(first, third.csrf_token));
}

}  // namespace
}  // namespace wik::emulator
