// Both install flows end to end over real HTTP: an http::Server with the Installer's routes, a
// SQLite store in a temp dir, a FakeClock, and a scripted Graph host; some tests add a second
// server (another replica) over the same database. Every test's responses, log lines and database
// files are scanned for the access token afterwards (DESIGN.md invariant 2).
#include "install/installer.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <boost/asio/io_context.hpp>
#include <boost/json/serialize.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>

#include "http/server/server.h"
#include "http/url.h"
#include "install/test_browser.h"
#include "store/sqlite/sqlite_database.h"
#include "support/fake_clock.h"
#include "support/result_matchers.h"
#include "support/scripted_graph.h"
#include "support/temp_dir.h"

namespace wik::install {
namespace {

using boost::beast::http::status;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;
using wik::testing::HasError;
using wik::testing::IsOk;
using wik::testing::Scripted;
using wik::testing::TestBrowser;

constexpr const char* kAppId = "1111222233334444";
constexpr const char* kSecret = "0123456789abcdef0123456789abcdef";
constexpr const char* kRedirectUrl = "https://vendor.example/workplace/install";
constexpr const char* kCanary = "WIKCANARY";
constexpr const char* kCommunity = "100042";
constexpr const char* kPassword = "correct horse battery staple";
constexpr const char* kWorkplaceReturn = "https://work.workplace.com/work/admin/?section=apps";

std::string token_body(const std::string& token) {
  return boost::json::serialize(boost::json::object{{"access_token", token}, {"token_type", "bearer"}});
}

std::string community_body(const std::string& name) {
  return boost::json::serialize(boost::json::object{
      {"id", kCommunity},
      {"name", name},
      {"install", {{"id", "5550001"}, {"install_type", "COMMUNITY"}, {"permissions", {"MESSAGE", "READ_USER_EMAIL"}}}}});
}

std::string exchange_error(int subcode) {
  return boost::json::serialize(boost::json::object{
      {"error", {{"message", "scripted"}, {"type", "OAuthException"}, {"code", 100}, {"error_subcode", subcode}}}});
}

// Returns the value of query parameter `name` in `url`, as sent (still percent-encoded).
std::string query_value(std::string_view url, std::string_view name) {
  const std::string key = std::string(name) + "=";
  std::size_t at = url.find("?" + key);
  if (at == std::string_view::npos) at = url.find("&" + key);
  if (at == std::string_view::npos) return {};
  const std::string_view rest = url.substr(at + 1 + key.size());
  return std::string(rest.substr(0, rest.find('&')));
}

std::string location(const http::ClientResponse& response) {
  return std::string(response.header("Location").value_or(""));
}

class InstallTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(log_);
    auto logger = std::make_shared<spdlog::logger>("install-test", sink);
    logger->set_level(spdlog::level::debug);
    spdlog::set_default_logger(logger);

    store_ = open_store();
    ASSERT_TRUE(store_);
    admin_ = create_account("admin@vendor.example", "admin");
    second_admin_ = create_account("second@vendor.example", "admin");
    viewer_ = create_account("viewer@vendor.example", "member");

    http::ClientOptions client_options;
    client_options.allow_plain_http = true;
    graph_http_ = std::move(http::Client::create(client_options)).value();
    browser_http_ = std::move(http::Client::create(client_options)).value();
    graph_ = make_graph();
  }

  // Returns a store over the test's database (null after a failed assertion).
  std::unique_ptr<store::Store> open_store() {
    auto database = store::SqliteDatabase::open({.path = dir_.path() / "wik.db"});
    EXPECT_THAT(database, IsOk());
    if (!database.ok()) return nullptr;
    auto store = store::Store::open(std::move(database).value(), ring_, clock_,
                                    {.password_cost = store::PasswordCost::minimum()});
    EXPECT_THAT(store, IsOk());
    return store.ok() ? std::move(store).value() : nullptr;
  }

  std::unique_ptr<graph::GraphClient> make_graph() {
    return std::make_unique<graph::GraphClient>(
        *graph_http_, graph::GraphOptions{.base_url = graph_host_.url()},
        graph::AppCredentials{.app_id = kAppId, .app_secret = Secret(kSecret)}, clock_, random_);
  }

  // Returns a started server with the routes of an Installer made from `options` (defaults for
  // these tests), which it stores in `installer`.
  std::unique_ptr<http::Server> serve(std::unique_ptr<Installer>& installer, store::Store& store,
                                      graph::GraphClient& graph, InstallerOptions options) {
    options.app_name = "Helpdesk";
    options.redirect_url = kRedirectUrl;
    installer = std::make_unique<Installer>(store, graph, clock_, options);
    http::ServerOptions server_options;
    server_options.port = 0;
    server_options.io_threads = 1;
    auto server = std::make_unique<http::Server>(server_options);
    installer->add_routes(server->router());
    EXPECT_THAT(server->start(), IsOk());
    return server;
  }

  // Starts the server (the first replica).
  void start(InstallerOptions options = {}) { server_ = serve(installer_, *store_, *graph_, options); }

  // Starts a second replica: its own store, Graph client, Installer and server, over the same
  // database. Returns its address, for TestBrowser::route_to().
  std::string start_replica(InstallerOptions options = {}) {
    replica_store_ = open_store();
    EXPECT_TRUE(replica_store_);
    replica_graph_ = make_graph();
    replica_server_ = serve(replica_installer_, *replica_store_, *replica_graph_, options);
    return "http://127.0.0.1:" + std::to_string(replica_server_->port());
  }

