// The kit's admin pages (issue 8) over a real SQLite store, routed as the server routes them, with a
// gate that stands in for the install part's sign-in and CSRF machinery (the App's real gate is
// exercised end to end in tests/app): the health columns of the overview, the page of each
// community, hostile community ids, who is let in, replay forms without the browser's token, and the
// settings form of each community (defaults, saving, hostile and invalid values, forged forms).
#include "admin/admin_pages.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <spdlog/spdlog.h>

#include <boost/asio/io_context.hpp>

#include <map>

#include "core/key_ring.h"
#include "http/html.h"
#include "http/url.h"
#include "store/sqlite/sqlite_database.h"
#include "support/fake_clock.h"
#include "support/result_matchers.h"
#include "support/run_coroutine.h"
#include "support/temp_dir.h"

namespace wik::admin {
namespace {

using boost::beast::http::status;
using boost::beast::http::verb;
using ::testing::HasSubstr;
using ::testing::Not;
using wik::testing::IsOk;
using namespace std::chrono_literals;

constexpr const char* kCsrf = "csrf-of-this-browser";
constexpr const char* kAdmin = "ops@vendor.test admin";
constexpr const char* kToken = "CANARY-TOKEN-never-shown";
constexpr std::int64_t kNewYear2026 = 1767225600;  // 2026-01-01 00:00:00 UTC

// The gate: the visitor comes from an X-Test-Visitor header ("email" or "email admin"), the
// browser's CSRF token is kCsrf, and a form is accepted only when its csrf field matches it.
Gate test_gate() {
  return Gate{
      .signed_in =
          [](const http::Request& request) {
            std::vector<Visitor> visitors;
            const std::string visitor(request.header("X-Test-Visitor").value_or(""));
            if (visitor.empty()) return visitors;
            const std::size_t space = visitor.find(' ');
            visitors.push_back({.email = visitor.substr(0, space), .admin = visitor.ends_with(" admin")});
            return visitors;
          },
      .csrf_token = [](const http::Request&) { return std::string(kCsrf); },
      .checked_form = [](const http::Request& request) -> std::optional<http::Params> {
        auto form = request.form();
        if (!form.ok() || form->find("csrf") != kCsrf) return std::nullopt;
        return *form;
      },
      .page = [](std::string page, std::string_view, status code) { return http::html_response(std::move(page), code); },
      .sign_in_path = "/signin",
      .sign_out_path = "/signout",
      .install_path = "/workplace/add"};
}

class AdminPagesTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { spdlog::set_level(spdlog::level::off); }
  // The community settings the app declares.
  virtual std::vector<CommunitySetting> declared_settings() const { return {}; }

  void SetUp() override {
    auto database = store::SqliteDatabase::open({.path = dir_.path() / "wik.db"});
    ASSERT_THAT(database, IsOk());
    store::StoreOptions options;
    options.password_cost = store::PasswordCost::minimum();
    options.max_attempts = 1;  // the first failure makes a dead letter
    auto opened = store::Store::open(std::move(*database), core::KeyRing::generate("k1"), clock_, options);
    ASSERT_THAT(opened, IsOk());
    store_ = std::move(*opened);
    pages_ = std::make_unique<AdminPages>(*store_, test_gate(), "Notes", declared_settings());
    pages_->add_routes(router_);
  }

  // Installs `community_id` named `name`, installed by `installer` when given.
  store::CommunityScope install(const std::string& community_id, const std::string& name,
                                std::optional<store::AccountId> installer = {}) {
    auto scope = store_->community(community_id);
    EXPECT_THAT(scope, IsOk());
    EXPECT_THAT(scope->put_installation({.community_name = name,
                                         .access_token = AccessToken(kToken),
                                         .permissions = {"message", "read_user_email"},
                                         .installed_by = installer}),
                IsOk());
    return *scope;
  }

  // Stores a webhook event of `scope` and lets its handler fail once: a dead letter.
  void dead_letter(store::CommunityScope& scope, const std::string& key) {
    ASSERT_THAT(scope.insert_inbox_event({.topic = "page", .dedupe_key = key, .payload = "{}"}), IsOk());
    auto claimed = store_->claim_inbox_events("w", 10, 30s);
    ASSERT_THAT(claimed, IsOk());
    for (const store::ClaimedEvent& event : *claimed) {
      ASSERT_THAT(store_->fail_inbox_event(event, "handler said <no>", std::nullopt), IsOk());
    }
  }

