// The wik binary, run as a user runs it: wik proof against `openssl dgst`, signed-request verify and
// create (both encodings, form bodies, every rejection), keys generate/add, doctor, migrate, manifest
// check, the emulator, and the operator commands (installs, purge, webhooks, api) on a SQLite store,
// `wik api` against a running emulator, and `wik subscriptions` against an emulator and a wik::App
// (the callback the emulator verifies) running in the test's process.
#include <wik/app.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <iterator>
#include <thread>

#include <boost/json.hpp>
#include <fmt/chrono.h>
#include <spdlog/spdlog.h>

#include "core/clock.h"
#include "core/hex.h"
#include "core/key_ring.h"
#include "core/secure_random.h"
#include "emulator/emulator.h"
#include "store/sqlite/sqlite_database.h"
#include "store/store.h"
#include "support/result_matchers.h"
#include "support/command.h"
#include "support/temp_dir.h"

namespace wik {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using wik::testing::CommandResult;
using wik::testing::IsOk;
using wik::testing::run_command;
using wik::testing::shell_quote;

// PROTOCOL.md vectors.
constexpr const char* kSecret = "0123456789abcdef0123456789abcdef";
constexpr const char* kHexForm =
    "YTllNzQxZDUwN2JjZDMxYTc1NzU5M2VlOTUxYzAwNzkxNTQ5NWYxZjJkODY0ZmM1ZDM4ZmU0MWI3NGFkNWI0Nw."
    "eyJhbGdvcml0aG0iOiJITUFDLVNIQTI1NiIsImlzc3VlZF9hdCI6MTc2NDM3MDAwMCwiY29tbXVuaXR5X2lkIjoiMTAwMDQyIn0";
constexpr const char* kPayload = R"({"algorithm":"HMAC-SHA256","issued_at":1764370000,"community_id":"100042"})";
// The secret an app secret rotation replaced (docs/security.md).
constexpr const char* kPreviousSecret = "fedcba9876543210fedcba9876543210";

// Returns the settings of a rotation from `previous` to the secret in use, its window open a day.
std::string rotation_env(const std::string& previous) {
  const auto until = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now() + std::chrono::hours(24));
  return "WIK_APP_PREVIOUS_SECRET=" + previous +
         fmt::format(" WIK_APP_PREVIOUS_SECRET_UNTIL={:%Y-%m-%dT%H:%M:%SZ}", fmt::gmtime(until));
}

class CliTest : public ::testing::Test {
 protected:
  // Runs wik with a clean environment (only PATH, HOME, the secret scan's WIK_CAPTURE_DIR and `env`)
  // in the temp directory.
  CommandResult wik(const std::string& args, const std::string& input = {}, const std::string& env = {}) {
    return run_command("cd " + shell_quote(dir_.path().string()) + " && env -i PATH=\"$PATH\" HOME=\"$HOME\" " +
                           "${WIK_CAPTURE_DIR:+WIK_CAPTURE_DIR=\"$WIK_CAPTURE_DIR\"} " + env +
                           " " + shell_quote(WIK_CLI_PATH) + " " + args,
                       input);
  }
  std::string file(const std::string& name, const std::string& contents) {
    return shell_quote(dir_.write_file(name, contents).string());
  }
  wik::testing::TempDir dir_;
};

TEST_F(CliTest, ProofMatchesTheProtocolVector) {
  const auto result = wik("proof --token-file " + file("token", "WPTOKEN-EXAMPLE-1\n") + " --secret-file " +
                          file("secret", std::string(kSecret) + "\n") + " --time 1764370000");
  ASSERT_EQ(result.exit_status, 0) << result.err;
  EXPECT_EQ(result.out,
            "appsecret_proof=7e6fdff63e308913045aaf6e4407f1c9e298bc6190821effba6dce192558aa0d\n"
            "appsecret_time=1764370000\n");
}

TEST_F(CliTest, ProofAgreesWithOpensslDgstOnRandomInput) {
  for (int round = 0; round < 3; ++round) {
    const std::string token = "EAAT" + core::to_hex(core::secure_random_bytes(24));
    const std::string secret = core::to_hex(core::secure_random_bytes(16));
    const std::string time = std::to_string(1700000000 + round * 12345);
    const auto ours = wik("proof --time " + time, "", "WIK_ACCESS_TOKEN=" + token + " WIK_APP_SECRET=" + secret);
    ASSERT_EQ(ours.exit_status, 0) << ours.err;
    const auto theirs = run_command("printf '%s' " + shell_quote(token + "|" + time) +
                                    " | openssl dgst -sha256 -hmac " + shell_quote(secret) + " -r");
    ASSERT_EQ(theirs.exit_status, 0) << theirs.err;
    EXPECT_EQ(ours.out, "appsecret_proof=" + theirs.out.substr(0, 64) + "\nappsecret_time=" + time + "\n");
  }
}

TEST_F(CliTest, ProofNeedsItsSecretsAndNeverTakesThemAsArguments) {
  const auto missing = wik("proof --time 1");
  EXPECT_EQ(missing.exit_status, 2);
  EXPECT_THAT(missing.err, HasSubstr("WIK_ACCESS_TOKEN"));
  const auto as_argument = wik("proof --token WPTOKEN --secret abc");
  EXPECT_NE(as_argument.exit_status, 0);
  EXPECT_THAT(as_argument.out, Not(HasSubstr("appsecret_proof")));
}