  void TearDown() override {
    if (server_) server_->stop();
    if (replica_server_) replica_server_->stop();
    // Pooled connections belong to the io_contexts they ran on (the server's and the browsers'):
    // close them while those still exist (http/client/client.h).
    if (graph_http_) graph_http_->close_idle();
    if (browser_http_) browser_http_->close_idle();
    spdlog::default_logger()->flush();
    for (const TestBrowser* browser : browsers_) {
      for (const http::ClientResponse& response : browser->transcript()) {
        EXPECT_THAT(response.body, Not(HasSubstr(kCanary)));
        for (const auto& field : response.headers) EXPECT_THAT(std::string(field.value()), Not(HasSubstr(kCanary)));
      }
    }
    EXPECT_THAT(log_.str(), Not(HasSubstr(kCanary)));
    // Tokens are stored sealed only: not one plain copy in the database or its WAL.
    for (const auto& file : std::filesystem::directory_iterator(dir_.path())) {
      std::ifstream in(file.path(), std::ios::binary);
      const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      EXPECT_THAT(bytes, Not(HasSubstr(kCanary))) << file.path();
    }
    spdlog::set_default_logger(std::make_shared<spdlog::logger>("wik"));
  }

  store::AccountId create_account(const std::string& email, const std::string& role) {
    auto account = store_->create_account(email, Secret(kPassword), role);
    EXPECT_THAT(account, IsOk());
    return account.ok() ? account->id : 0;
  }

  // Returns the Cookie header `browser` sends to the site now, to replay a request with it later.
  std::string cookie_header(const TestBrowser& browser) {
    std::string header;
    for (const char* name : {"__Host-wik_sessions", "__Host-wik_csrf", "__Host-wik_pending"}) {
      if (const auto value = browser.cookie(name)) header += (header.empty() ? "" : "; ") + std::string(name) + "=" + *value;
    }
    return header;
  }

  TestBrowser& new_browser() {
    owned_browsers_.push_back(std::make_unique<TestBrowser>(io_, *browser_http_,
                                                             "http://127.0.0.1:" + std::to_string(server_->port())));
    browsers_.push_back(owned_browsers_.back().get());
    return *owned_browsers_.back();
  }

  std::string csrf(const TestBrowser& browser) {
    return browser.cookie("__Host-wik_csrf").value_or(browser.cookie("wik_csrf").value_or(""));
  }

  // Signs `email` in on `browser` and returns the sign-in answer (303 on success).
  http::ClientResponse sign_in(TestBrowser& browser, const std::string& email, const std::string& password = kPassword,
                               const std::string& next = "") {
    EXPECT_EQ(browser.get("/signin").status, 200u);
    return browser.post("/signin", {{"csrf", csrf(browser)}, {"email", email}, {"password", password}, {"next", next}});
  }

  // Signs `email` in on `browser`, sending `headers` with the sign-in POST.
  http::ClientResponse sign_in_from(TestBrowser& browser, const std::string& email, const std::string& password,
                                    const TestBrowser::Headers& headers) {
    EXPECT_EQ(browser.get("/signin").status, 200u);
    return browser.post("/signin", {{"csrf", csrf(browser)}, {"email", email}, {"password", password}}, headers);
  }

  void script_install(const std::string& token, const std::string& name = "Acme") {
    graph_host_.script({.body = token_body(token)});
    graph_host_.script({.body = community_body(name)});
  }

  // Starts a developer-initiated install as `account` and returns the state sent to the dialog.
  std::string start_install(TestBrowser& browser, store::AccountId account) {
    EXPECT_EQ(browser.get("/admin/install").status, 200u);
    const auto started = browser.post("/admin/install", {{"csrf", csrf(browser)}, {"account", std::to_string(account)}});
    EXPECT_EQ(started.status, 303u);
    return query_value(location(started), "state");
  }

  Result<store::Installation> installation() { return store_->community(kCommunity)->installation(); }
  std::size_t graph_calls() const { return graph_host_.received().size(); }

  testing::TempDir dir_;
  testing::FakeClock clock_{1764370000};
  core::KeyRing ring_ = core::KeyRing::generate("k1");
  core::SecureRandomSource random_;
  std::ostringstream log_;
  boost::asio::io_context io_;
  testing::ScriptedGraph graph_host_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<http::Client> graph_http_;
  std::unique_ptr<http::Client> browser_http_;
  std::unique_ptr<graph::GraphClient> graph_;
  std::unique_ptr<Installer> installer_;
  std::unique_ptr<http::Server> server_;
  std::unique_ptr<store::Store> replica_store_;
  std::unique_ptr<graph::GraphClient> replica_graph_;
  std::unique_ptr<Installer> replica_installer_;
  std::unique_ptr<http::Server> replica_server_;
  std::vector<std::unique_ptr<TestBrowser>> owned_browsers_;
  std::vector<const TestBrowser*> browsers_;
  store::AccountId admin_ = 0;
  store::AccountId second_admin_ = 0;
  store::AccountId viewer_ = 0;
};

