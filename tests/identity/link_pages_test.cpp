// The account-link page (src/identity) over a real SQLite store, routed as the server routes it,
// with a gate that stands in for the install part's sign-in and CSRF machinery (the App's real gate
// is exercised end to end in tests/app/account_link_test.cpp): an equal email is only a proposal,
// expired, used, unknown and other communities' links, forged forms, uninstalls and store failures
// each end on their page having changed nothing, names and emails are escaped, every page carries
// the kit's HTML headers, and the token never reaches a log line.
#include "identity/link_pages.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <boost/asio/io_context.hpp>

#include <map>
#include <sstream>

#include "core/key_ring.h"
#include "http/html.h"
#include "http/url.h"
#include "store/sqlite/sqlite_database.h"
#include "support/fake_clock.h"
#include "support/result_matchers.h"
#include "support/run_coroutine.h"
#include "support/temp_dir.h"

namespace wik::identity {
namespace {

using boost::beast::http::status;
using boost::beast::http::verb;
using ::testing::HasSubstr;
using ::testing::Not;
using wik::testing::HasError;
using wik::testing::IsOk;
using namespace std::chrono_literals;

constexpr const char* kCsrf = "csrf-of-this-browser";
constexpr std::int64_t kNewYear2026 = 1767225600;  // 2026-01-01 00:00:00 UTC

using Fields = std::vector<std::pair<std::string, std::string>>;

class LinkPagesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto database = store::SqliteDatabase::open({.path = dir_.path() / "wik.db"});
    ASSERT_THAT(database, IsOk());
    store::StoreOptions options;
    options.password_cost = store::PasswordCost::minimum();
    auto opened = store::Store::open(std::move(*database), core::KeyRing::generate("k1"), clock_, options);
    ASSERT_THAT(opened, IsOk());
    store_ = std::move(*opened);
    pages_ = std::make_unique<LinkPages>(*store_, gate(), clock_, LinkPagesOptions{.app_name = "Notes"});
    pages_->add_routes(router_);
    admin_ = store_->create_account("admin@vendor.test", Secret("pw"), "admin").value();
    mallory_ = store_->create_account("mallory@vendor.test", Secret("pw"), "member").value();
  }

  // The gate: the browser's signed-in accounts are the emails of an X-Test-Accounts header
  // ("a@x,b@y"), its CSRF token is kCsrf, and a form is accepted only when its csrf field matches it
  // and it was not sent from another site.
  Gate gate() {
    return Gate{
        .signed_in =
            [this](const http::Request& request) {
              std::vector<store::Account> accounts;
              const std::string header(request.header("X-Test-Accounts").value_or(""));
              for (std::size_t at = 0; at < header.size();) {
                const std::size_t comma = std::min(header.find(',', at), header.size());
                const std::string email = header.substr(at, comma - at);
                if (email == admin_.email) accounts.push_back(admin_);
                if (email == mallory_.email) accounts.push_back(mallory_);
                at = comma + 1;
              }
              return accounts;
            },
        .csrf_token = [](const http::Request&) { return std::string(kCsrf); },
        .checked_form = [](const http::Request& request) -> std::optional<http::Params> {
          if (request.header("Sec-Fetch-Site") == "cross-site") return std::nullopt;
          auto form = request.form();
          if (!form.ok() || form->find("csrf") != kCsrf) return std::nullopt;
          return *form;
        },
        .page = [](std::string page, std::string_view,
                   status code) { return http::html_response(std::move(page), code); },
        .sign_in_path = "/signin"};
  }

  store::CommunityScope install(const std::string& community_id, const std::string& name) {
    auto scope = store_->community(community_id);
    EXPECT_THAT(scope, IsOk());
    EXPECT_THAT(scope->put_installation({.community_name = name,
                                         .access_token = AccessToken("CANARY-TOKEN"),
                                         .permissions = {"message", "read_user_email"},
                                         .installed_by = {}}),
                IsOk());
    return *scope;
  }

  // Makes a link for person `user_id` of `scope` and returns its token.
  std::string link(store::CommunityScope& scope, const std::string& user_id, const std::string& email,
                   const std::string& name = "Ada Lovelace") {
    auto token = scope.create_account_link({.user_id = user_id, .email = email, .person_name = name}, 15min);
    EXPECT_THAT(token, IsOk());
    tokens_.push_back(token.ok() ? std::string(token->expose()) : std::string());
    return tokens_.back();
  }

