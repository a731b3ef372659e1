// The assembled Emulator: both hosts on port 0, the state file across restarts, a corrupt state file,
// the apps given at start, and the platform clock shared by the OAuth code rules.
#include "emulator/emulator.h"

#include <fstream>
#include <iterator>

#include "core/appsecret_proof.h"
#include "emulator_fixture.h"
#include "support/temp_dir.h"

namespace wik::emulator {
namespace {

using boost::beast::http::verb;
using ::testing::HasSubstr;
using namespace testing;  // NOLINT: the fixture's seed ids
using wik::testing::HasError;
using wik::testing::IsOk;

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

class EmulatorTest : public EmulatorFixture {
 protected:
  // Sends a Graph GET with an install token, signed as the kit signs it.
  Reply graph_get(const std::string& path, const std::string& token) {
    const auto proof = core::make_appsecret_proof(Secret(kAppSecret), AccessToken(token),
                                                  emulator_->state().clock().unix_seconds());
    return send(verb::get, emulator_->graph_url() + path + "?access_token=" + token +
                               "&appsecret_proof=" + proof.proof + "&appsecret_time=" + proof.time);
  }

  wik::testing::TempDir dir_;
};

TEST_F(EmulatorTest, ServesBothHostsOnTheirOwnFreePorts) {
  EXPECT_NE(emulator_->graph_port(), 0);
  EXPECT_NE(emulator_->web_port(), 0);
  EXPECT_NE(emulator_->graph_port(), emulator_->web_port());
  EXPECT_EQ(emulator_->graph_url(), "http://127.0.0.1:" + std::to_string(emulator_->graph_port()));
  EXPECT_EQ(emulator_->web_url(), "http://127.0.0.1:" + std::to_string(emulator_->web_port()));
  EXPECT_EQ(send(verb::get, emulator_->graph_url() + "/healthz").status, 200u);
  EXPECT_EQ(send(verb::get, emulator_->web_url() + "/healthz").status, 200u);
}

TEST_F(EmulatorTest, RegistersTheAppsItIsGiven) {
  ASSERT_TRUE(emulator_->state().app(kAppId));
  EXPECT_EQ(emulator_->state().app(kAppId)->name, "Helpdesk");
}

TEST_F(EmulatorTest, RefusesAnInvalidApp) {
  EmulatorOptions options;
  options.graph_port = 0;
  options.web_port = 0;
  App app = helpdesk_app();
  app.secret.clear();
  options.apps.push_back(app);
  EXPECT_THAT(Emulator::start(std::move(options)), HasError(ErrorCode::kInvalidArgument, HasSubstr(kAppId)));
}

TEST_F(EmulatorTest, GraphAnswersTheInstallTokenAndForgetsItAfterUninstall) {
  const auto install = install_app();
  const std::string token = text(install, "access_token");
  const Reply me = graph_get("/me", token);
  EXPECT_EQ(me.status, 200u) << me.raw.body;
  EXPECT_EQ(text(me.body, "id"), text(install, "page_id"));
  ASSERT_EQ(control_post("/apps/" + kAppId + "/uninstall", {{"admin_id", kAda}}).status, 200u);
  EXPECT_EQ(graph_get("/me", token).status, 400u);
}

TEST_F(EmulatorTest, AdvancingTheClockExpiresCodes) {
  auto code = emulator_->state().issue_code(kAppId, kAda, kRedirect, {});
  ASSERT_THAT(code, IsOk());
  ASSERT_EQ(control_post("/clock/advance", {{"seconds", 301}}).status, 200u);
  const Reply exchange = send(verb::get, emulator_->graph_url() + "/oauth/access_token?client_id=" + kAppId +
                                             "&client_secret=" + kAppSecret + "&redirect_uri=" + kRedirect +
                                             "&code=" + code->code);
  EXPECT_EQ(exchange.status, 400u);
  EXPECT_THAT(exchange.raw.body, HasSubstr("expired"));
}

TEST_F(EmulatorTest, KeepsInstallsAndScopedIdsAcrossARestart) {
  const auto file = dir_.path() / "state.json";
  start({.state_file = file});
  const auto install = install_app();
  const Reply scoped = control_get("/apps/" + kAppId + "/users/" + kBruno);
  ASSERT_EQ(scoped.status, 200u);
  emulator_->stop();

  start({.state_file = file});
  const auto kept = emulator_->state().install_by_token(text(install, "access_token"));
  ASSERT_TRUE(kept);
  EXPECT_EQ(kept->page_id, text(install, "page_id"));
  EXPECT_EQ(text(control_get("/apps/" + kAppId + "/users/" + kBruno).body, "scoped_id"), text(scoped.body, "scoped_id"));
  EXPECT_EQ(graph_get("/me", text(install, "access_token")).status, 200u);
}

TEST_F(EmulatorTest, ACorruptStateFileStopsTheStartAndStaysUntouched) {
  const auto file = dir_.write_file("state.json", R"({"format":"wik-emulator-state","version":1,"next_id":"x"})");
  const std::string before = read_file(file);
  EmulatorOptions options;
  options.graph_port = 0;
  options.web_port = 0;
  options.state_file = file;
  EXPECT_THAT(Emulator::start(std::move(options)), HasError(ErrorCode::kMalformed, HasSubstr("next_id")));
  EXPECT_EQ(read_file(file), before);
}

TEST_F(EmulatorTest, StopIsSafeTwiceAndThenTheHostsAreGone) {
  const std::string web = emulator_->web_url();
  emulator_->stop();
  emulator_->stop();
  EXPECT_THAT(fetch({.url = web + "/healthz"}), HasError(ErrorCode::kUnavailable));
}

}  // namespace
}  // namespace wik::emulator