TEST_F(InstallTest, DeveloperInitiatedInstallEndToEnd) {
  start();
  TestBrowser& browser = new_browser();
  EXPECT_EQ(location(browser.get("/admin/install")), "/signin?next=/admin/install");
  const auto signed_in = sign_in(browser, "admin@vendor.example", kPassword, "/admin/install");
  EXPECT_EQ(signed_in.status, 303u);
  EXPECT_EQ(location(signed_in), "/admin/install");
  const auto admin_page = browser.get("/admin/install");
  EXPECT_THAT(admin_page.body, HasSubstr("Add to Workplace"));

  const auto started = browser.post("/admin/install", {{"csrf", csrf(browser)}, {"account", std::to_string(admin_)}});
  ASSERT_EQ(started.status, 303u);
  EXPECT_THAT(location(started), StartsWith("https://work.workplace.com/dialog/work/app_install/?app_id=1111222233334444"
                                            "&redirect_uri=https%3A%2F%2Fvendor.example%2Fworkplace%2Finstall&state="));
  const std::string state = query_value(location(started), "state");
  EXPECT_GE(state.size(), 43u);

  script_install("WIKCANARY-dev-1", "Acme <b>Corp</b>");
  const auto redirected = browser.get("/workplace/install?code=CODE-1&state=" + state);
  ASSERT_EQ(redirected.status, 303u) << redirected.body;
  EXPECT_EQ(location(redirected), "/admin/install?installed=100042");
  EXPECT_THAT(location(redirected), Not(HasSubstr("code=")));

  const auto received = graph_host_.received();
  ASSERT_EQ(received.size(), 2u);
  EXPECT_EQ(received[0].method, "POST");
  EXPECT_EQ(received[0].target, "/v3.2/oauth/access_token");
  EXPECT_THAT(received[0].body, AllOf(HasSubstr("code=CODE-1"), HasSubstr("client_id=1111222233334444"),
                                      HasSubstr("redirect_uri=https%3A%2F%2Fvendor.example%2Fworkplace%2Finstall")));
  EXPECT_THAT(received[1].target, StartsWith("/v3.2/community?fields=id%2Cname%2Cinstall&appsecret_proof="));
  EXPECT_EQ(received[1].authorization, "Bearer WIKCANARY-dev-1");

  const auto installed = installation();
  ASSERT_THAT(installed, IsOk());
  EXPECT_EQ(installed->access_token.expose(), "WIKCANARY-dev-1");
  EXPECT_EQ(installed->community_name, "Acme <b>Corp</b>");
  EXPECT_THAT(installed->permissions, ElementsAre("message", "read_user_email"));
  EXPECT_EQ(installed->installed_by, admin_);
  const auto trail = store_->audit_trail(kCommunity);
  ASSERT_THAT(trail, IsOk());
  ASSERT_FALSE(trail->empty());
  EXPECT_EQ(trail->back().action, "installed");

  const auto notice = browser.get(location(redirected));
  EXPECT_THAT(notice.body, HasSubstr("Installed into Acme &lt;b&gt;Corp&lt;/b&gt;."));
  EXPECT_THAT(notice.body, Not(HasSubstr("<b>Corp")));
  spdlog::default_logger()->flush();
  EXPECT_THAT(log_.str(), HasSubstr("install: community 100042 installed by account"));
}

TEST_F(InstallTest, WorkplaceInitiatedInstallExchangesFirstAndBindsOnlyOnConfirmation) {
  start();
  TestBrowser& browser = new_browser();
  script_install("WIKCANARY-wp-1", "Acme <script>x</script>");
  const auto redirected =
      browser.get("/workplace/install?code=CODE-2&redirect_uri=https%3A%2F%2Fwork.workplace.com%2Fwork%2Fadmin%2F%3Fsection%3Dapps");
  ASSERT_EQ(redirected.status, 303u) << redirected.body;
  EXPECT_EQ(location(redirected), "/workplace/install/confirm");
  EXPECT_EQ(graph_calls(), 2u) << "the code is exchanged at once, inside its lifetime";
  EXPECT_THAT(installation(), HasError(ErrorCode::kNotFound)) << "nothing is bound before the confirmation";

  const auto anonymous = browser.get("/workplace/install/confirm");
  EXPECT_EQ(anonymous.status, 200u);
  EXPECT_THAT(anonymous.body, AllOf(HasSubstr("Sign in"), HasSubstr("Acme &lt;script&gt;x&lt;/script&gt;"),
                                    HasSubstr("5:00"), Not(HasSubstr("<script>"))));

  const auto signed_in = sign_in(browser, "admin@vendor.example", kPassword, "/workplace/install/confirm");
  EXPECT_EQ(location(signed_in), "/workplace/install/confirm");
  clock_.advance(std::chrono::seconds(100));
  const auto confirm = browser.get("/workplace/install/confirm");
  EXPECT_EQ(confirm.status, 200u);
  EXPECT_THAT(confirm.body, AllOf(HasSubstr("Install into Acme &lt;script&gt;x&lt;/script&gt;"), HasSubstr("3:20"),
                                  HasSubstr("(id 100042)"), HasSubstr("name=\"csrf\""),
                                  HasSubstr("<meta http-equiv=\"refresh\" content=\"200\">")));
  EXPECT_THAT(installation(), HasError(ErrorCode::kNotFound));

  const auto done = browser.post("/workplace/install/confirm",
                                 {{"csrf", csrf(browser)}, {"account", std::to_string(admin_)}, {"action", "install"}});
  EXPECT_EQ(done.status, 200u);
  EXPECT_THAT(done.body, AllOf(HasSubstr("Installed"), HasSubstr("admin@vendor.example"),
                               HasSubstr("content=\"3;url=https://work.workplace.com/work/admin/?section=apps\"")));
  const auto installed = installation();
  ASSERT_THAT(installed, IsOk());
  EXPECT_EQ(installed->access_token.expose(), "WIKCANARY-wp-1");
  EXPECT_EQ(installed->installed_by, admin_);
  EXPECT_FALSE(browser.cookie("__Host-wik_pending")) << "the pending install is gone with its cookie";
}

TEST_F(InstallTest, AReloadedWorkplaceRedirectIsNotExchangedTwice) {
  start();
  TestBrowser& browser = new_browser();
  script_install("WIKCANARY-wp-2");
  ASSERT_EQ(browser.get("/workplace/install?code=CODE-3").status, 303u);
  const auto again = browser.get("/workplace/install?code=CODE-3");
  EXPECT_EQ(again.status, 303u);
  EXPECT_EQ(location(again), "/workplace/install/confirm");
  EXPECT_EQ(graph_calls(), 2u);
}