TEST_F(CliTest, SignedRequestVerifyPrintsThePayload) {
  const std::string secret_file = file("secret", kSecret);
  const auto hex = wik("signed-request verify --secret-file " + secret_file, std::string(kHexForm) + "\n");
  ASSERT_EQ(hex.exit_status, 0) << hex.err;
  EXPECT_EQ(hex.out, std::string(kPayload) + "\n");
  EXPECT_THAT(hex.err, HasSubstr("hex digest form"));

  const auto raw = wik("signed-request verify --secret-file " + secret_file,
                       "qedB1Qe80xp1dZPulRwAeRVJXx8thk_F04_kG3StW0c." + std::string(kHexForm).substr(87));
  ASSERT_EQ(raw.exit_status, 0) << raw.err;
  EXPECT_THAT(raw.err, HasSubstr("raw digest form"));

  const auto form = wik("signed-request verify --secret-file " + secret_file,
                        "signed_request=" + std::string(kHexForm) + "&other=1");
  EXPECT_EQ(form.exit_status, 0) << form.err;
}

TEST_F(CliTest, SignedRequestVerifyNamesEachProblem) {
  const std::string secret_file = file("secret", kSecret);
  const auto wrong = wik("signed-request verify --secret-file " + file("other", "another-secret"), kHexForm);
  EXPECT_EQ(wrong.exit_status, 1);
  EXPECT_THAT(wrong.err, HasSubstr("signature does not match"));
  EXPECT_THAT(wrong.err + wrong.out, Not(HasSubstr("a9e741d5")));  // never the expected digest

  const auto garbage = wik("signed-request verify --secret-file " + secret_file, "not-a-signed-request");
  EXPECT_EQ(garbage.exit_status, 1);
  EXPECT_THAT(garbage.err, HasSubstr("no '.'"));

  const auto stale = wik("signed-request verify --max-age 3600 --now 1764380000 --secret-file " + secret_file, kHexForm);
  EXPECT_EQ(stale.exit_status, 1);
  EXPECT_THAT(stale.err, HasSubstr("too long ago"));

  const auto huge = wik("signed-request verify --secret-file " + secret_file, std::string(100000, 'a'));
  EXPECT_EQ(huge.exit_status, 1);
  EXPECT_THAT(huge.err, HasSubstr("larger than"));
}

TEST_F(CliTest, SignedRequestCreateRoundTripsAndMakesTheSeedsForm) {
  const std::string secret_file = file("secret", kSecret);
  const auto created = wik("signed-request create --secret-file " + secret_file, kPayload);
  ASSERT_EQ(created.exit_status, 0) << created.err;
  EXPECT_EQ(created.out, std::string(kHexForm) + "\n");

  const auto stamped = wik("signed-request create --now 1764370000 --encoding raw --secret-file " + secret_file,
                           R"({"community_id":"7"})");
  ASSERT_EQ(stamped.exit_status, 0) << stamped.err;
  const auto verified = wik("signed-request verify --secret-file " + secret_file, stamped.out);
  ASSERT_EQ(verified.exit_status, 0) << verified.err;
  EXPECT_EQ(verified.out, R"({"community_id":"7","algorithm":"HMAC-SHA256","issued_at":1764370000})" "\n");

  const auto not_json = wik("signed-request create --secret-file " + secret_file, "[1]");
  EXPECT_EQ(not_json.exit_status, 1);
  EXPECT_THAT(not_json.err, HasSubstr("not a JSON object"));
}

