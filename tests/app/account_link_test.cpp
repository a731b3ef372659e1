// Account linking end to end (docs/identities.md), through the real App, its real sign-in and the
// in-process emulator (app_fixture.h): a person messages the bot, the handler replies with the
// link URL as a URL button, a browser signs in, opens the link, confirms, and the next event's
// handler sees linked_account(). Also: the email Workplace gives is only ever a proposal, the
// sign-in returns to the link page and to no other place, a link is used once, and the token never
// reaches a log line.
#include "app/app_fixture.h"
#include "install/test_browser.h"

namespace wik {
namespace {

namespace json = boost::json;
using ::testing::HasSubstr;
using ::testing::Not;
using wik::testing::AppTest;
using wik::testing::eventually;
using wik::testing::HasError;
using wik::testing::IsOk;
using wik::testing::kAppId;

constexpr const char* kPassword = "correct horse battery";

// "connect": the link URL as a URL button; "who": the linked account; "forget": unlinks.
boost::asio::awaitable<Result<void>> accounts_bot(Context& context, const Message& message) {
  if (message.text == "connect") {
    auto url = co_await context.account_link_url();
    if (!url.ok()) co_return url.error();
    const Reply reply = Reply::text("Connect your Notes account").link_button("Connect", *url);
    co_return co_await context.reply(reply);
  }
  if (message.text == "forget") {
    auto forgotten = co_await context.unlink_account();
    if (!forgotten.ok()) co_return forgotten.error();
  }
  auto account = co_await context.linked_account();
  if (!account.ok()) co_return account.error();
  const Reply reply = Reply::text(*account ? "You are " + (*account)->email : std::string("You are not connected"));
  co_return co_await context.reply(reply);
}

// An admin page that tries the person calls where there is no person.
boost::asio::awaitable<Result<AdminPage>> no_person_page(AdminContext& admin, const AdminRequest&) {
  auto communities = co_await admin.communities();
  if (!communities.ok() || communities->empty()) co_return Error(ErrorCode::kNotFound, "no community");
  auto community = co_await admin.community(communities->front().id);
  if (!community.ok()) co_return community.error();
  auto url = co_await (*community)->account_link_url();
  auto linked = co_await (*community)->linked_account();
  auto unlinked = co_await (*community)->unlink_account();
  const std::string codes = std::string(url.ok() ? "ok" : to_string(url.error().code())) + " " +
                            std::string(linked.ok() ? "ok" : to_string(linked.error().code())) + " " +
                            std::string(unlinked.ok() ? "ok" : to_string(unlinked.error().code()));
  co_return AdminPage{.title = "No person", .body_html = "<p>" + codes + "</p>", .redirect = {}};
}

class AccountLinkTest : public AppTest {
 protected:
  void SetUp() override {
    AppTest::SetUp();
    start_installed_app([](App& app) {
      app.name("Notes").on_message(accounts_bot).admin_page("/admin/no-person", "No person", no_person_page);
    });
    auto store = open_kit_store();
    ASSERT_NE(store, nullptr);
    // The vendor's account with the emulator person's email, and another one.
    bruno_ = store->create_account("bruno@acme.example", Secret(kPassword), "member").value().id;
    ASSERT_THAT(store->create_account("ops@vendor.test", Secret(kPassword), "admin"), IsOk());
    base_ = "http://127.0.0.1:" + std::to_string(app_->port());
  }

  // The person writes `text` and the bot answers: returns the bot's answer (its message JSON).
  json::object person_asks(const std::string& text) {
    const std::size_t before = emulator_->state().bot_messages(std::string(kAppId)).size();
    person_writes(text);
    EXPECT_TRUE(eventually([&] { return emulator_->state().bot_messages(std::string(kAppId)).size() > before; }))
        << "the bot did not answer " << text;
    const auto sent = emulator_->state().bot_messages(std::string(kAppId));
    return sent.size() > before ? sent[before].message.as_object() : json::object{};
  }

  // Returns the URL of the link button of the bot's answer to "connect".
  std::string link_url() {
    const json::object answer = person_asks("connect");
    const auto* attachment = answer.if_contains("attachment");
    if (attachment == nullptr) {
      ADD_FAILURE() << "no button template: " << json::serialize(answer);
      return {};
    }
    const json::value& button = attachment->at("payload").at("buttons").at(0);
    EXPECT_EQ(button.at("type"), "web_url");
    return std::string(button.at("url").as_string());
  }