TEST_F(InstallTest, TheAccountChooserBindsTheInstallToTheChosenAccount) {
  start();
  TestBrowser& browser = new_browser();
  EXPECT_EQ(sign_in(browser, "admin@vendor.example").status, 303u);
  EXPECT_EQ(sign_in(browser, "second@vendor.example").status, 303u);
  EXPECT_EQ(sign_in(browser, "viewer@vendor.example").status, 303u);
  const auto page = browser.get("/admin/install");
  EXPECT_THAT(page.body, AllOf(HasSubstr("value=\"" + std::to_string(admin_) + "\" checked"),
                               HasSubstr("value=\"" + std::to_string(second_admin_) + "\">"),
                               HasSubstr("value=\"" + std::to_string(viewer_) + "\" disabled"),
                               HasSubstr("not an admin: cannot install")));

  const std::string state = start_install(browser, second_admin_);
  script_install("WIKCANARY-chooser");
  ASSERT_EQ(browser.get("/workplace/install?code=CODE-4&state=" + state).status, 303u);
  const auto installed = installation();
  ASSERT_THAT(installed, IsOk());
  EXPECT_EQ(installed->installed_by, second_admin_);

  // The Workplace-initiated flow offers the same choice.
  script_install("WIKCANARY-chooser-2");
  ASSERT_EQ(browser.get("/workplace/install?code=CODE-5").status, 303u);
  EXPECT_THAT(browser.get("/workplace/install/confirm").body,
              AllOf(HasSubstr("admin@vendor.example"), HasSubstr("second@vendor.example")));
  ASSERT_EQ(browser.post("/workplace/install/confirm", {{"csrf", csrf(browser)},
                                                        {"account", std::to_string(admin_)},
                                                        {"action", "install"}})
                .status,
            200u);
  EXPECT_EQ(installation()->installed_by, admin_);
}

TEST_F(InstallTest, ANonAdminIsRefusedInBothFlows) {
  start();
  TestBrowser& browser = new_browser();
  EXPECT_EQ(sign_in(browser, "viewer@vendor.example").status, 303u);
  const auto page = browser.get("/admin/install");
  EXPECT_THAT(page.body, AllOf(HasSubstr("None of the accounts signed in here has the admin role"),
                               Not(HasSubstr("Add to Workplace"))));
  const auto refused = browser.post("/admin/install", {{"csrf", csrf(browser)}, {"account", std::to_string(viewer_)}});
  EXPECT_EQ(refused.status, 403u);
  EXPECT_THAT(refused.body, AllOf(HasSubstr("This account may not install"), HasSubstr("What to do:")));
  EXPECT_FALSE(refused.header("Location"));

  script_install("WIKCANARY-viewer");
  ASSERT_EQ(browser.get("/workplace/install?code=CODE-6").status, 303u);
  EXPECT_THAT(browser.get("/workplace/install/confirm").body, HasSubstr("Only an admin may install"));
  const auto forced = browser.post("/workplace/install/confirm",
                                   {{"csrf", csrf(browser)}, {"account", std::to_string(viewer_)}, {"action", "install"}});
  EXPECT_EQ(forced.status, 403u);
  // An account signed in on another browser cannot be named either.
  const auto other = browser.post("/workplace/install/confirm",
                                  {{"csrf", csrf(browser)}, {"account", std::to_string(admin_)}, {"action", "install"}});
  EXPECT_EQ(other.status, 403u);
  EXPECT_THAT(other.body, HasSubstr("Please sign in"));
  EXPECT_THAT(installation(), HasError(ErrorCode::kNotFound));
}

TEST_F(InstallTest, AStateFromAnotherBrowserTamperedReusedOrExpiredIsRefusedBeforeAnyExchange) {
  start();
  TestBrowser& browser = new_browser();
  ASSERT_EQ(sign_in(browser, "admin@vendor.example").status, 303u);

  // Another browser (no session of the one that started) brings the state.
  const std::string stolen = start_install(browser, admin_);
  TestBrowser& attacker = new_browser();
  const auto elsewhere = attacker.get("/workplace/install?code=CODE-7&state=" + stolen);
  EXPECT_EQ(elsewhere.status, 403u);
  EXPECT_THAT(elsewhere.body, HasSubstr("The install was started elsewhere"));
  // ... which used the state up.
  EXPECT_EQ(browser.get("/workplace/install?code=CODE-7&state=" + stolen).status, 400u);

  const std::string state = start_install(browser, admin_);
  const auto tampered = browser.get("/workplace/install?code=CODE-8&state=" + state + "x");
  EXPECT_EQ(tampered.status, 400u);
  EXPECT_THAT(tampered.body, HasSubstr("This install link was already used"));

  script_install("WIKCANARY-state");
  ASSERT_EQ(browser.get("/workplace/install?code=CODE-9&state=" + state).status, 303u);
  const std::size_t calls = graph_calls();
  const auto reused = browser.get("/workplace/install?code=CODE-9&state=" + state);
  EXPECT_EQ(reused.status, 400u);
  EXPECT_THAT(reused.body, HasSubstr("already used"));

  const std::string old_state = start_install(browser, admin_);
  clock_.advance(std::chrono::minutes(11));
  const auto expired = browser.get("/workplace/install?code=CODE-10&state=" + old_state);
  EXPECT_EQ(expired.status, 400u);
  EXPECT_THAT(expired.body, HasSubstr("The install took too long"));
  EXPECT_EQ(graph_calls(), calls) << "no refused state led to a code exchange";
}

TEST_F(InstallTest, ExpiredAndReusedCodesEndOnTheirOwnPagesAndInstallNothing) {
  start();
  TestBrowser& browser = new_browser();
  ASSERT_EQ(sign_in(browser, "admin@vendor.example").status, 303u);

  graph_host_.script({.code = status::bad_request, .body = exchange_error(36007)});
  const auto expired = browser.get("/workplace/install?code=OLD&state=" + start_install(browser, admin_));
  EXPECT_EQ(expired.status, 400u);
  EXPECT_THAT(expired.body, AllOf(HasSubstr("The install code expired"), HasSubstr("What to do:")));

  graph_host_.script({.code = status::bad_request, .body = exchange_error(36009)});
  const auto used = browser.get("/workplace/install?code=USED&state=" + start_install(browser, admin_));
  EXPECT_EQ(used.status, 409u);
  EXPECT_THAT(used.body, HasSubstr("The install code was already used"));

  graph_host_.script({.code = status::bad_request, .body = exchange_error(36009)});
  const auto workplace_used = browser.get("/workplace/install?code=USED");
  EXPECT_EQ(workplace_used.status, 409u);
  EXPECT_FALSE(browser.cookie("__Host-wik_pending"));

  // The token is exchanged but GET /community fails: nothing is bound and the token is dropped.
  graph_host_.script({.body = token_body("WIKCANARY-unverified")});
  graph_host_.script({.code = status::bad_request,
                      .body = R"({"error":{"message":"x","type":"OAuthException","code":190}})"});
  const auto unverified = browser.get("/workplace/install?code=FINE&state=" + start_install(browser, admin_));
  EXPECT_EQ(unverified.status, 502u);
  EXPECT_THAT(unverified.body, HasSubstr("Workplace could not complete the install"));
  EXPECT_THAT(installation(), HasError(ErrorCode::kNotFound));
}

