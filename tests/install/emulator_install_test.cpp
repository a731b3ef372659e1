// A developer-initiated install against the real emulator (src/emulator) on loopback: the kit's
// admin page sends the browser to the emulator's install dialog, an emulator administrator signs in
// and presses Install, and the redirect back completes the install with a token the emulator
// issued, exchanged and verified with appsecret_proof as the platform requires. The browser follows
// every redirect itself; the app's Redirect URL names the host vendor.test, which the test browser
// maps to the kit's server (as a hosts entry would).
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <spdlog/spdlog.h>

#include <boost/asio/io_context.hpp>

#include <regex>

#include "emulator/emulator.h"
#include "http/server/server.h"
#include "install/installer.h"
#include "install/test_browser.h"
#include "store/sqlite/sqlite_database.h"
#include "support/result_matchers.h"
#include "support/temp_dir.h"

namespace wik::install {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;
using wik::testing::IsOk;
using wik::testing::TestBrowser;

constexpr const char* kAppId = "1111222233334444";
constexpr const char* kSecret = "0123456789abcdef0123456789abcdef";
constexpr const char* kVendorHost = "http://vendor.test";
constexpr const char* kPassword = "correct horse battery staple";

std::string unescape_html(std::string text) {
  for (const auto& [entity, plain] : {std::pair{"&lt;", "<"}, {"&gt;", ">"}, {"&quot;", "\""}, {"&#39;", "'"},
                                      {"&amp;", "&"}}) {
    for (std::size_t at = text.find(entity); at != std::string::npos; at = text.find(entity, at + 1)) {
      text.replace(at, std::string_view(entity).size(), plain);
    }
  }
  return text;
}

// Returns the hidden inputs of an HTML page, in order, values unescaped.
TestBrowser::Fields hidden_fields(const std::string& html) {
  static const std::regex kHidden(R"re(<input type="hidden" name="([^"]+)" value="([^"]*)">)re");
  TestBrowser::Fields fields;
  for (auto it = std::sregex_iterator(html.begin(), html.end(), kHidden); it != std::sregex_iterator(); ++it) {
    fields.emplace_back((*it)[1].str(), unescape_html((*it)[2].str()));
  }
  return fields;
}

std::string field(const TestBrowser::Fields& fields, std::string_view name) {
  for (const auto& [key, value] : fields) {
    if (key == name) return value;
  }
  return {};
}

std::string location(const http::ClientResponse& response) {
  return std::string(response.header("Location").value_or(""));
}

TEST(InstallWithEmulatorTest, ADeveloperInitiatedInstallCompletesAgainstTheEmulator) {
  spdlog::set_level(spdlog::level::warn);
  const std::string redirect_url = std::string(kVendorHost) + "/workplace/install";
  auto emulator = emulator::Emulator::start(
      {.graph_port = 0,
       .web_port = 0,
       .control_api = true,
       .apps = {{.id = kAppId, .secret = kSecret, .name = "Helpdesk", .redirect_url = redirect_url,
                 .deauthorize_url = std::string(kVendorHost) + "/workplace/deauthorize", .permissions = {"message"}}}});
  ASSERT_THAT(emulator, IsOk());
  const auto ada = (*emulator)->state().user_by_email("ada@acme.example");
  ASSERT_TRUE(ada);

  testing::TempDir dir;
  core::SystemClock clock;  // the emulator checks appsecret_time against real time
  auto database = store::SqliteDatabase::open({.path = dir.path() / "wik.db"});
  ASSERT_THAT(database, IsOk());
  auto store = store::Store::open(std::move(database).value(), core::KeyRing::generate("k1"), clock,
                                  {.password_cost = store::PasswordCost::minimum()});
  ASSERT_THAT(store, IsOk());
  const auto admin = (*store)->create_account("admin@vendor.example", Secret(kPassword), "admin");
  ASSERT_THAT(admin, IsOk());

  http::ClientOptions client_options;
  client_options.allow_plain_http = true;
  auto graph_http = std::move(http::Client::create(client_options)).value();
  auto browser_http = std::move(http::Client::create(client_options)).value();
  core::SecureRandomSource random;
  graph::GraphClient graph(*graph_http, {.base_url = (*emulator)->graph_url()},
                           {.app_id = kAppId, .app_secret = Secret(kSecret)}, clock, random);
  Installer installer(**store, graph, clock,
                      {.app_name = "Helpdesk", .redirect_url = redirect_url,
                       .workplace_url = (*emulator)->web_url(), .secure_cookies = false});
  http::Server server({.port = 0, .io_threads = 1});
  installer.add_routes(server.router());
  ASSERT_THAT(server.start(), IsOk());
  const std::string kit = "http://127.0.0.1:" + std::to_string(server.port());

  boost::asio::io_context io;
  TestBrowser browser(io, *browser_http, kit);
  ASSERT_EQ(browser.get("/signin").status, 200u);
  ASSERT_EQ(browser.post("/signin", {{"csrf", browser.cookie("wik_csrf").value_or("")},
                                     {"email", "admin@vendor.example"},
                                     {"password", kPassword}})
                .status,
            303u);
  ASSERT_EQ(browser.get("/admin/install").status, 200u);
  const auto started = browser.post("/admin/install", {{"csrf", browser.cookie("wik_csrf").value_or("")},
                                                       {"account", std::to_string(admin->id)}});
  const std::string dialog = location(started);
  ASSERT_THAT(dialog, StartsWith((*emulator)->web_url() + "/dialog/work/app_install/?app_id=1111222233334444"));

  // The emulator's administrator signs in, comes back to the dialog and presses Install.
  const std::string web = (*emulator)->web_url();
  EXPECT_EQ(browser.get(dialog).status, 303u) << "signed out: the dialog asks to sign in first";
  const auto home = browser.get(web + "/");
  ASSERT_EQ(browser.post(web + "/login", {{"csrf", field(hidden_fields(home.body), "csrf")}, {"user_id", ada->id}})
                .status,
            303u);
  const auto consent = browser.get(dialog);
  ASSERT_EQ(consent.status, 200u) << consent.body;
  TestBrowser::Fields fields = hidden_fields(consent.body);
  fields.emplace_back("decision", "install");
  const auto installed = browser.post(web + "/dialog/work/app_install", fields);
  const std::string back = location(installed);
  ASSERT_THAT(back, StartsWith(redirect_url + "?code="));

  const auto finished = browser.get(kit + back.substr(std::string_view(kVendorHost).size()));
  ASSERT_EQ(finished.status, 303u) << finished.body;
  EXPECT_THAT(location(finished), StartsWith("/admin/install?installed="));
  EXPECT_THAT(browser.get(location(finished)).body, HasSubstr("Installed into Acme Corp."));

  const std::string community_id = ada->community_id;
  const auto platform_install = (*emulator)->state().install_of(kAppId, community_id);
  ASSERT_TRUE(platform_install);
  const auto stored = (*store)->community(community_id)->installation();
  ASSERT_THAT(stored, IsOk());
  EXPECT_EQ(stored->access_token.expose(), platform_install->access_token);
  EXPECT_EQ(stored->installed_by, admin->id);
  EXPECT_THAT(stored->permissions, ::testing::Contains("message"));
  for (const auto& response : browser.transcript()) {
    EXPECT_THAT(response.body, ::testing::Not(HasSubstr(platform_install->access_token)));
  }
  server.stop();
  // Pooled connections belong to the io_contexts they ran on: close them while those still exist.
  graph_http->close_idle();
  browser_http->close_idle();
  (*emulator)->stop();
}

}  // namespace
}  // namespace wik::install