  http::Response call(verb method, const std::string& target, const std::string& accounts, const Fields& form = {},
                      const std::vector<std::pair<std::string, std::string>>& headers = {}) {
    auto parsed = http::parse_target(target);
    EXPECT_THAT(parsed, IsOk()) << target;
    if (!parsed.ok()) return http::Response(status::bad_request);
    http::RouteMatch match = router_.match(method, parsed->segments);
    if (match.route == nullptr) return http::Response(status::not_found);
    http::Request::Message message{method, target, 11};
    if (!accounts.empty()) message.set("X-Test-Accounts", accounts);
    for (const auto& [name, value] : headers) message.set(name, value);
    if (method == verb::post) {
      message.set(boost::beast::http::field::content_type, "application/x-www-form-urlencoded");
      message.body() = http::encode_form(form);
      message.prepare_payload();
    }
    http::Request request(std::move(message), std::move(*parsed), match.route->pattern, std::move(match.params),
                          "request-1");
    auto response = testing::run_coroutine(io_, match.route->handler(request));
    EXPECT_THAT(response, IsOk());
    responses_.push_back(response.ok() ? std::move(*response) : http::Response(status::internal_server_error));
    return responses_.back();
  }

  http::Response get(const std::string& community_id, const std::string& token, const std::string& accounts = {}) {
    return call(verb::get, "/link?" + http::encode_form({{"c", community_id}, {"t", token}}), accounts);
  }

  // Posts the confirmation of `token` of `community_id` as `account` from a browser with `accounts`.
  http::Response confirm(const std::string& community_id, const std::string& token, store::AccountId account,
                         const std::string& accounts, const std::string& csrf = kCsrf) {
    Fields form = {{"c", community_id}, {"t", token}, {"account", std::to_string(account)}};
    if (!csrf.empty()) form.emplace_back("csrf", csrf);
    return call(verb::post, "/link", accounts, form);
  }

  std::optional<store::AccountId> linked(const std::string& community_id, const std::string& user_id) {
    return store_->community(community_id)->identity(user_id).value().account_id;
  }

  testing::TempDir dir_;
  testing::FakeClock clock_{kNewYear2026};
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<LinkPages> pages_;
  http::Router router_;
  boost::asio::io_context io_;
  store::Account admin_;
  store::Account mallory_;
  std::vector<std::string> tokens_;         // every token made
  std::vector<http::Response> responses_;  // every response sent
};

TEST(LinkTargetTest, NamesTheCommunityAndTheTokenPercentEncoded) {
  EXPECT_EQ(link_target("/link", "1001", Secret("abc-_DEF")), "/link?c=1001&t=abc-_DEF");
  EXPECT_EQ(link_target("/link", "a&b=c", Secret("t")), "/link?c=a%26b%3Dc&t=t");
}

// The nOAuth takeover: a customer's admin gives a Workplace person the vendor admin's email. The
// page may propose that account, but only the account's owner, signed in here, can confirm it.
TEST_F(LinkPagesTest, AWorkplaceEmailEqualToAnAdminsIsOnlyProposedAndNeverLinkedWithoutThatAdmin) {
  store::CommunityScope acme = install("1001", "Acme");
  const std::string token = link(acme, "9001", "ADMIN@vendor.test", "Mallory");

  const http::Response anonymous = get("1001", token);
  ASSERT_EQ(anonymous.status(), status::ok);
  EXPECT_THAT(anonymous.body(), HasSubstr("sign in as admin@vendor.test</a> to connect it"));
  EXPECT_THAT(anonymous.body(), HasSubstr("href=\"/signin?next=%2Flink%3Fc%3D1001%26t%3D" + token + "\""));
  EXPECT_THAT(anonymous.body(), Not(HasSubstr("<form")));
  EXPECT_EQ(linked("1001", "9001"), std::nullopt) << "showing the page links nothing";

  // Nobody signed in, or only the attacker signed in: naming the admin's account is refused.
  EXPECT_EQ(confirm("1001", token, admin_.id, "").status(), status::forbidden);
  const http::Response as_other = confirm("1001", token, admin_.id, mallory_.email);
  EXPECT_EQ(as_other.status(), status::forbidden);
  EXPECT_THAT(as_other.body(), HasSubstr("Please sign in"));
  EXPECT_EQ(linked("1001", "9001"), std::nullopt);

  // The attacker's own page offers her own account, with the admin's only as a sign-in.
  const http::Response mallorys = get("1001", token, mallory_.email);
  EXPECT_THAT(mallorys.body(), HasSubstr("sign in as admin@vendor.test"));
  EXPECT_THAT(mallorys.body(), HasSubstr("value=\"" + std::to_string(mallory_.id) + "\" required checked>"));
  EXPECT_THAT(mallorys.body(), Not(HasSubstr("value=\"" + std::to_string(admin_.id) + "\"")));

  // Only the admin, signed in on this browser and confirming with its CSRF token, links the admin.
  EXPECT_EQ(confirm("1001", token, admin_.id, admin_.email, "").status(), status::forbidden);
  EXPECT_EQ(linked("1001", "9001"), std::nullopt);
  const http::Response admins = get("1001", token, admin_.email);
  EXPECT_THAT(admins.body(), HasSubstr("that of the account <strong>admin@vendor.test</strong>, signed in here"));
  const http::Response done = confirm("1001", token, admin_.id, admin_.email);
  ASSERT_EQ(done.status(), status::ok);
  EXPECT_THAT(done.body(), HasSubstr("<h1>Connected</h1>"));
  EXPECT_THAT(done.body(), HasSubstr("<strong>Mallory</strong> of the community <strong>Acme</strong>"));
  EXPECT_EQ(linked("1001", "9001"), admin_.id);
}