TEST_F(InstallTest, ACancelledInstallInWorkplaceUsesTheStateUp) {
  start();
  TestBrowser& browser = new_browser();
  ASSERT_EQ(sign_in(browser, "admin@vendor.example").status, 303u);
  const std::string state = start_install(browser, admin_);
  const auto denied = browser.get("/workplace/install?error_reason=user_denied&error=access_denied&state=" + state);
  EXPECT_EQ(denied.status, 200u);
  EXPECT_THAT(denied.body, HasSubstr("The install was cancelled"));
  EXPECT_EQ(browser.get("/workplace/install?code=LATE&state=" + state).status, 400u);
  EXPECT_EQ(graph_calls(), 0u);
}

TEST_F(InstallTest, TheConfirmationRefusesAMissingWrongOrCrossSiteCsrfTokenAndAnotherSitesOrigin) {
  start();
  TestBrowser& browser = new_browser();
  ASSERT_EQ(sign_in(browser, "admin@vendor.example").status, 303u);
  script_install("WIKCANARY-csrf");
  ASSERT_EQ(browser.get("/workplace/install?code=CODE-11").status, 303u);
  const std::string account = std::to_string(admin_);

  const auto missing = browser.post("/workplace/install/confirm", {{"account", account}, {"action", "install"}});
  EXPECT_EQ(missing.status, 403u);
  EXPECT_THAT(missing.body, HasSubstr("The form could not be accepted"));
  const auto wrong = browser.post("/workplace/install/confirm",
                                  {{"csrf", std::string(43, 'A')}, {"account", account}, {"action", "install"}});
  EXPECT_EQ(wrong.status, 403u);
  const auto cross_site = browser.post("/workplace/install/confirm",
                                       {{"csrf", csrf(browser)}, {"account", account}, {"action", "install"}},
                                       {{"Sec-Fetch-Site", "cross-site"}});
  EXPECT_EQ(cross_site.status, 403u);
  for (const char* origin : {"https://attacker.example", "http://127.0.0.1:1", "not a url"}) {
    const auto foreign = browser.post("/workplace/install/confirm",
                                      {{"csrf", csrf(browser)}, {"account", account}, {"action", "install"}},
                                      {{"Origin", origin}});
    EXPECT_EQ(foreign.status, 403u) << origin;
  }
  EXPECT_THAT(installation(), HasError(ErrorCode::kNotFound));

  // Our own page's origin, or "null" (what a browser sends under our no-referrer policy), is fine.
  const auto null_origin = browser.post("/signin", {{"csrf", csrf(browser)}, {"email", "nobody@vendor.example"},
                                                    {"password", "wrong"}, {"next", ""}},
                                        {{"Origin", "null"}});
  EXPECT_EQ(null_origin.status, 401u) << "the form was accepted and the sign-in refused";
  const std::string own_origin = "http://127.0.0.1:" + std::to_string(server_->port());
  const auto genuine = browser.post("/workplace/install/confirm",
                                    {{"csrf", csrf(browser)}, {"account", account}, {"action", "install"}},
                                    {{"Origin", own_origin}});
  EXPECT_EQ(genuine.status, 200u);
  EXPECT_THAT(installation(), IsOk());
}

TEST_F(InstallTest, APendingInstallNotConfirmedInTimeIsDiscarded) {
  start();
  TestBrowser& browser = new_browser();
  ASSERT_EQ(sign_in(browser, "admin@vendor.example").status, 303u);
  script_install("WIKCANARY-late");
  ASSERT_EQ(browser.get("/workplace/install?code=CODE-12").status, 303u);
  clock_.advance(std::chrono::seconds(299));
  EXPECT_THAT(browser.get("/workplace/install/confirm").body, HasSubstr("0:01"));
  clock_.advance(std::chrono::seconds(2));

  const auto page = browser.get("/workplace/install/confirm");
  EXPECT_EQ(page.status, 410u);
  EXPECT_THAT(page.body, AllOf(HasSubstr("The time to confirm ran out"), HasSubstr("nothing was installed")));
  const auto late = browser.post("/workplace/install/confirm",
                                 {{"csrf", csrf(browser)}, {"account", std::to_string(admin_)}, {"action", "install"}});
  EXPECT_EQ(late.status, 410u);
  EXPECT_THAT(installation(), HasError(ErrorCode::kNotFound));
  // Long after, the browser is told that nothing waits.
  clock_.advance(std::chrono::minutes(11));
  EXPECT_EQ(browser.get("/workplace/install/confirm").status, 404u);
}

TEST_F(InstallTest, CancellingTheConfirmationInstallsNothing) {
  start();
  TestBrowser& browser = new_browser();
  ASSERT_EQ(sign_in(browser, "admin@vendor.example").status, 303u);
  script_install("WIKCANARY-cancel");
  ASSERT_EQ(browser.get("/workplace/install?code=CODE-13").status, 303u);
  const auto cancelled = browser.post("/workplace/install/confirm",
                                      {{"csrf", csrf(browser)}, {"account", std::to_string(admin_)}, {"action", "cancel"}});
  EXPECT_THAT(cancelled.body, HasSubstr("You cancelled the install"));
  EXPECT_EQ(browser.get("/workplace/install/confirm").status, 404u);
  EXPECT_THAT(installation(), HasError(ErrorCode::kNotFound));
}