  // Sends a request for `target` as the server would route it and returns the answer.
  http::Response call(verb method, const std::string& target, const std::string& visitor = kAdmin,
                      const std::vector<std::pair<std::string, std::string>>& form = {}) {
    auto parsed = http::parse_target(target);
    EXPECT_THAT(parsed, IsOk()) << target;
    if (!parsed.ok()) return http::Response(status::bad_request);
    http::RouteMatch match = router_.match(method, parsed->segments);
    if (match.route == nullptr) return http::Response(status::not_found);
    http::Request::Message message{method, target, 11};
    if (!visitor.empty()) message.set("X-Test-Visitor", visitor);
    if (method == verb::post) {
      message.set(boost::beast::http::field::content_type, "application/x-www-form-urlencoded");
      message.body() = http::encode_form(form);
      message.prepare_payload();
    }
    http::Request request(std::move(message), std::move(*parsed), match.route->pattern, std::move(match.params),
                          "request-1");
    auto response = testing::run_coroutine(io_, match.route->handler(request));
    EXPECT_THAT(response, IsOk());
    return response.ok() ? std::move(*response) : http::Response(status::internal_server_error);
  }

  http::Response get(const std::string& target, const std::string& visitor = kAdmin) {
    return call(verb::get, target, visitor);
  }

  std::int64_t dead_letters_of(const std::string& community_id) {
    return store_->community(community_id)->inbox_counts().value().dead_letters;
  }