TEST_F(LinkPagesTest, APersonLinksAnyAccountSignedInOnTheirBrowserWhateverTheEmails) {
  store::CommunityScope acme = install("1001", "Acme");
  const std::string token = link(acme, "9002", "admin@vendor.test");
  const http::Response page = get("1001", token, mallory_.email + "," + admin_.email);
  ASSERT_EQ(page.status(), status::ok);
  // Both accounts are offered; the one with the person's email is preselected.
  EXPECT_THAT(page.body(), HasSubstr("value=\"" + std::to_string(mallory_.id) + "\" required> mallory@vendor.test"));
  EXPECT_THAT(page.body(), HasSubstr("value=\"" + std::to_string(admin_.id) + "\" required checked> admin@vendor.test"));
  EXPECT_THAT(page.body(), HasSubstr("<input type=\"hidden\" name=\"csrf\" value=\"" + std::string(kCsrf) + "\">"));
  ASSERT_EQ(confirm("1001", token, mallory_.id, mallory_.email + "," + admin_.email).status(), status::ok);
  EXPECT_EQ(linked("1001", "9002"), mallory_.id);

  // A new link replaces the account; the page says which one is connected now.
  const std::string again = link(acme, "9002", "admin@vendor.test");
  EXPECT_THAT(get("1001", again).body(), HasSubstr("Connected now to <strong>mallory@vendor.test</strong>"));
  ASSERT_EQ(confirm("1001", again, admin_.id, admin_.email).status(), status::ok);
  EXPECT_EQ(linked("1001", "9002"), admin_.id);
}

TEST_F(LinkPagesTest, ExpiredUsedUnknownAndMalformedLinksEndOnTheirPagesAndChangeNothing) {
  store::CommunityScope acme = install("1001", "Acme");
  const std::string token = link(acme, "9003", "");

  for (const std::string& bad : {std::string(43, 'A'), token.substr(0, 42), token + "A", std::string("x")}) {
    const http::Response unknown = get("1001", bad, admin_.email);
    EXPECT_EQ(unknown.status(), status::not_found) << bad;
    EXPECT_THAT(unknown.body(), HasSubstr("This link is not valid"));
    EXPECT_EQ(confirm("1001", bad, admin_.id, admin_.email).status(), status::not_found);
  }
  EXPECT_EQ(call(verb::get, "/link", admin_.email).status(), status::not_found);
  EXPECT_EQ(call(verb::get, "/link?t=" + token, admin_.email).status(), status::not_found);
  EXPECT_EQ(get("10 01", token, admin_.email).status(), status::not_found);
  EXPECT_EQ(linked("1001", "9003"), std::nullopt);

  ASSERT_EQ(confirm("1001", token, admin_.id, admin_.email).status(), status::ok);
  const http::Response reused = confirm("1001", token, mallory_.id, mallory_.email);
  EXPECT_EQ(reused.status(), status::conflict);
  EXPECT_THAT(reused.body(), HasSubstr("This link was already used"));
  EXPECT_EQ(get("1001", token).status(), status::conflict);
  EXPECT_EQ(linked("1001", "9003"), admin_.id);

  const std::string late = link(acme, "9004", "");
  clock_.advance(15min);
  const http::Response expired = get("1001", late, admin_.email);
  EXPECT_EQ(expired.status(), status::gone);
  EXPECT_THAT(expired.body(), HasSubstr("This link expired"));
  EXPECT_EQ(confirm("1001", late, admin_.id, admin_.email).status(), status::gone);
  EXPECT_EQ(linked("1001", "9004"), std::nullopt);
}