TEST_F(InstallTest, AWorkplaceInitiatedInstallCompletesWhenItsStepsReachDifferentReplicas) {
  start();
  const std::string first = "http://127.0.0.1:" + std::to_string(server_->port());
  const std::string second = start_replica();
  TestBrowser& browser = new_browser();
  script_install("WIKCANARY-replicas");
  ASSERT_EQ(browser.get("/workplace/install?code=CODE-R").status, 303u);
  ASSERT_EQ(graph_calls(), 2u);

  // The load balancer sends the next requests to the other replica, which finds the install.
  browser.route_to(second);
  const auto reloaded = browser.get("/workplace/install?code=CODE-R");
  EXPECT_EQ(location(reloaded), "/workplace/install/confirm");
  EXPECT_EQ(graph_calls(), 2u) << "a reload reaching another replica is not exchanged again";
  EXPECT_THAT(browser.get("/workplace/install/confirm").body, AllOf(HasSubstr("Sign in"), HasSubstr("Acme")));
  ASSERT_EQ(sign_in(browser, "admin@vendor.example", kPassword, "/workplace/install/confirm").status, 303u);
  browser.route_to(first);
  EXPECT_THAT(browser.get("/workplace/install/confirm").body, HasSubstr("Install into Acme"));
  EXPECT_THAT(installation(), HasError(ErrorCode::kNotFound));

  const TestBrowser::Fields confirm = {{"csrf", csrf(browser)}, {"account", std::to_string(admin_)}, {"action", "install"}};
  const TestBrowser::Headers cookies = {{"Cookie", cookie_header(browser)}};  // as a second submission sends them
  browser.route_to(second);
  const auto done = browser.post("/workplace/install/confirm", confirm);
  EXPECT_EQ(done.status, 200u);
  EXPECT_THAT(done.body, AllOf(HasSubstr("Installed"), HasSubstr("admin@vendor.example")));
  const auto installed = installation();
  ASSERT_THAT(installed, IsOk());
  EXPECT_EQ(installed->access_token.expose(), "WIKCANARY-replicas");
  EXPECT_EQ(installed->installed_by, admin_);

  // A second confirmation, on either replica, finds nothing waiting and changes nothing.
  for (const std::string& replica : {first, second}) {
    SCOPED_TRACE(replica);
    browser.route_to(replica);
    const auto again = browser.post("/workplace/install/confirm", confirm, cookies);
    EXPECT_EQ(again.status, 404u);
    EXPECT_THAT(again.body, HasSubstr("No install is waiting"));
  }
  const auto trail = store_->audit_trail(kCommunity);
  ASSERT_THAT(trail, IsOk());
  EXPECT_EQ(std::ranges::count_if(*trail, [](const store::AuditEntry& e) { return e.action == "installed"; }), 1);
  EXPECT_EQ(installation().value().installed_by, admin_);
}

TEST_F(InstallTest, TheWaitingLimitHoldsAcrossReplicas) {
  start({.max_pending_installs = 1});
  const std::string second = start_replica({.max_pending_installs = 1});
  TestBrowser& browser = new_browser();
  script_install("WIKCANARY-busy-1");
  ASSERT_EQ(browser.get("/workplace/install?code=BUSY-1").status, 303u);

  TestBrowser& other = new_browser();
  other.route_to(second);
  script_install("WIKCANARY-busy-2");
  const auto busy = other.get("/workplace/install?code=BUSY-2");
  EXPECT_EQ(busy.status, 429u);
  EXPECT_THAT(busy.body, HasSubstr("Too many installs at once"));
  EXPECT_FALSE(other.cookie("__Host-wik_pending"));
  EXPECT_EQ(other.get("/workplace/install/confirm").status, 404u);
  // A forged pending cookie finds nothing either.
  EXPECT_EQ(other.get("/workplace/install/confirm", {{"Cookie", "__Host-wik_pending=forged"}}).status, 404u);
}

TEST_F(InstallTest, AReinstallReplacesTheToken) {
  start();
  TestBrowser& browser = new_browser();
  ASSERT_EQ(sign_in(browser, "admin@vendor.example").status, 303u);
  script_install("WIKCANARY-first");
  ASSERT_EQ(browser.get("/workplace/install?code=A&state=" + start_install(browser, admin_)).status, 303u);
  script_install("WIKCANARY-second", "Acme Renamed");
  ASSERT_EQ(browser.get("/workplace/install?code=B&state=" + start_install(browser, admin_)).status, 303u);
  const auto installed = installation();
  ASSERT_THAT(installed, IsOk());
  EXPECT_EQ(installed->access_token.expose(), "WIKCANARY-second");
  EXPECT_EQ(installed->community_name, "Acme Renamed");
  const auto listed = store_->list_installations();
  ASSERT_THAT(listed, IsOk());
  EXPECT_EQ(listed->size(), 1u);
}

TEST_F(InstallTest, ARedirectUriOffTheWorkplaceHostIsNeverFollowed) {
  start();
  for (const std::string hostile :
       {"https://evil.example/", "//evil.example/", "https://work.workplace.com.evil.example/",
        "https://user@work.workplace.com/", "http://work.workplace.com/", "https://work.workplace.com:8443/",
        "javascript:alert(1)", "/\\evil.example"}) {
    SCOPED_TRACE(hostile);
    TestBrowser& browser = new_browser();
    ASSERT_EQ(sign_in(browser, "admin@vendor.example").status, 303u);
    script_install("WIKCANARY-redirect");
    ASSERT_EQ(browser.get("/workplace/install?code=C&redirect_uri=" + http::encode_form({{"u", hostile}}).substr(2))
                  .status,
              303u);
    const auto done = browser.post("/workplace/install/confirm",
                                   {{"csrf", csrf(browser)}, {"account", std::to_string(admin_)}, {"action", "install"}});
    EXPECT_EQ(done.status, 200u);
    EXPECT_THAT(done.body, AllOf(HasSubstr("Installed"), Not(HasSubstr("evil")), Not(HasSubstr("url=")),
                                 Not(HasSubstr("Returning to Workplace"))));
  }
  TestBrowser& browser = new_browser();
  ASSERT_EQ(sign_in(browser, "admin@vendor.example").status, 303u);
  script_install("WIKCANARY-redirect");
  ASSERT_EQ(browser.get("/workplace/install?code=D&redirect_uri=" + http::encode_form({{"u", kWorkplaceReturn}}).substr(2))
                .status,
            303u);
  EXPECT_THAT(browser.post("/workplace/install/confirm",
                           {{"csrf", csrf(browser)}, {"account", std::to_string(admin_)}, {"action", "install"}})
                  .body,
              HasSubstr("Returning to Workplace"));
}