TEST_F(CliTest, KeysGenerateMakesAPrivateRingAndAddRotatesIt) {
  const auto ring = dir_.path() / "keys.ring";
  const auto generated = wik("keys generate --id first --out " + shell_quote(ring.string()));
  ASSERT_EQ(generated.exit_status, 0) << generated.err;
  struct stat info {};
  ASSERT_EQ(::stat(ring.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600u);
  std::ifstream ring_file(ring);
  const std::string ring_text((std::istreambuf_iterator<char>(ring_file)), std::istreambuf_iterator<char>());
  const std::size_t material_at = ring_text.find("key first ") + 10;
  ASSERT_NE(material_at, std::string::npos + 10) << ring_text;
  EXPECT_THAT(generated.out + generated.err, Not(HasSubstr(ring_text.substr(material_at, 43))));  // never printed

  const auto again = wik("keys generate --out " + shell_quote(ring.string()));
  EXPECT_EQ(again.exit_status, 2);
  EXPECT_THAT(again.err, HasSubstr("exists"));

  const auto added = wik("keys add --id second --file " + shell_quote(ring.string()));
  ASSERT_EQ(added.exit_status, 0) << added.err;
  const auto doctor = wik("doctor", "", "WIK_KEYS_RING_FILE=" + shell_quote(ring.string()));
  EXPECT_THAT(doctor.out, HasSubstr("2 key(s): first, second; active second"));
}

TEST_F(CliTest, DoctorReportsWhatItFinds) {
  const auto result = wik("doctor");
  EXPECT_EQ(result.exit_status, 0) << result.out << result.err;
  EXPECT_THAT(result.out, HasSubstr("openssl"));
  EXPECT_THAT(result.out, HasSubstr("defaults"));
  EXPECT_THAT(result.out, HasSubstr("app.id"));
  EXPECT_THAT(result.out, HasSubstr("sqlite wik.db"));

  const auto configured = wik("doctor", "", "WIK_APP_ID=1111222233334444 WIK_APP_SECRET=" + std::string(kSecret));
  EXPECT_THAT(configured.out, HasSubstr("1111222233334444"));
  EXPECT_THAT(configured.out, Not(HasSubstr(kSecret)));

  const auto broken = wik("doctor", "", "WIK_SERVER_PORT=notaport");
  EXPECT_EQ(broken.exit_status, 1);
  EXPECT_THAT(broken.out, HasSubstr("server.port"));
}

TEST_F(CliTest, MigrateAppliesTheSchemaOnceAndIsHarmlessAgain) {
  const auto first = wik("migrate", "", "WIK_STORE_SQLITE_PATH=wik.db");
  ASSERT_EQ(first.exit_status, 0) << first.err;
  EXPECT_THAT(first.out, ::testing::MatchesRegex("schema at version [1-9][0-9]* \\(was 0\\)\n"));
  const std::string version = first.out.substr(18, first.out.find(' ', 18) - 18);
  const auto second = wik("migrate", "", "WIK_STORE_SQLITE_PATH=wik.db");
  ASSERT_EQ(second.exit_status, 0) << second.err;
  EXPECT_EQ(second.out, "schema at version " + version + " (was " + version + ")\n");

  const auto unreachable = wik("migrate", "", "WIK_STORE_SQLITE_PATH=/nonexistent-dir/wik.db");
  EXPECT_EQ(unreachable.exit_status, 2);
  EXPECT_THAT(unreachable.err, HasSubstr("migrate"));
}

TEST_F(CliTest, HelpListsTheCommands) {
  const auto result = wik("--help");
  EXPECT_EQ(result.exit_status, 0);
  for (const char* command : {"proof", "signed-request", "keys", "doctor", "migrate", "manifest", "emulator",
                              "installs", "purge", "webhooks", "api", "subscriptions"}) {
    EXPECT_THAT(result.out, HasSubstr(command));
  }
}

TEST_F(CliTest, ServeNamesWhatTheConfigurationLacks) {
  const auto result = wik("serve");
  EXPECT_EQ(result.exit_status, 2);
  EXPECT_THAT(result.err, HasSubstr("app.id is not set"));
  const auto no_token = wik("serve", "", "WIK_APP_ID=1111222233334444 WIK_APP_SECRET=s3cr3t-value");
  EXPECT_EQ(no_token.exit_status, 2);
  EXPECT_THAT(no_token.err, HasSubstr("app.verify_token is not set"));
  EXPECT_THAT(no_token.err, Not(HasSubstr("s3cr3t-value")));
}

TEST_F(CliTest, ManifestCheckPrintsEveryProblemAndFailsOnErrors) {
  file("app.toml", R"(id = "1111222233334444"
name = "Helpdesk"
icon = "missing.png"
redirect_url = "http://vendor.example/install"
deauthorize_url = "https://vendor.example/deauthorize"
tagline = "A tagline much longer than the forty characters allowed"
description = "Tickets."
publisher = "Example Ltd"
marketing_url = "https://vendor.example"
terms_url = "https://vendor.example/terms"
privacy_url = "https://vendor.example/privacy"
support = "support@vendor.example"
permissions = ["message", "impersonate_account"]
)");
  const auto result = wik("manifest check app.toml");
  EXPECT_EQ(result.exit_status, 1) << result.err;
  EXPECT_THAT(result.out, HasSubstr("error: icon: cannot read"));
  EXPECT_THAT(result.out, HasSubstr("error: tagline: has 55 characters"));
  EXPECT_THAT(result.out, HasSubstr("error: redirect_url: must use https"));
  EXPECT_THAT(result.out, HasSubstr("error: permissions[1]: \"impersonate_account\" is not available"));
  EXPECT_THAT(result.out, HasSubstr("app.toml: 4 error(s), 0 warning(s)"));

  const auto missing = wik("manifest check nowhere.toml");
  EXPECT_EQ(missing.exit_status, 1);
  EXPECT_THAT(missing.err, HasSubstr("no manifest at nowhere.toml"));
}

// Reads `fd` until `lines` newlines arrived, it closed, or `timeout` passed.
std::string read_lines(int fd, int lines, std::chrono::milliseconds timeout) {
  std::string text;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::count(text.begin(), text.end(), '\n') < lines) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    pollfd readable{fd, POLLIN, 0};
    if (left.count() <= 0 || ::poll(&readable, 1, static_cast<int>(left.count())) <= 0) break;
    char buffer[512];
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n <= 0) break;
    text.append(buffer, static_cast<std::size_t>(n));
  }
  return text;
}