TEST_F(LinkPagesTest, ALinkOfOneCommunityNeitherLinksNorShowsAnythingOfAnother) {
  store::CommunityScope acme = install("1001", "Acme");
  store::CommunityScope globex = install("2002", "Globex");
  const std::string acmes = link(acme, "77", "", "Ada of Acme");
  link(globex, "77", "", "Grace of Globex");

  const http::Response shown = get("2002", acmes, admin_.email);
  EXPECT_EQ(shown.status(), status::not_found);
  EXPECT_THAT(shown.body(), Not(HasSubstr("Globex")));
  EXPECT_THAT(shown.body(), Not(HasSubstr("Grace")));
  EXPECT_THAT(shown.body(), Not(HasSubstr("Acme")));
  EXPECT_EQ(confirm("2002", acmes, admin_.id, admin_.email).status(), status::not_found);
  EXPECT_EQ(linked("2002", "77"), std::nullopt);
  EXPECT_EQ(linked("1001", "77"), std::nullopt);

  // In its own community the link still works, and links only there.
  ASSERT_EQ(confirm("1001", acmes, admin_.id, admin_.email).status(), status::ok);
  EXPECT_EQ(linked("1001", "77"), admin_.id);
  EXPECT_EQ(linked("2002", "77"), std::nullopt);
}

TEST_F(LinkPagesTest, AFormWithoutTheBrowsersCsrfTokenChangesNothing) {
  store::CommunityScope acme = install("1001", "Acme");
  const std::string token = link(acme, "9005", "");
  const http::Response missing = confirm("1001", token, admin_.id, admin_.email, "");
  EXPECT_EQ(missing.status(), status::forbidden);
  EXPECT_THAT(missing.body(), HasSubstr("The form could not be accepted"));
  EXPECT_EQ(confirm("1001", token, admin_.id, admin_.email, "csrf-of-another-browser").status(), status::forbidden);
  const Fields cross_site = {{"c", "1001"}, {"t", token}, {"account", std::to_string(admin_.id)}, {"csrf", kCsrf}};
  EXPECT_EQ(call(verb::post, "/link", admin_.email, cross_site, {{"Sec-Fetch-Site", "cross-site"}}).status(),
            status::forbidden);
  EXPECT_EQ(linked("1001", "9005"), std::nullopt);
  EXPECT_EQ(get("1001", token, admin_.email).status(), status::ok) << "the link is still usable";
  EXPECT_EQ(call(verb::post, "/link", admin_.email, {{"csrf", kCsrf}}).status(), status::not_found);
}

TEST_F(LinkPagesTest, AnUninstallMeanwhileOrAStoreFailureEndsOnItsPageAndLinksNothing) {
  store::CommunityScope acme = install("1001", "Acme");
  const std::string token = link(acme, "9006", "");
  ASSERT_EQ(get("1001", token, admin_.email).status(), status::ok);
  ASSERT_THAT(acme.revoke_installation(), IsOk());
  const http::Response gone = confirm("1001", token, admin_.id, admin_.email);
  EXPECT_EQ(gone.status(), status::gone);
  EXPECT_THAT(gone.body(), HasSubstr("The app is no longer installed"));
  EXPECT_EQ(get("1001", token, admin_.email).status(), status::gone);
  EXPECT_EQ(linked("1001", "9006"), std::nullopt);

  store::CommunityScope globex = install("2002", "Globex");
  const std::string other = link(globex, "9007", "");
  auto raw = store::SqliteDatabase::open({.path = dir_.path() / "wik.db"});
  ASSERT_THAT(raw, IsOk());
  ASSERT_THAT((*raw)->transact([](store::Transaction& tx) {
    return tx.execute_script("ALTER TABLE account_link_tokens RENAME TO account_link_tokens_away");
  }),
              IsOk());
  const http::Response failed = confirm("2002", other, admin_.id, admin_.email);
  EXPECT_EQ(failed.status(), status::service_unavailable);
  EXPECT_THAT(failed.body(), HasSubstr("nothing was changed"));
  EXPECT_EQ(get("2002", other, admin_.email).status(), status::service_unavailable);
  EXPECT_EQ(linked("2002", "9007"), std::nullopt);
}