TEST_F(InstallTest, SignInNeverRevealsWhetherAnEmailExistsAndIsThrottled) {
  start();
  TestBrowser& browser = new_browser();
  const auto unknown = sign_in(browser, "nobody@vendor.example");
  const auto wrong = sign_in(browser, "admin@vendor.example", "wrong password");
  EXPECT_EQ(unknown.status, 401u);
  EXPECT_EQ(wrong.status, 401u);
  EXPECT_THAT(unknown.body, HasSubstr("The email or password is wrong."));
  EXPECT_THAT(wrong.body, HasSubstr("The email or password is wrong."));

  for (int attempt = 0; attempt < 4; ++attempt) EXPECT_EQ(sign_in(browser, "Admin@Vendor.example", "nope").status, 401u);
  const auto locked = sign_in(browser, "admin@vendor.example");
  EXPECT_EQ(locked.status, 429u);
  EXPECT_THAT(locked.body, HasSubstr("try again in 15 minutes"));
  EXPECT_EQ(sign_in(browser, "second@vendor.example").status, 303u) << "other accounts are not locked out";
  clock_.advance(std::chrono::minutes(15));
  EXPECT_EQ(sign_in(browser, "admin@vendor.example").status, 303u);
}

TEST_F(InstallTest, ManyFailuresFromOneAddressPauseSignInThereWhateverTheEmails) {
  start();
  TestBrowser& browser = new_browser();
  for (int attempt = 0; attempt < 20; ++attempt) {
    // A forged X-Forwarded-For changes nothing: no proxy is trusted, the socket's peer counts.
    const TestBrowser::Headers forged = {{"X-Forwarded-For", "198.51.100." + std::to_string(attempt)}};
    EXPECT_EQ(sign_in_from(browser, "user" + std::to_string(attempt) + "@vendor.example", "nope", forged).status, 401u);
  }
  const auto paused = sign_in(browser, "admin@vendor.example");
  EXPECT_EQ(paused.status, 429u);
  EXPECT_THAT(paused.body, HasSubstr("too many failed attempts from this address; try again in 15 minutes"));
  clock_.advance(std::chrono::minutes(15));
  EXPECT_EQ(sign_in(browser, "admin@vendor.example").status, 303u);
}

TEST_F(InstallTest, BehindATrustedProxyEachClientAddressIsCountedOnItsOwn) {
  start({.trusted_proxy_hops = 1});
  TestBrowser& browser = new_browser();
  // The client wrote the first entry itself; the proxy appended the address it saw.
  const TestBrowser::Headers attacker = {{"X-Forwarded-For", "192.0.2.1, 203.0.113.7"}};
  for (int attempt = 0; attempt < 20; ++attempt) {
    EXPECT_EQ(sign_in_from(browser, "user" + std::to_string(attempt) + "@vendor.example", "nope", attacker).status,
              401u);
  }
  EXPECT_EQ(sign_in_from(browser, "admin@vendor.example", kPassword, {{"X-Forwarded-For", "203.0.113.7"}}).status,
            429u);
  EXPECT_EQ(sign_in_from(browser, "admin@vendor.example", kPassword, {{"X-Forwarded-For", "192.0.2.1"}}).status, 303u)
      << "another address is unaffected";
  EXPECT_EQ(sign_in_from(browser, "second@vendor.example", kPassword, {{"X-Forwarded-For", "2001:db8::1"}}).status,
            303u);
}

TEST_F(InstallTest, SessionsSurviveARestartButNotTheirAccount) {
  start();
  TestBrowser& browser = new_browser();
  ASSERT_EQ(sign_in(browser, "admin@vendor.example").status, 303u);
  const std::string sessions = browser.cookie("__Host-wik_sessions").value_or("");
  ASSERT_FALSE(sessions.empty());

  server_->stop();
  start();  // a new process: a new Installer and server over the same store
  TestBrowser& after_restart = new_browser();
  const TestBrowser::Headers cookie = {{"Cookie", "__Host-wik_sessions=" + sessions}};
  const auto admin_page = after_restart.get("/admin/install", cookie);
  EXPECT_EQ(admin_page.status, 200u);
  EXPECT_THAT(admin_page.body, HasSubstr("admin@vendor.example"));

  auto database = store::SqliteDatabase::open({.path = dir_.path() / "wik.db"});
  ASSERT_THAT(database, IsOk());
  ASSERT_THAT((*database)->transact([&](store::Transaction& tx) -> Result<void> {
    auto deleted = tx.execute("DELETE FROM accounts WHERE id = $1", {admin_});
    if (!deleted) return deleted.error();
    return ok_result();
  }),
              IsOk());
  EXPECT_EQ(after_restart.get("/admin/install", cookie).status, 303u) << "a deleted account is signed out";
}

TEST_F(InstallTest, SessionCookiesAreSecureHttpOnlyLaxAndSignOutEndsEverySession) {
  start();
  TestBrowser& browser = new_browser();
  const auto signed_in = sign_in(browser, "admin@vendor.example");
  const auto cookie = signed_in.header("Set-Cookie");
  ASSERT_TRUE(cookie);
  EXPECT_THAT(std::string(*cookie), AllOf(StartsWith("__Host-wik_sessions="), HasSubstr("; Path=/"),
                                          HasSubstr("; HttpOnly"), HasSubstr("; SameSite=Lax"), HasSubstr("; Secure")));
  ASSERT_EQ(sign_in(browser, "second@vendor.example").status, 303u);
  const std::string sessions = browser.cookie("__Host-wik_sessions").value_or("");
  EXPECT_NE(sessions.find('.'), std::string::npos) << "two sessions on one browser";

  const auto refused = browser.post("/signout", {});
  EXPECT_EQ(refused.status, 403u);
  const auto out = browser.post("/signout", {{"csrf", csrf(browser)}});
  EXPECT_EQ(out.status, 303u);
  EXPECT_EQ(location(out), "/signin");
  EXPECT_FALSE(browser.cookie("__Host-wik_sessions"));
  // The sessions are gone from the store, not only from the browser.
  TestBrowser& replay = new_browser();
  replay.get("/signin");
  EXPECT_EQ(replay.get("/admin/install", {{"Cookie", "__Host-wik_sessions=" + sessions}}).status, 303u);
}