  testing::TempDir dir_;
  testing::FakeClock clock_{kNewYear2026};
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<AdminPages> pages_;
  http::Router router_;
  boost::asio::io_context io_;
};

TEST(CommunityPathTest, EncodesTheIdAsOnePathSegment) {
  EXPECT_EQ(community_path("1234567890"), "/admin/communities/1234567890");
  EXPECT_EQ(community_path("a/b?c#d"), "/admin/communities/a%2Fb%3Fc%23d");
  EXPECT_EQ(community_path("x\"<script>'%"), "/admin/communities/x%22%3Cscript%3E%27%25");
}

TEST_F(AdminPagesTest, TheOverviewShowsEachCommunitysHealthAndLinksItsPage) {
  const auto ops = store_->create_account("ops@vendor.test", Secret("pw"), "admin").value();
  store::CommunityScope acme = install("1001", "Acme <b>Corp</b>", ops.id);
  install("1002", "Globex");
  store::CommunityScope gone = install("1003", "Initech");
  ASSERT_THAT(gone.revoke_installation(), IsOk());

  clock_.advance(2min);
  ASSERT_THAT(acme.insert_inbox_event({.topic = "page", .dedupe_key = "m1", .payload = "{}"}), IsOk());
  clock_.advance(1min);
  ASSERT_THAT(acme.record_graph_error("graph error 2: <temporarily> \"down\""), IsOk());
  clock_.advance(1min);
  ASSERT_THAT(acme.record_token_valid(), IsOk());

  const http::Response overview = get("/admin");
  ASSERT_EQ(overview.status(), status::ok);
  const std::string& body = overview.body();
  EXPECT_THAT(body, HasSubstr("<th scope=\"col\">Last webhook</th><th scope=\"col\">Last Graph error</th>"
                              "<th scope=\"col\">Token</th>"));
  EXPECT_THAT(body, HasSubstr("<tr><th scope=\"row\"><a href=\"/admin/communities/1001\">Acme &lt;b&gt;Corp&lt;/b&gt;"
                              "</a></th><td>1001</td><td>installed</td><td>2026-01-01 00:00 UTC</td>"
                              "<td>2026-01-01 00:02 UTC</td>"
                              "<td>graph error 2: &lt;temporarily&gt; &quot;down&quot; <small>(2026-01-01 00:03 UTC)"
                              "</small></td><td>active, checked 2026-01-01 00:04 UTC</td></tr>"));
  EXPECT_THAT(body, HasSubstr("<a href=\"/admin/communities/1002\">Globex</a></th><td>1002</td><td>installed</td>"
                              "<td>2026-01-01 00:00 UTC</td><td>never</td><td>none</td>"
                              "<td>active, not yet checked</td></tr>"));
  EXPECT_THAT(body, HasSubstr("<a href=\"/admin/communities/1003\">Initech</a></th><td>1003</td><td>uninstalled</td>"
                              "<td>2026-01-01 00:00 UTC</td><td>never</td><td>none</td><td>revoked</td></tr>"));
  EXPECT_THAT(body, Not(HasSubstr("<b>Corp")));
  EXPECT_THAT(body, Not(HasSubstr(kToken)));
}

TEST_F(AdminPagesTest, ACommunitysPageShowsItsInstallationHealthQueueAndDeadLetters) {
  const auto ops = store_->create_account("ops@vendor.test", Secret("pw"), "admin").value();
  store::CommunityScope acme = install("1001", "Acme", ops.id);
  store::CommunityScope other = install("2002", "Other");
  dead_letter(acme, "m1");
  dead_letter(other, "o1");
  ASSERT_THAT(acme.insert_inbox_event({.topic = "page", .dedupe_key = "m2", .payload = "{}"}), IsOk());
  clock_.advance(5min);
  ASSERT_THAT(acme.record_token_valid(), IsOk());

  const http::Response page = get("/admin/communities/1001");
  ASSERT_EQ(page.status(), status::ok);
  const std::string& body = page.body();
  EXPECT_THAT(body, HasSubstr("<h1>Community Acme</h1>"));
  EXPECT_THAT(body, HasSubstr("<dt>Name</dt><dd>Acme</dd>"));
  EXPECT_THAT(body, HasSubstr("<dt>Community id</dt><dd>1001</dd>"));
  EXPECT_THAT(body, HasSubstr("<dt>State</dt><dd>installed</dd>"));
  EXPECT_THAT(body, HasSubstr("<dt>Installed</dt><dd>2026-01-01 00:00 UTC</dd>"));
  EXPECT_THAT(body, HasSubstr("<dt>Installed by</dt><dd>ops@vendor.test</dd>"));
  EXPECT_THAT(body, HasSubstr("<dt>Permissions granted</dt><dd><ul><li><code>message</code></li>"
                              "<li><code>read_user_email</code></li></ul></dd>"));
  EXPECT_THAT(body, HasSubstr("<dt>Last webhook</dt><dd>2026-01-01 00:00 UTC</dd>"));
  EXPECT_THAT(body, HasSubstr("<dt>Last successful Graph call</dt><dd>2026-01-01 00:05 UTC</dd>"));
  EXPECT_THAT(body, HasSubstr("<dt>Last Graph error</dt><dd>none</dd>"));
  EXPECT_THAT(body, HasSubstr("<dt>Token</dt><dd>active, checked 2026-01-01 00:05 UTC</dd>"));
  EXPECT_THAT(body, HasSubstr("<p>1 event(s) waiting to be handled, 1 dead letter(s).</p>"));
  EXPECT_THAT(body, HasSubstr("<td>page</td><td>1</td><td>handler said &lt;no&gt;</td>"));
  EXPECT_THAT(body, HasSubstr("<input type=\"hidden\" name=\"csrf\" value=\"csrf-of-this-browser\">"
                              "<input type=\"hidden\" name=\"community\" value=\"1001\">"
                              "<input type=\"hidden\" name=\"back\" value=\"community\">"));
  EXPECT_THAT(body, Not(HasSubstr("value=\"2002\""))) << "another community's dead letters stay off this page";
  EXPECT_THAT(body, Not(HasSubstr(kToken)));

  // The installer unknown, nothing granted, nothing received: said so.
  store::CommunityScope bare = store_->community("3003").value();
  ASSERT_THAT(bare.put_installation({.community_name = "Bare", .access_token = AccessToken(kToken),
                                     .permissions = {}, .installed_by = {}}),
              IsOk());
  const std::string bare_page = get("/admin/communities/3003").body();
  EXPECT_THAT(bare_page, HasSubstr("<dt>Installed by</dt><dd>unknown</dd>"));
  EXPECT_THAT(bare_page, HasSubstr("<dt>Permissions granted</dt><dd>none</dd>"));
  EXPECT_THAT(bare_page, HasSubstr("<dt>Last webhook</dt><dd>never</dd>"));
  EXPECT_THAT(bare_page, HasSubstr("<dt>Token</dt><dd>active, not yet checked</dd>"));
  EXPECT_THAT(bare_page, HasSubstr("<p>0 event(s) waiting to be handled, 0 dead letter(s).</p>"));
}

TEST_F(AdminPagesTest, HostileAndUnknownCommunityIdsGetTheNotFoundPageAndAreNeverEchoed) {
  install("1001", "Acme");
  const std::vector<std::string> targets = {
      "/admin/communities/%3Cscript%3Ealert(1)%3C%2Fscript%3E%22", "/admin/communities/999",
      "/admin/communities/a%20b", "/admin/communities/" + std::string(65, '1'),
      "/admin/communities/%27%22%3E%3Cimg%20src%3Dx%3E"};
  for (const std::string& target : targets) {
    const http::Response page = get(target);
    EXPECT_EQ(page.status(), status::not_found) << target;
    EXPECT_THAT(page.body(), HasSubstr("<h1>No such community</h1>")) << target;
    EXPECT_THAT(page.body(), Not(HasSubstr("<script>alert"))) << target;
    EXPECT_THAT(page.body(), Not(HasSubstr("<img"))) << target;
    EXPECT_THAT(page.body(), Not(HasSubstr("999"))) << target;
  }
}

TEST_F(AdminPagesTest, AnInstalledIdWithMarkupIsLinkedEncodedAndShownEscaped) {
  const std::string id = "x\"<script>'";  // printable ASCII: a valid id, whatever Workplace sends
  install(id, "Odd");
  const std::string overview = get("/admin").body();
  EXPECT_THAT(overview, HasSubstr("<a href=\"/admin/communities/x%22%3Cscript%3E%27\">Odd</a></th>"
                                  "<td>x&quot;&lt;script&gt;&#39;</td>"));
  EXPECT_THAT(overview, Not(HasSubstr("<script>")));

  const http::Response page = get("/admin/communities/x%22%3Cscript%3E%27");
  ASSERT_EQ(page.status(), status::ok);
  EXPECT_THAT(page.body(), HasSubstr("<dt>Community id</dt><dd>x&quot;&lt;script&gt;&#39;</dd>"));
  EXPECT_THAT(page.body(), Not(HasSubstr("<script>")));
}

TEST_F(AdminPagesTest, OnlyASignedInAdminSeesACommunitysPage) {
  install("1001", "Acme");
  const http::Response anonymous = get("/admin/communities/1001", "");
  EXPECT_EQ(anonymous.status(), status::see_other);
  EXPECT_EQ(anonymous.header("Location").value_or(""), "/signin?next=%2Fadmin%2Fcommunities%2F1001");

  const http::Response member = get("/admin/communities/1001", "viewer@vendor.test");
  EXPECT_EQ(member.status(), status::forbidden);
  EXPECT_THAT(member.body(), HasSubstr("Admins only"));
  EXPECT_THAT(member.body(), Not(HasSubstr("Acme")));

  // Unknown ids too: a visitor who is no admin learns nothing of which ids exist.
  EXPECT_EQ(get("/admin/communities/999", "viewer@vendor.test").status(), status::forbidden);
  EXPECT_EQ(get("/admin/communities/1001").status(), status::ok);
}

TEST_F(AdminPagesTest, AReplayWithoutTheBrowsersCsrfTokenChangesNothing) {
  store::CommunityScope acme = install("1001", "Acme");
  dead_letter(acme, "m1");
  ASSERT_EQ(dead_letters_of("1001"), 1);

  const http::Response forged = call(verb::post, "/admin/replay", kAdmin, {{"community", "1001"}, {"back", "community"}});
  EXPECT_EQ(forged.status(), status::forbidden);
  EXPECT_THAT(forged.body(), HasSubstr("Nothing was changed"));
  const http::Response wrong = call(verb::post, "/admin/replay", kAdmin,
                                    {{"csrf", "guessed"}, {"community", "1001"}, {"back", "community"}});
  EXPECT_EQ(wrong.status(), status::forbidden);
  const http::Response member = call(verb::post, "/admin/replay", "viewer@vendor.test",
                                     {{"csrf", kCsrf}, {"community", "1001"}, {"back", "community"}});
  EXPECT_EQ(member.status(), status::forbidden);
  EXPECT_EQ(dead_letters_of("1001"), 1);
}

TEST_F(AdminPagesTest, AReplayFromACommunitysPageReturnsToIt) {
  store::CommunityScope acme = install("1001", "Acme");
  dead_letter(acme, "m1");
  const http::Response replayed =
      call(verb::post, "/admin/replay", kAdmin, {{"csrf", kCsrf}, {"community", "1001"}, {"back", "community"}});
  ASSERT_EQ(replayed.status(), status::see_other) << replayed.body();
  EXPECT_EQ(replayed.header("Location").value_or(""), "/admin/communities/1001?replayed=1");
  EXPECT_EQ(dead_letters_of("1001"), 0);
  EXPECT_EQ(store_->community("1001")->inbox_counts().value().pending, 1);

  const std::string page = get("/admin/communities/1001?replayed=1").body();
  EXPECT_THAT(page, HasSubstr("<p role=\"status\"><strong>1 dead letter(s) put back in the queue.</strong></p>"));
  EXPECT_THAT(page, HasSubstr("<p>1 event(s) waiting to be handled, 0 dead letter(s).</p>"));

  // From the overview's form (no `back`), the browser returns to the overview.
  dead_letter(acme, "m2");
  const http::Response from_overview = call(verb::post, "/admin/replay", kAdmin, {{"csrf", kCsrf}, {"community", "1001"}});
  EXPECT_EQ(from_overview.header("Location").value_or(""), "/admin?replayed=1");
}

TEST(SettingValueProblemTest, RefusesBadUtf8ControlCharactersAndOverlongValues) {
  const CommunitySetting team{.name = "team", .label = "Team", .help = "", .default_value = "", .max_length = 5};
  EXPECT_EQ(setting_value_problem(team, ""), std::nullopt);
  EXPECT_EQ(setting_value_problem(team, "éèêëà"), std::nullopt) << "five characters, ten bytes";
  EXPECT_EQ(setting_value_problem(team, "<b>'\""), std::nullopt) << "markup is a value like any other";
  EXPECT_EQ(setting_value_problem(team, "éèêëàx"), "This is too long: 6 characters, at most 5.");
  const std::string control = "This holds a control character (such as a line break or a tab). Write it on one line.";
  for (const std::string value : {std::string("a\nb"), std::string("a\tb"), std::string("a\rb"), std::string("a\x7f"),
                                  std::string("a\0b", 3), std::string("a\xc2\x85")}) {
    EXPECT_EQ(setting_value_problem(team, value), control) << http::percent_encode(value);
  }
  EXPECT_EQ(setting_value_problem(team, "a\xc2\xa0"), std::nullopt) << "U+00A0 is no control character";
  for (const std::string value : {std::string("\xff"), std::string("\xc3"), std::string("\xc0\xaf"),
                                  std::string("\xed\xa0\x80")}) {
    EXPECT_EQ(setting_value_problem(team, value), "This is not valid text (UTF-8). Type it again.")
        << http::percent_encode(value);
  }
}

class AdminSettingsTest : public AdminPagesTest {
 protected:
  std::vector<CommunitySetting> declared_settings() const override {
    return {CommunitySetting{.name = "support_hours",
                             .label = "Support hours",
                             .help = "Shown in the bot's <help> answer.",
                             .default_value = "9:00–17:00",
                             .max_length = 10},
            CommunitySetting{.name = "team", .label = "Team", .help = "Who answers.", .default_value = "", .max_length = 40}};
  }