TEST_F(LinkPagesTest, PagesEscapeNamesAndEmails) {
  store::CommunityScope acme = install("1001", "Acme <script>alert(1)</script>");
  const store::Account odd = store_->create_account("o'neil+<b>@vendor.test", Secret("pw"), "member").value();
  const std::string token = link(acme, "9008", "o'neil+<b>@vendor.test", "\"><img src=x onerror=alert(1)>");
  // The gate of this test knows two accounts only: sign the odd one in through a linked lookup.
  ASSERT_THAT(acme.redeem_account_link(Secret(std::string(token)), odd.id), IsOk());
  const std::string again = link(acme, "9008", "o'neil+<b>@vendor.test", "\"><img src=x onerror=alert(1)>");
  const http::Response page = get("1001", again, admin_.email);
  ASSERT_EQ(page.status(), status::ok);
  EXPECT_THAT(page.body(), HasSubstr("Acme &lt;script&gt;alert(1)&lt;/script&gt;"));
  EXPECT_THAT(page.body(), HasSubstr("&quot;&gt;&lt;img src=x onerror=alert(1)&gt;"));
  EXPECT_THAT(page.body(), HasSubstr("o&#39;neil+&lt;b&gt;@vendor.test"));
  const http::Response done = confirm("1001", again, admin_.id, admin_.email);
  ASSERT_EQ(done.status(), status::ok);
  for (const http::Response& response : {page, done}) {
    EXPECT_THAT(response.body(), Not(HasSubstr("<script>")));
    EXPECT_THAT(response.body(), Not(HasSubstr("<img")));
    EXPECT_THAT(response.body(), Not(HasSubstr("<b>@")));
  }
}

TEST_F(LinkPagesTest, EveryPageCarriesTheKitsHtmlHeaders) {
  store::CommunityScope acme = install("1001", "Acme");
  const std::string token = link(acme, "9009", "");
  get("1001", token);
  get("1001", token, admin_.email);
  confirm("1001", token, admin_.id, admin_.email, "");
  confirm("1001", token, admin_.id, "");
  confirm("1001", token, admin_.id, admin_.email);
  get("1001", token);
  get("1001", "unknown");
  ASSERT_EQ(responses_.size(), 7u);
  for (const http::Response& response : responses_) {
    EXPECT_EQ(response.header("Content-Type").value_or(""), "text/html; charset=utf-8");
    EXPECT_THAT(std::string(response.header("Content-Security-Policy").value_or("")), HasSubstr("default-src 'none'"));
    EXPECT_THAT(std::string(response.header("Content-Security-Policy").value_or("")), HasSubstr("frame-ancestors 'none'"));
    EXPECT_EQ(response.header("X-Frame-Options").value_or(""), "DENY");
    EXPECT_EQ(response.header("Referrer-Policy").value_or(""), "no-referrer");
    EXPECT_EQ(response.header("X-Content-Type-Options").value_or(""), "nosniff");
    EXPECT_EQ(response.header("Cache-Control").value_or(""), "no-store");
  }
}

TEST_F(LinkPagesTest, TheTokenNeverAppearsInALogLine) {
  std::ostringstream log;
  auto logger = std::make_shared<spdlog::logger>("identity-test", std::make_shared<spdlog::sinks::ostream_sink_mt>(log));
  logger->set_level(spdlog::level::trace);
  const auto previous = spdlog::default_logger();
  spdlog::set_default_logger(logger);

  store::CommunityScope acme = install("1001", "Acme");
  const std::string token = link(acme, "9010", "admin@vendor.test");
  get("1001", token);
  confirm("1001", token, admin_.id, admin_.email, "");
  confirm("1001", token, admin_.id, admin_.email);
  confirm("1001", token, admin_.id, admin_.email);
  const std::string failing = link(acme, "9011", "");
  auto raw = store::SqliteDatabase::open({.path = dir_.path() / "wik.db"});
  ASSERT_THAT(raw, IsOk());
  ASSERT_THAT((*raw)->transact([](store::Transaction& tx) { return tx.execute_script("DROP TABLE identities"); }),
              IsOk());
  get("1001", failing);
  confirm("1001", failing, admin_.id, admin_.email);
  spdlog::default_logger()->flush();
  spdlog::set_default_logger(previous);

  EXPECT_THAT(log.str(), HasSubstr("identity: a person of community 1001 connected account"));
  EXPECT_THAT(log.str(), HasSubstr("could not be checked"));
  for (const std::string& made : tokens_) EXPECT_THAT(log.str(), Not(HasSubstr(made)));
}

}  // namespace
}  // namespace wik::identity