TEST_F(InstallTest, APlainHttpSiteGetsCookiesWithoutSecure) {
  start({.secure_cookies = false});
  TestBrowser& browser = new_browser();
  const auto signed_in = sign_in(browser, "admin@vendor.example");
  const auto cookie = signed_in.header("Set-Cookie");  // a view into `signed_in`
  ASSERT_TRUE(cookie);
  EXPECT_THAT(std::string(*cookie), AllOf(StartsWith("wik_sessions="), Not(HasSubstr("Secure"))));
}

TEST_F(InstallTest, HostileInputIsEscapedOrRefused) {
  start();
  TestBrowser& browser = new_browser();
  const auto echoed = sign_in(browser, "\"><script>alert(1)</script>@x");
  EXPECT_THAT(echoed.body, AllOf(HasSubstr("&quot;&gt;&lt;script&gt;"), Not(HasSubstr("<script>alert"))));
  const auto next = browser.get("/signin?next=https://evil.example/");
  EXPECT_THAT(next.body, AllOf(HasSubstr("name=\"next\" value=\"/admin/install\""), Not(HasSubstr("evil"))));

  const auto oversized = browser.post("/signin", {{"csrf", csrf(browser)}, {"email", std::string(8000, 'a')}});
  EXPECT_EQ(oversized.status, 413u);
  const auto malformed = browser.get("/workplace/install");
  EXPECT_EQ(malformed.status, 400u);
  EXPECT_THAT(malformed.body, HasSubstr("without the code an install needs"));
  for (const auto* path : {"/signin", "/workplace/install", "/workplace/install/confirm"}) {
    const auto page = browser.get(path);
    EXPECT_EQ(page.header("X-Frame-Options").value_or(""), "DENY") << path;
  }
}

TEST(ClientAddressTest, TrustsOnlyTheEntriesTheConfiguredProxiesWrote) {
  EXPECT_EQ(client_address("10.0.0.5", {"192.0.2.1"}, 0), "10.0.0.5");
  EXPECT_EQ(client_address("10.0.0.5", {"192.0.2.1, 203.0.113.7"}, 1), "203.0.113.7");
  EXPECT_EQ(client_address("10.0.0.5", {"192.0.2.1", " 203.0.113.7 ,198.51.100.9"}, 2), "203.0.113.7");
  EXPECT_EQ(client_address("10.0.0.5", {"203.0.113.7"}, 3), "203.0.113.7");
  EXPECT_EQ(client_address("10.0.0.5", {}, 1), "10.0.0.5");
  EXPECT_EQ(client_address("10.0.0.5", {" , "}, 1), "10.0.0.5");
}

TEST(ClientAddressTest, KeysIpv6ByItsSlash64AndMappedIpv4AsIpv4) {
  EXPECT_EQ(client_key("203.0.113.7"), "203.0.113.7");
  EXPECT_EQ(client_key("203.0.113.7:4431"), "203.0.113.7");
  EXPECT_EQ(client_key("2001:db8:1:2:aaaa::1"), "2001:db8:1:2::/64");
  EXPECT_EQ(client_key("[2001:db8:1:2:bbbb::9]:443"), "2001:db8:1:2::/64");
  EXPECT_EQ(client_key("::ffff:192.0.2.1"), "192.0.2.1");
  EXPECT_EQ(client_key("not-an-address"), "not-an-address");
}

TEST(LoginThrottleTest, AFullTableForgetsTheLeastRecentlyFailingKey) {
  testing::FakeClock clock{1764370000};
  LoginThrottle throttle(clock, 1, std::chrono::minutes(15), 2);
  throttle.record_failure("a");
  clock.advance(std::chrono::seconds(1));
  throttle.record_failure("b");
  clock.advance(std::chrono::seconds(1));
  throttle.record_failure("a");  // "a" failed last now
  clock.advance(std::chrono::seconds(1));
  throttle.record_failure("c");  // the table is full: "b" goes
  EXPECT_GT(throttle.wait_for("a").count(), 0);
  EXPECT_EQ(throttle.wait_for("b").count(), 0);
  EXPECT_GT(throttle.wait_for("c").count(), 0);
}

TEST(InstallerOptionsTest, TheRedirectUrlComesFromTheConfigurationOrThePublicUrl) {
  Config config;
  EXPECT_THAT(installer_options(config), HasError(ErrorCode::kConfig));

  config.server.public_url = "https://wik.example.com";
  config.app.workplace_url = "http://127.0.0.1:8091";
  const auto derived = installer_options(config);
  ASSERT_THAT(derived, IsOk());
  EXPECT_EQ(derived->redirect_url, "https://wik.example.com/workplace/install");
  EXPECT_EQ(derived->workplace_url, "http://127.0.0.1:8091");
  EXPECT_TRUE(derived->secure_cookies);

  config.server.public_url.clear();
  config.app.redirect_url = "http://127.0.0.1:8080/hooks/install";
  const auto explicit_url = installer_options(config);
  ASSERT_THAT(explicit_url, IsOk());
  EXPECT_EQ(explicit_url->redirect_url, "http://127.0.0.1:8080/hooks/install");
  EXPECT_FALSE(explicit_url->secure_cookies);
  EXPECT_EQ(explicit_url->trusted_proxy_hops, 0u);
  config.server.trusted_proxy_hops = 2;
  EXPECT_EQ(installer_options(config)->trusted_proxy_hops, 2u);
}

}  // namespace
}  // namespace wik::install