  std::map<std::string, std::string> stored(const std::string& community_id) {
    return store_->community(community_id)->settings().value();
  }

  http::Response save(const std::string& community_target, std::vector<std::pair<std::string, std::string>> form,
                      const std::string& visitor = kAdmin) {
    return call(verb::post, "/admin/communities/" + community_target + "/settings", visitor, form);
  }
};

TEST_F(AdminSettingsTest, TheCommunityPageShowsALabelledFieldPerSettingWithItsDefault) {
  install("1001", "Acme");
  const http::Response page = get("/admin/communities/1001");
  ASSERT_EQ(page.status(), status::ok);
  const std::string& body = page.body();
  EXPECT_THAT(body, HasSubstr("<h2>Settings</h2>\n<form method=\"post\" action=\"/admin/communities/1001/settings\">"
                              "<input type=\"hidden\" name=\"csrf\" value=\"csrf-of-this-browser\">"));
  EXPECT_THAT(body, HasSubstr("<p><label for=\"setting-support_hours\">Support hours</label><br><input type=\"text\" "
                              "id=\"setting-support_hours\" name=\"support_hours\" value=\"9:00–17:00\" maxlength=\"10\" "
                              "aria-describedby=\"setting-support_hours-help\"><br><small id=\"setting-support_hours-help\">"
                              "Shown in the bot&#39;s &lt;help&gt; answer.</small></p>"));
  EXPECT_THAT(body, HasSubstr("<label for=\"setting-team\">Team</label><br><input type=\"text\" id=\"setting-team\" "
                              "name=\"team\" value=\"\" maxlength=\"40\""));
  EXPECT_THAT(body, HasSubstr("<button type=\"submit\">Save settings</button></form>"));
  EXPECT_THAT(body, Not(HasSubstr("role=\"alert\"")));
}

TEST_F(AdminSettingsTest, SavingStoresTheValuesAndReturnsToThePageWhichShowsThemEscaped) {
  install("1001", "Acme");
  install("2002", "Other");
  const std::string hostile = "<script>\"x\"</script>'";
  const http::Response saved = save("1001", {{"csrf", kCsrf}, {"support_hours", "8–16 \"CET\""}, {"team", hostile}});
  ASSERT_EQ(saved.status(), status::see_other) << saved.body();
  EXPECT_EQ(saved.header("Location").value_or(""), "/admin/communities/1001?saved=1");
  const std::map<std::string, std::string> expected = {{"support_hours", "8–16 \"CET\""}, {"team", hostile}};
  EXPECT_EQ(stored("1001"), expected);
  EXPECT_THAT(stored("2002"), ::testing::IsEmpty()) << "another community's settings are untouched";

  const std::string page = get("/admin/communities/1001?saved=1").body();
  EXPECT_THAT(page, HasSubstr("<p role=\"status\"><strong>Settings saved.</strong></p>"));
  EXPECT_THAT(page, HasSubstr("name=\"support_hours\" value=\"8–16 &quot;CET&quot;\""));
  EXPECT_THAT(page, HasSubstr("name=\"team\" value=\"&lt;script&gt;&quot;x&quot;&lt;/script&gt;&#39;\""));
  EXPECT_THAT(page, Not(HasSubstr("<script>")));
  EXPECT_THAT(get("/admin/communities/2002").body(), HasSubstr("name=\"support_hours\" value=\"9:00–17:00\""));

  // Each change is audited by the setting's name, never its value; an unchanged value is not.
  ASSERT_EQ(save("1001", {{"csrf", kCsrf}, {"support_hours", "8–16 \"CET\""}, {"team", "Blue"}}).status(),
            status::see_other);
  std::vector<std::string> changed;
  const auto trail = store_->audit_trail("1001");  // named: a range-for over a temporary's value() dangles
  ASSERT_TRUE(trail.ok());
  for (const store::AuditEntry& entry : *trail) {
    if (entry.action == "setting_changed") changed.push_back(entry.detail);
  }
  EXPECT_THAT(changed, ::testing::ElementsAre("support_hours", "team", "team"));
}

TEST_F(AdminSettingsTest, InvalidValuesAreRefusedPerFieldAndNothingIsSaved) {
  install("1001", "Acme");
  const http::Response refused =
      save("1001", {{"csrf", kCsrf}, {"support_hours", "Monday to Friday"}, {"team", "Blue\nRed"}});
  EXPECT_EQ(refused.status(), status::bad_request);
  const std::string& body = refused.body();
  EXPECT_THAT(body, HasSubstr("<p role=\"alert\">Nothing was saved: correct the fields marked below and save again.</p>"));
  EXPECT_THAT(body, HasSubstr("name=\"support_hours\" value=\"Monday to Friday\" maxlength=\"10\" "
                              "aria-describedby=\"setting-support_hours-help setting-support_hours-error\" "
                              "aria-invalid=\"true\">"));
  EXPECT_THAT(body, HasSubstr("<strong id=\"setting-support_hours-error\" role=\"alert\">This is too long: 16 "
                              "characters, at most 10.</strong>"));
  EXPECT_THAT(body, HasSubstr("<strong id=\"setting-team-error\" role=\"alert\">This holds a control character"));
  EXPECT_THAT(stored("1001"), ::testing::IsEmpty());

  // One bad field is enough to save none.
  EXPECT_EQ(save("1001", {{"csrf", kCsrf}, {"support_hours", "8-16"}, {"team", "Blue\t"}}).status(),
            status::bad_request);
  EXPECT_EQ(save("1001", {{"csrf", kCsrf}, {"support_hours", "8-16"}, {"team", "\xff"}}).status(), status::bad_request);
  EXPECT_THAT(stored("1001"), ::testing::IsEmpty());
}

TEST_F(AdminSettingsTest, AnUnknownSettingNameIsRefusedShownEscapedAndNothingIsSaved) {
  install("1001", "Acme");
  const http::Response refused = save("1001", {{"csrf", kCsrf}, {"team", "Blue"}, {"<img src=x>", "1"}});
  EXPECT_EQ(refused.status(), status::bad_request);
  EXPECT_THAT(refused.body(), HasSubstr("<p role=\"alert\">The form named a setting the app does not have "
                                        "(<code>&lt;img src=x&gt;</code>). Nothing was saved.</p>"));
  EXPECT_THAT(refused.body(), Not(HasSubstr("<img")));
  EXPECT_THAT(stored("1001"), ::testing::IsEmpty());
}

TEST_F(AdminSettingsTest, OnlyAnAdminWithTheBrowsersCsrfTokenCanSaveAndNothingElseChangesAnything) {
  install("1001", "Acme");
  const http::Response anonymous = save("1001", {{"csrf", kCsrf}, {"team", "Blue"}}, "");
  EXPECT_EQ(anonymous.status(), status::see_other);
  EXPECT_EQ(anonymous.header("Location").value_or(""), "/signin?next=%2Fadmin%2Fcommunities%2F1001%2Fsettings");
  EXPECT_EQ(save("1001", {{"csrf", kCsrf}, {"team", "Blue"}}, "viewer@vendor.test").status(), status::forbidden);
  const http::Response missing = save("1001", {{"team", "Blue"}});
  EXPECT_EQ(missing.status(), status::forbidden);
  EXPECT_THAT(missing.body(), HasSubstr("Nothing was changed"));
  EXPECT_EQ(save("1001", {{"csrf", "guessed"}, {"team", "Blue"}}).status(), status::forbidden);
  EXPECT_THAT(stored("1001"), ::testing::IsEmpty());
}

TEST_F(AdminSettingsTest, UnknownAndUninstalledCommunitiesGetTheNotFoundPage) {
  store::CommunityScope gone = install("1003", "Initech");
  ASSERT_THAT(gone.revoke_installation(), IsOk());
  for (const std::string target : {"999", "1003", "%3Cscript%3E"}) {
    const http::Response page = save(target, {{"csrf", kCsrf}, {"team", "Blue"}});
    EXPECT_EQ(page.status(), status::not_found) << target;
    EXPECT_THAT(page.body(), HasSubstr("<h1>No such community</h1>")) << target;
    EXPECT_THAT(page.body(), Not(HasSubstr("<script>"))) << target;
  }
  EXPECT_THAT(stored("1003"), ::testing::IsEmpty());
  EXPECT_THAT(get("/admin/communities/1003").body(),
              HasSubstr("<p>The app is uninstalled from this community, so its settings cannot be changed.</p>"));
}

TEST_F(AdminPagesTest, ACommunityPageSaysSoWhenTheAppHasNoSettings) {
  install("1001", "Acme");
  EXPECT_THAT(get("/admin/communities/1001").body(),
              HasSubstr("<h2>Settings</h2>\n<p>The app has no settings for its communities.</p>"));
}

}  // namespace
}  // namespace wik::admin