  std::string text_of(const json::object& message) {
    const auto* text = message.if_contains("text");
    return text && text->is_string() ? std::string(text->as_string()) : std::string();
  }

  // Signs `email` in on `browser`, from the sign-in page for `next`; returns where it was sent.
  std::string sign_in(testing::TestBrowser& browser, const std::string& email, const std::string& next) {
    const auto signed_in = testing::sign_in(browser, email, kPassword, next);
    EXPECT_EQ(signed_in.status, 303u) << signed_in.body;
    return std::string(signed_in.header("Location").value_or(""));
  }

  std::string base_;
  store::AccountId bruno_ = 0;
};

TEST_F(AccountLinkTest, APersonLinksTheirAccountBySigningInAndConfirmingAndTheNextEventSeesIt) {
  capture_logs();
  EXPECT_EQ(text_of(person_asks("who")), "You are not connected");
  const std::string url = link_url();
  ASSERT_TRUE(url.starts_with(base_ + "/link?c=" + install_.community_id + "&t=")) << url;
  const std::string target = url.substr(base_.size());
  const std::string token = url.substr(url.find("&t=") + 3);
  ASSERT_EQ(token.size(), 43u);

  // The kit recorded the person: app-scoped id and (read_user_email granted) email, no link yet.
  const std::string scoped = emulator_->state().scoped_user_id(kAppId, person_id_);
  auto store = open_kit_store();
  ASSERT_NE(store, nullptr);
  const store::Identity recorded = store->community(install_.community_id)->identity(scoped).value();
  EXPECT_EQ(recorded.email, "bruno@acme.example");
  EXPECT_EQ(recorded.account_id, std::nullopt);

  testing::TestBrowser browser(io_, *http_, base_);
  const auto page = browser.get(target);
  ASSERT_EQ(page.status, 200u) << page.body;
  EXPECT_THAT(page.body, HasSubstr("<strong>Bruno Costa</strong> of the community <strong>Acme Corp</strong>"));
  EXPECT_THAT(page.body, HasSubstr("sign in as bruno@acme.example</a> to connect it"));
  EXPECT_THAT(page.body, Not(HasSubstr("<form")));
  EXPECT_THAT(std::string(page.header("Content-Security-Policy").value_or("")), HasSubstr("default-src 'none'"));
  EXPECT_EQ(page.header("X-Frame-Options").value_or(""), "DENY");
  EXPECT_EQ(page.header("Referrer-Policy").value_or(""), "no-referrer");
  EXPECT_EQ(page.header("Cache-Control").value_or(""), "no-store");

  // The sign-in returns to the link page; the proposed account is now signed in and preselected.
  EXPECT_EQ(sign_in(browser, "bruno@acme.example", target), target);
  const auto signed_in = browser.get(target);
  ASSERT_EQ(signed_in.status, 200u);
  EXPECT_THAT(signed_in.body, HasSubstr("value=\"" + std::to_string(bruno_) + "\" required checked>"));
  EXPECT_EQ(text_of(person_asks("who")), "You are not connected") << "opening the page links nothing";

  const testing::TestBrowser::Fields confirm{{"csrf", browser.cookie("wik_csrf").value_or("")},
                                             {"c", install_.community_id},
                                             {"t", token},
                                             {"account", std::to_string(bruno_)}};
  EXPECT_EQ(browser.post("/link", {confirm[1], confirm[2], confirm[3]}).status, 403u) << "no CSRF token";
  const auto done = browser.post("/link", confirm);
  ASSERT_EQ(done.status, 200u) << done.body;
  EXPECT_THAT(done.body, HasSubstr("is now connected to the Notes account <strong>bruno@acme.example</strong>"));

  EXPECT_EQ(text_of(person_asks("who")), "You are bruno@acme.example");
  EXPECT_EQ(browser.post("/link", confirm).status, 409u) << "a link is used once";
  EXPECT_EQ(text_of(person_asks("forget")), "You are not connected");
  EXPECT_EQ(text_of(person_asks("who")), "You are not connected");

  spdlog::default_logger()->flush();
  EXPECT_THAT(log_.str(), HasSubstr("connected account"));
  EXPECT_THAT(log_.str(), Not(HasSubstr(token)));
}

// The nOAuth takeover: Workplace says the person's email is the vendor admin's. Another account
// signed in on the person's browser can link only itself, and the admin's account stays unlinked.
TEST_F(AccountLinkTest, AnEqualEmailNeverLinksTheAccountWithoutItsOwnerSigningIn) {
  const std::string url = link_url();
  const std::string target = url.substr(base_.size());
  const std::string token = url.substr(url.find("&t=") + 3);
  testing::TestBrowser browser(io_, *http_, base_);
  sign_in(browser, "ops@vendor.test", target);
  const auto forged = browser.post("/link", {{"csrf", browser.cookie("wik_csrf").value_or("")},
                                              {"c", install_.community_id},
                                              {"t", token},
                                              {"account", std::to_string(bruno_)}});
  EXPECT_EQ(forged.status, 403u);
  EXPECT_THAT(forged.body, HasSubstr("Please sign in"));
  EXPECT_EQ(text_of(person_asks("who")), "You are not connected");
}

TEST_F(AccountLinkTest, TheSignInReturnsToTheLinkPageAndNowhereElse) {
  testing::TestBrowser browser(io_, *http_, base_);
  const std::string link = "/link?c=" + install_.community_id + "&t=abc_DEF-123";
  EXPECT_EQ(sign_in(browser, "ops@vendor.test", link), link);
  EXPECT_EQ(sign_in(browser, "ops@vendor.test", "/link"), "/link");
  for (const std::string next : {"//evil.example/link", "https://evil.example/link?c=1", "/linkx?c=1",
                                 "/link/../admin", "/link?c=1&t=a b", "/link?c=1\r\nSet-Cookie: x=y",
                                 "/link?next=//evil.example", "/link#x", "\\\\evil.example/link"}) {
    const std::string location = sign_in(browser, "ops@vendor.test", next);
    EXPECT_EQ(location, "/admin/install") << next;
  }
}

TEST_F(AccountLinkTest, TheCallsNeedAPersonAndAnInstall) {
  testing::TestBrowser browser(io_, *http_, base_);
  sign_in(browser, "ops@vendor.test", "/admin/no-person");
  const auto page = browser.get("/admin/no-person");
  ASSERT_EQ(page.status, 200u) << page.body;
  EXPECT_THAT(page.body, HasSubstr("<p>invalid_argument invalid_argument invalid_argument</p>"));
}

TEST_F(AccountLinkTest, WithoutReadUserEmailOnlyTheIdIsRecordedAndNothingIsProposed) {
  // The install loses read_user_email, as a reinstall granting fewer permissions records it.
  auto store = open_kit_store();
  ASSERT_NE(store, nullptr);
  ASSERT_THAT(store->community(install_.community_id)
                  ->put_installation({.community_name = "Acme Corp",
                                      .access_token = AccessToken(install_.access_token),
                                      .permissions = {"message"}}),
              IsOk());
  const std::string url = link_url();
  const std::string scoped = emulator_->state().scoped_user_id(kAppId, person_id_);
  EXPECT_EQ(store->community(install_.community_id)->identity(scoped).value().email, "");
  testing::TestBrowser browser(io_, *http_, base_);
  const auto page = browser.get(url);
  ASSERT_EQ(page.status, 200u);
  EXPECT_THAT(page.body, HasSubstr("Bruno Costa"));
  EXPECT_THAT(page.body, Not(HasSubstr("bruno@acme.example")));
}

TEST_F(AccountLinkTest, AnUninstallMakesOpenLinksUnusable) {
  const std::string url = link_url();
  const auto uninstalled = control("/apps/" + std::string(kAppId) + "/uninstall", {{"admin_id", admin_id_}});
  ASSERT_EQ(uninstalled.status, 200u) << uninstalled.body;
  testing::TestBrowser browser(io_, *http_, base_);
  EXPECT_TRUE(eventually([&] {
    const auto status = browser.get(url).status;
    return status == 410u || status == 404u;  // revoked, then purged
  }));
}

}  // namespace
}  // namespace wik