// Waits up to `timeout` for `pid` to exit and returns its wait status; kills it when it does not.
int wait_for_exit(pid_t pid, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  int status = 0;
  while (::waitpid(pid, &status, WNOHANG) == 0) {
    if (std::chrono::steady_clock::now() >= deadline) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      return -1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return status;
}

// A `wik emulator --control-api` child process on free ports with one app registered (id kAppId,
// secret kSecret), its standard output read until it printed its two hosts. Stopped with SIGTERM
// by stop(), or killed when destroyed while still running.
class EmulatorProcess {
 public:
  static constexpr const char* kAppId = "1111222233334444";

  explicit EmulatorProcess(const wik::testing::TempDir& dir) : state_file_((dir.path() / "emulator.json").string()) {
    int out[2];
    if (::pipe(out) != 0) return;
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
    posix_spawn_file_actions_addclose(&actions, out[0]);
    posix_spawn_file_actions_addclose(&actions, out[1]);
    posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
    const std::string manifest =
        dir.write_file("app.toml", "id = \"" + std::string(kAppId) + "\"\nname = \"Helpdesk\"\ndescription = \"x\"\n")
            .string();
    std::vector<std::string> args = {WIK_CLI_PATH, "emulator",   "--graph-port", "0",      "--web-port",   "0",
                                     "--state-file", state_file_, "--control-api", "--app", manifest};
    std::vector<char*> argv;
    for (std::string& arg : args) argv.push_back(arg.data());
    argv.push_back(nullptr);
    std::string secret = "WIK_EMULATOR_APP_SECRET=" + std::string(kSecret);
    const char* capture_dir = std::getenv("WIK_CAPTURE_DIR");  // the secret scan's (scripts/test.sh)
    std::string capture = capture_dir != nullptr ? std::string("WIK_CAPTURE_DIR=") + capture_dir : std::string();
    char* environment[] = {secret.data(), capture.empty() ? nullptr : capture.data(), nullptr};
    if (::posix_spawn(&pid_, WIK_CLI_PATH, &actions, nullptr, argv.data(), environment) != 0) pid_ = 0;
    posix_spawn_file_actions_destroy(&actions);
    ::close(out[1]);
    printed_ = read_lines(out[0], 2, std::chrono::seconds(20));
    ::close(out[0]);
  }
  ~EmulatorProcess() {
    if (pid_ > 0) wait_for_exit(pid_, std::chrono::milliseconds(0));
  }
  EmulatorProcess(const EmulatorProcess&) = delete;
  EmulatorProcess& operator=(const EmulatorProcess&) = delete;

  // Returns what it printed on standard output at start.
  const std::string& printed() const { return printed_; }
  // Returns the URL of host `name` ("graph" or "web") as printed, or "" when it printed none.
  std::string url(const std::string& name) const {
    const std::string prefix = "wik emulator: " + name + " ";
    const std::size_t at = printed_.find(prefix);
    if (at == std::string::npos) return {};
    const std::size_t from = at + prefix.size();
    return printed_.substr(from, printed_.find('\n', from) - from);
  }
  const std::string& state_file() const { return state_file_; }
  // Sends SIGTERM and returns the wait status (-1 when it had to be killed).
  int stop() {
    if (pid_ <= 0) return -1;
    ::kill(pid_, SIGTERM);
    const int status = wait_for_exit(pid_, std::chrono::seconds(20));
    pid_ = 0;
    return status;
  }

 private:
  std::string state_file_;
  pid_t pid_ = 0;
  std::string printed_;
};

TEST_F(CliTest, EmulatorRegistersItsAppPrintsItsTwoHostsAndStopsCleanlyOnSigterm) {
  EmulatorProcess emulator(dir_);
  EXPECT_THAT(emulator.printed(), ::testing::MatchesRegex("wik emulator: graph http://127\\.0\\.0\\.1:[1-9][0-9]*\n"
                                                          "wik emulator: web http://127\\.0\\.0\\.1:[1-9][0-9]*\n"));
  const int status = emulator.stop();
  ASSERT_TRUE(WIFEXITED(status)) << status;
  EXPECT_EQ(WEXITSTATUS(status), 0);
  struct stat info {};
  ASSERT_EQ(::stat(emulator.state_file().c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600u);
  std::ifstream saved(emulator.state_file());
  const std::string state((std::istreambuf_iterator<char>(saved)), std::istreambuf_iterator<char>());
  EXPECT_THAT(state, HasSubstr(R"("id":"1111222233334444")"));  // the --app, with the secret from the environment
}

TEST_F(CliTest, EmulatorHelpSaysHowToPointAnIntegrationAtIt) {
  const auto result = wik("emulator --help");
  EXPECT_EQ(result.exit_status, 0);
  EXPECT_THAT(result.out, HasSubstr("Graph API base URL"));
  EXPECT_THAT(result.out, HasSubstr("install dialog base"));
  EXPECT_THAT(result.out, HasSubstr("plain HTTP"));
  EXPECT_THAT(result.out, HasSubstr("--control-api"));
}

TEST_F(CliTest, EmulatorNeedsASecretForEachApp) {
  file("app.toml", "id = \"1111\"\nname = \"Helpdesk\"\n");
  const auto result = wik("emulator --graph-port 0 --web-port 0 --app app.toml");
  EXPECT_EQ(result.exit_status, 2);
  EXPECT_THAT(result.err, HasSubstr("WIK_EMULATOR_APP_SECRET"));
}

// The operator commands (installs, purge, webhooks, api) on a SQLite store in the temp dir: a key
// ring made by `wik keys generate`, the schema applied by `wik migrate`, and rows put in by the test
// through the store library, as `wik serve` would have stored them.
class OperatorCliTest : public CliTest {
 protected:
  static constexpr const char* kStoreEnv = "WIK_KEYS_RING_FILE=keys.ring WIK_STORE_SQLITE_PATH=wik.db";

  void SetUp() override {
    const auto ring = wik("keys generate --id k1 --out keys.ring");
    ASSERT_EQ(ring.exit_status, 0) << ring.err;
    const auto migrated = wik("migrate", "", kStoreEnv);
    ASSERT_EQ(migrated.exit_status, 0) << migrated.err;
  }

  // Returns the store the commands read; close it (destroy it) before running one.
  std::unique_ptr<store::Store> open_store(store::StoreOptions options = {}) {
    std::ifstream ring_file(dir_.path() / "keys.ring");
    const std::string ring_text((std::istreambuf_iterator<char>(ring_file)), std::istreambuf_iterator<char>());
    auto database = store::SqliteDatabase::open({.path = dir_.path() / "wik.db"}).value();
    return store::Store::open(std::move(database), core::KeyRing::parse(ring_text).value(), clock_, options).value();
  }

  // Runs an operator command with the store's environment and `env`.
  CommandResult operate(const std::string& args, const std::string& env = {}) {
    return wik(args, "", std::string(kStoreEnv) + " " + env);
  }

  // Stores one webhook event of `community` and dead-letters it (the store must allow one attempt).
  static void dead_letter(store::Store& store, store::CommunityScope& community, const std::string& dedupe_key) {
    ASSERT_THAT(community.insert_inbox_event({.topic = "page", .dedupe_key = dedupe_key, .payload = "{}"}), IsOk());
    const auto claimed = store.claim_inbox_events("test", 1, std::chrono::seconds(30));
    ASSERT_THAT(claimed, IsOk());
    ASSERT_EQ(claimed->size(), 1u);
    ASSERT_THAT(store.fail_inbox_event(claimed->front(), "handler failed", clock_.now()), IsOk());
  }

  static inline const core::SystemClock clock_;
};

TEST_F(OperatorCliTest, InstallsListsInstallationsAndUnfinishedPurgesButNeverATokenAsTableOrJson) {
  {
    auto store = open_store();
    auto acme = store->community("1001").value();
    ASSERT_THAT(acme.put_installation({.community_name = "Acme", .access_token = AccessToken("CANARY-TOKEN-1001")}),
                IsOk());
    auto gone = store->community("2002").value();
    ASSERT_THAT(gone.put_installation({.community_name = "Gone Ltd", .access_token = AccessToken("CANARY-TOKEN-2002")}),
                IsOk());
    ASSERT_THAT(gone.revoke_installation(), IsOk());
    ASSERT_THAT(gone.request_purge(std::chrono::sys_days(std::chrono::year(2100) / 1 / 2)), IsOk());
  }
  const auto table = operate("installs");
  ASSERT_EQ(table.exit_status, 0) << table.err;
  EXPECT_THAT(table.out, ::testing::ContainsRegex("1001 +Acme +active +20[0-9-]+T[0-9:]+Z"));
  EXPECT_THAT(table.out, ::testing::ContainsRegex("2002 +Gone Ltd +revoked"));
  EXPECT_THAT(table.out, ::testing::ContainsRegex("[0-9]+ +2002 +pending +2100-01-02T00:00:00Z"));
  EXPECT_THAT(table.out, HasSubstr("2 installation(s)"));
  EXPECT_THAT(table.out, HasSubstr("1 purge job(s) not done"));
  EXPECT_THAT(table.out, Not(HasSubstr("CANARY")));

  const auto json = operate("installs --json");
  ASSERT_EQ(json.exit_status, 0) << json.err;
  const boost::json::value parsed = boost::json::parse(json.out);
  EXPECT_EQ(parsed.at("installations").at(0).at("community_id"), "1001");
  EXPECT_EQ(parsed.at("installations").at(0).at("name"), "Acme");
  EXPECT_EQ(parsed.at("installations").at(1).at("state"), "revoked");
  EXPECT_EQ(parsed.at("purge_jobs").at(0).at("community_id"), "2002");
  EXPECT_EQ(parsed.at("purge_jobs").at(0).at("deadline"), "2100-01-02T00:00:00Z");
  EXPECT_THAT(json.out, Not(HasSubstr("CANARY")));
}

TEST_F(OperatorCliTest, OperatorCommandsNeedTheKeyRingAndAMigratedSchema) {
  const auto no_ring = wik("installs", "", "WIK_STORE_SQLITE_PATH=wik.db");
  EXPECT_EQ(no_ring.exit_status, 2);
  EXPECT_THAT(no_ring.err, HasSubstr("keys.ring is not set"));
  const auto fresh = wik("installs", "", "WIK_KEYS_RING_FILE=keys.ring WIK_STORE_SQLITE_PATH=fresh.db");
  EXPECT_EQ(fresh.exit_status, 2);
  EXPECT_THAT(fresh.err, HasSubstr("run `wik migrate`"));
}

TEST_F(OperatorCliTest, PurgeRefusesWithoutYesThenRevokesAndDeletesEveryRow) {
  {
    auto store = open_store();
    auto acme = store->community("1001").value();
    ASSERT_THAT(acme.put_installation({.community_name = "Acme", .access_token = AccessToken("CANARY-TOKEN-1001")}),
                IsOk());
    ASSERT_THAT(acme.insert_inbox_event({.topic = "page", .dedupe_key = "m1", .payload = "{}"}), IsOk());
    ASSERT_THAT(acme.put_identity("user-1", "one@acme.test"), IsOk());
  }
  const auto unconfirmed = operate("purge --community 1001");
  EXPECT_EQ(unconfirmed.exit_status, 1);
  EXPECT_THAT(unconfirmed.err, HasSubstr("would revoke the install of community 1001"));
  EXPECT_THAT(unconfirmed.err, HasSubstr("--yes"));
  EXPECT_THAT(operate("installs").out, ::testing::ContainsRegex("1001 +Acme +active"));

  const auto malformed = operate("purge --community '12 34' --yes");
  EXPECT_EQ(malformed.exit_status, 1);
  EXPECT_THAT(malformed.err, HasSubstr("a community id is 1-64 printable characters"));

  const auto purged = operate("purge --community 1001 --yes");
  ASSERT_EQ(purged.exit_status, 0) << purged.err;
  EXPECT_THAT(purged.out, HasSubstr("install revoked\n"));
  EXPECT_THAT(purged.out, ::testing::ContainsRegex("inbox +1 row\\(s\\) deleted"));
  EXPECT_THAT(purged.out, ::testing::ContainsRegex("identities +1 row\\(s\\) deleted"));
  EXPECT_THAT(purged.out, ::testing::ContainsRegex("installations +1 row\\(s\\) deleted"));
  EXPECT_THAT(purged.out, ::testing::ContainsRegex("purge job [0-9]+ done\n"));
  EXPECT_THAT(operate("installs").out, HasSubstr("0 installation(s)"));

  const auto again = operate("purge --community 1001 --yes");
  ASSERT_EQ(again.exit_status, 0) << again.err;
  EXPECT_THAT(again.out, HasSubstr("no active install to revoke\n"));
}

TEST_F(OperatorCliTest, WebhooksStatsCountsTheBacklogAndReplayRequeuesDeadLetters) {
  {
    auto store = open_store({.max_attempts = 1});
    auto acme = store->community("1001").value();
    ASSERT_THAT(acme.put_installation({.community_name = "Acme", .access_token = AccessToken("token")}), IsOk());
    dead_letter(*store, acme, "m1");
    dead_letter(*store, acme, "m2");
    ASSERT_THAT(acme.insert_inbox_event({.topic = "page", .dedupe_key = "m3", .payload = "{}"}), IsOk());
  }
  const auto before = operate("webhooks stats");
  ASSERT_EQ(before.exit_status, 0) << before.err;
  EXPECT_THAT(before.out, ::testing::ContainsRegex("COMMUNITY +PENDING +DEAD LETTERS\n1001 +1 +2\n"));

  const auto not_dead = operate("webhooks replay --community 1001");
  EXPECT_EQ(not_dead.exit_status, 1);
  EXPECT_THAT(not_dead.err, HasSubstr("add --dead"));

  const auto none_since = operate("webhooks replay --dead --community 1001 --since 4102444800");
  ASSERT_EQ(none_since.exit_status, 0) << none_since.err;
  EXPECT_EQ(none_since.out, "re-queued 0 of 2 dead letter(s) of community 1001\n");

  const auto replayed = operate("webhooks replay --dead --community 1001");
  ASSERT_EQ(replayed.exit_status, 0) << replayed.err;
  EXPECT_EQ(replayed.out, "re-queued 2 of 2 dead letter(s) of community 1001\n");
  EXPECT_THAT(operate("webhooks stats").out, ::testing::ContainsRegex("1001 +3 +0\n"));
}

TEST_F(OperatorCliTest, ApiRejectsWhatItCannotSendBeforeCallingAnything) {
  const std::string env = "WIK_APP_ID=1111222233334444 WIK_APP_SECRET=" + std::string(kSecret);
  const auto method = operate("api PATCH /me --community 1001", env);
  EXPECT_EQ(method.exit_status, 1);
  EXPECT_THAT(method.err, HasSubstr("GET, POST or DELETE"));
  const auto field = operate("api /me -f novalue --community 1001", env);
  EXPECT_EQ(field.exit_status, 1);
  EXPECT_THAT(field.err, HasSubstr("name=value"));
  const auto not_installed = operate("api /me --community 1001", env);
  EXPECT_EQ(not_installed.exit_status, 1);
  EXPECT_THAT(not_installed.err, HasSubstr("wik: api: the community is not installed"));
  const auto no_credentials = operate("api /me --community 1001");
  EXPECT_EQ(no_credentials.exit_status, 2);
  EXPECT_THAT(no_credentials.err, HasSubstr("app.id"));
}

TEST_F(OperatorCliTest, ApiCallsTheEmulatorAsTheInstallAndNamesTheErrorOfADeadToken) {
  EmulatorProcess emulator(dir_);
  const std::string web = emulator.url("web");
  const std::string graph = emulator.url("graph");
  ASSERT_FALSE(web.empty() || graph.empty()) << emulator.printed();
  const std::string control = web + "/_emulator/apps/" + EmulatorProcess::kAppId;
  const std::string as_ada = " -H 'Content-Type: application/json' -d '{\"admin_id\":\"100000000000002\"}'";
  const auto installed = run_command("curl -sf -X POST " + shell_quote(control + "/install") + as_ada);
  ASSERT_EQ(installed.exit_status, 0) << installed.err;
  const boost::json::value install = boost::json::parse(installed.out);
  const std::string community_id(install.at("community_id").as_string());
  const std::string token(install.at("access_token").as_string());
  {
    auto store = open_store();
    auto community = store->community(community_id).value();
    ASSERT_THAT(community.put_installation({.community_name = "Acme Corp", .access_token = AccessToken(token)}),
                IsOk());
  }

  const std::string env = "WIK_APP_ID=" + std::string(EmulatorProcess::kAppId) +
                          " WIK_APP_SECRET=" + std::string(kSecret) + " WIK_APP_GRAPH_URL=" + shell_quote(graph);
  const auto me = operate("api GET /me -f fields=id,name --community " + community_id, env);
  ASSERT_EQ(me.exit_status, 0) << me.err;
  const boost::json::value page = boost::json::parse(me.out);
  EXPECT_EQ(page.at("id"), install.at("page_id"));
  EXPECT_TRUE(page.at("name").is_string());
  EXPECT_THAT(me.out + me.err, Not(HasSubstr(token)));

  // During an app secret rotation the proof is made with app.secret alone: the previous secret
  // verifies incoming signatures, it never signs.
  const auto rotating = operate("api /me --community " + community_id, env + " " + rotation_env(kPreviousSecret));
  EXPECT_EQ(rotating.exit_status, 0) << rotating.err;
  const auto swapped = operate("api /me --community " + community_id,
                               env + " WIK_APP_SECRET=" + kPreviousSecret + " " + rotation_env(kSecret));
  EXPECT_EQ(swapped.exit_status, 1);
  EXPECT_THAT(swapped.err, HasSubstr("graph error 100"));

  const auto uninstalled = run_command("curl -sf -X POST " + shell_quote(control + "/uninstall") + as_ada);
  ASSERT_EQ(uninstalled.exit_status, 0) << uninstalled.err;
  const auto dead = operate("api /me --community " + community_id, env);
  EXPECT_EQ(dead.exit_status, 1);
  EXPECT_THAT(dead.err, HasSubstr("graph error 190/458"));
  EXPECT_THAT(dead.out + dead.err, Not(HasSubstr(token)));
  EXPECT_EQ(emulator.stop(), 0);
}

// `wik subscriptions` as an operator runs it next to `wik serve`: an emulator with the app
// registered, and a wik::App serving the webhook callback the emulator verifies (its handshake
// answers with the verify token), both in this process; the command is configured through the
// environment as the App is.
class SubscriptionsCliTest : public CliTest {
 protected:
  static constexpr const char* kAppId = "1111222233334444";
  static constexpr const char* kVerifyToken = "VERIFY-TOKEN-CANARY-7f3a";

  static void SetUpTestSuite() { spdlog::set_level(spdlog::level::warn); }

  void SetUp() override {
    emulator::App registered{.id = kAppId, .secret = kSecret, .name = "Helpdesk", .publisher = "Example Ltd"};
    auto emulator = emulator::Emulator::start({.graph_port = 0, .web_port = 0, .apps = {registered}, .io_threads = 1});
    ASSERT_THAT(emulator, IsOk());
    emulator_ = std::move(*emulator);

    Config config;
    config.app.id = kAppId;
    config.app.secret = Secret(kSecret);
    config.app.verify_token = Secret(kVerifyToken);
    config.app.graph_url = emulator_->graph_url();
    config.app.workplace_url = emulator_->web_url();
    config.app.redirect_url = "http://127.0.0.1:9/workplace/install";
    config.server.port = 0;
    config.server.threads = 1;
    config.store.sqlite_path = dir_.path() / "serve.db";
    config.keys.ring = Secret(core::KeyRing::generate("k1").serialize());
    config.log.level = LogLevel::kWarn;
    app_ = std::make_unique<App>(config);
    ASSERT_THAT(app_->start(), IsOk());
    public_url_ = "http://127.0.0.1:" + std::to_string(app_->port());
    file("verify-token", std::string(kVerifyToken) + "\n");
  }

  void TearDown() override {
    if (app_) app_->stop();
    app_.reset();
    if (emulator_) emulator_->stop();
  }

  // Runs `wik subscriptions ARGS` configured as the App is; `env` comes last, so it overrides.
  CommandResult subscriptions(const std::string& args, const std::string& env = {}) {
    const auto result = wik("subscriptions " + args, "",
                            "WIK_APP_ID=" + std::string(kAppId) + " WIK_APP_SECRET=" + kSecret +
                                " WIK_APP_VERIFY_TOKEN_FILE=verify-token WIK_APP_GRAPH_URL=" +
                                shell_quote(emulator_->graph_url()) + " WIK_SERVER_PUBLIC_URL=" +
                                shell_quote(public_url_) + " " + env);
    EXPECT_THAT(result.out + result.err, Not(HasSubstr(kVerifyToken)));
    EXPECT_THAT(result.out + result.err, Not(HasSubstr(kSecret)));
    EXPECT_THAT(result.out + result.err, Not(HasSubstr(kPreviousSecret)));
    return result;
  }

  void write_manifest(const std::string& webhooks) {
    file("app.toml", "id = \"" + std::string(kAppId) + "\"\nname = \"Helpdesk\"\n[webhooks]\n" + webhooks);
  }

  // Returns the emulator's subscriptions of the app, one "object callback field,field" each.
  std::vector<std::string> platform_subscriptions() const {
    std::vector<std::string> lines;
    for (const auto& subscription : emulator_->state().subscriptions(kAppId)) {
      lines.push_back(fmt::format("{} {} {}", subscription.object, subscription.callback_url,
                                  fmt::join(subscription.fields, ",")));
    }
    return lines;
  }

  std::string callback() const { return public_url_ + "/workplace/webhook"; }

  std::unique_ptr<emulator::Emulator> emulator_;
  std::unique_ptr<App> app_;
  std::string public_url_;
};

// Returns the line `wik subscriptions sync` prints for a change: "+ page                 a, b".
std::string change_line(char sign, const std::string& object, const std::string& what) {
  return fmt::format("{} {:<20} {}\n", sign, object, what);
}

TEST_F(SubscriptionsCliTest, ListIsEmptyThenSyncShowsTheChangesAndMakesThemOnlyWithYes) {
  const auto empty = subscriptions("list");
  ASSERT_EQ(empty.exit_status, 0) << empty.err;
  EXPECT_EQ(empty.out, "the app has no webhook subscriptions\n");

  write_manifest("page = [\"messages\", \"mention\"]\ngroup = [\"posts\"]\n");
  const auto planned = subscriptions("sync");
  EXPECT_EQ(planned.exit_status, 1);
  EXPECT_EQ(planned.out, "callback " + callback() + "\n" + change_line('+', "group", "posts") +
                             change_line('+', "page", "mention, messages"));
  EXPECT_THAT(planned.err,
              HasSubstr("2 change(s) to make the app's subscriptions match app.toml; run again with --yes"));
  EXPECT_THAT(platform_subscriptions(), ::testing::IsEmpty());

  const auto applied = subscriptions("sync --yes");
  ASSERT_EQ(applied.exit_status, 0) << applied.err;
  EXPECT_THAT(applied.out, HasSubstr(change_line('+', "page", "mention, messages")));
  EXPECT_THAT(applied.out, HasSubstr("applied 2 change(s); the app's subscriptions match app.toml\n"));
  EXPECT_THAT(platform_subscriptions(), ::testing::ElementsAre("group " + callback() + " posts",
                                                               "page " + callback() + " mention,messages"));

  const auto listed = subscriptions("list");
  ASSERT_EQ(listed.exit_status, 0) << listed.err;
  EXPECT_THAT(listed.out, HasSubstr(fmt::format("{:<20} {:<44} {}\n", "page", "mention, messages", callback())));

  const auto again = subscriptions("sync --yes");
  ASSERT_EQ(again.exit_status, 0) << again.err;
  EXPECT_EQ(again.out, "the app's subscriptions match app.toml (callback " + callback() + ")\n");
}

TEST_F(SubscriptionsCliTest, SyncUpdatesFieldsAndCallbacksAndRemovesWhatTheManifestLacks) {
  emulator_->state().subscribe(kAppId, {.object = "page", .callback_url = callback(), .verify_token = "old",
                                        .fields = {"message_reads", "messages"}});
  emulator_->state().subscribe(kAppId, {.object = "link", .callback_url = "http://127.0.0.1:9/old",
                                        .verify_token = "old", .fields = {"preview"}});
  emulator_->state().subscribe(kAppId, {.object = "user", .callback_url = callback(), .verify_token = "old",
                                        .fields = {"events"}});
  write_manifest("page = [\"messages\", \"mention\"]\nlink = [\"preview\"]\n");

  const auto applied = subscriptions("sync --yes");
  ASSERT_EQ(applied.exit_status, 0) << applied.err;
  EXPECT_EQ(applied.out, "callback " + callback() + "\n" +
                             change_line('~', "link", "callback http://127.0.0.1:9/old -> " + callback()) +
                             change_line('~', "page", "message_reads, messages -> mention, messages") +
                             change_line('-', "user", "events") +
                             "applied 3 change(s); the app's subscriptions match app.toml\n");
  EXPECT_THAT(platform_subscriptions(), ::testing::ElementsAre("link " + callback() + " preview",
                                                               "page " + callback() + " mention,messages"));
  EXPECT_EQ(subscriptions("sync").exit_status, 0);
}

TEST_F(SubscriptionsCliTest, PlatformRefusalsSayWhatToFix) {
  write_manifest("page = [\"messages\"]\n");
  const auto unserved = subscriptions("sync --yes --callback-url http://127.0.0.1:9/workplace/webhook");
  EXPECT_EQ(unserved.exit_status, 1);
  EXPECT_THAT(unserved.err, HasSubstr("wik: subscriptions sync: subscribing page: the platform could not verify the "
                                      "callback URL http://127.0.0.1:9/workplace/webhook (graph error 2200)"));

  file("wrong-token", "not-the-verify-token\n");
  const auto wrong_token = subscriptions("sync --yes", "WIK_APP_VERIFY_TOKEN_FILE=wrong-token");
  EXPECT_EQ(wrong_token.exit_status, 1);
  EXPECT_THAT(wrong_token.err, HasSubstr("could not verify the callback URL " + callback()));
  EXPECT_THAT(wrong_token.err, Not(HasSubstr("not-the-verify-token")));
  EXPECT_THAT(platform_subscriptions(), ::testing::IsEmpty());

  const auto wrong_secret = subscriptions("list", "WIK_APP_SECRET=not-the-app-secret");
  EXPECT_EQ(wrong_secret.exit_status, 1);
  EXPECT_THAT(wrong_secret.err, HasSubstr("wik: subscriptions list: reading the app's subscriptions: the platform "
                                          "refused the app access token (graph error 190)"));
  EXPECT_THAT(wrong_secret.err, Not(HasSubstr("not-the-app-secret")));
}

TEST_F(SubscriptionsCliTest, SyncNamesWhatItNeedsBeforeCallingAnything) {
  const auto no_manifest = subscriptions("sync");
  EXPECT_EQ(no_manifest.exit_status, 2);
  EXPECT_THAT(no_manifest.err, HasSubstr("app.toml"));

  file("other.toml", "id = \"999\"\nname = \"Other\"\n[webhooks]\npage = [\"messages\"]\n");
  const auto other_app = subscriptions("sync --manifest other.toml");
  EXPECT_EQ(other_app.exit_status, 2);
  EXPECT_THAT(other_app.err, HasSubstr("other.toml describes app 999, but app.id is 1111222233334444"));

  write_manifest("page = [\"messages\"]\n");
  const auto no_token = subscriptions("sync --yes", "WIK_APP_VERIFY_TOKEN_FILE=");
  EXPECT_EQ(no_token.exit_status, 2);
  EXPECT_THAT(no_token.err, HasSubstr("app.verify_token is not set"));
  const auto no_public_url = subscriptions("sync", "WIK_SERVER_PUBLIC_URL=");
  EXPECT_EQ(no_public_url.exit_status, 2);
  EXPECT_THAT(no_public_url.err, HasSubstr("server.public_url is not set"));
  const auto no_secret = subscriptions("list", "WIK_APP_SECRET=");
  EXPECT_EQ(no_secret.exit_status, 2);
  EXPECT_THAT(no_secret.err, HasSubstr("app.secret is not set"));
  EXPECT_THAT(platform_subscriptions(), ::testing::IsEmpty());
}

TEST_F(SubscriptionsCliTest, DuringASecretRotationAppCallsUseTheNewSecretOnly) {
  const auto rotating = subscriptions("list", rotation_env(kPreviousSecret));
  EXPECT_EQ(rotating.exit_status, 0) << rotating.err;
  const auto swapped =
      subscriptions("list", "WIK_APP_SECRET=" + std::string(kPreviousSecret) + " " + rotation_env(kSecret));
  EXPECT_EQ(swapped.exit_status, 1);
  EXPECT_THAT(swapped.err, HasSubstr("graph error 190"));
}

}  // namespace
}  // namespace wik
