#include "config/config.h"

#include <gmock/gmock.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "config/secret_file.h"
#include "support/result_matchers.h"
#include "support/temp_dir.h"

namespace wik::config {
namespace {

namespace fs = std::filesystem;

using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;
using wik::testing::HasError;
using wik::testing::IsOk;
using wik::testing::TempDir;

// Every secret in these tests; no error reason may ever contain it.
constexpr std::string_view kSecret = "s3cr3t-VALUE-0123456789abcdef";

using Variables = std::map<std::string, std::string, std::less<>>;

class ConfigTest : public ::testing::Test {
 protected:
  fs::path write_config(const std::string& toml) const { return dir_.write_file("wik.toml", toml); }

  Result<Config> load(const std::string& toml, Variables variables = {}) const {
    return load_config(write_config(toml), MapEnvironment(std::move(variables)));
  }

  TempDir dir_;
};

TEST_F(ConfigTest, DefaultsWithoutAFile) {
  const auto config = load_config(std::nullopt, MapEnvironment());
  ASSERT_THAT(config, IsOk());
  EXPECT_EQ(config->source, "defaults");
  EXPECT_EQ(config->app.id, "");
  EXPECT_TRUE(config->app.secret.empty());
  EXPECT_EQ(config->app.graph_url, "https://graph.workplace.com");
  EXPECT_EQ(config->app.graph_version, "v3.2");
  EXPECT_EQ(config->app.workplace_url, "https://work.workplace.com");
  EXPECT_EQ(config->app.redirect_url, "");
  EXPECT_EQ(config->server.address, "127.0.0.1");
  EXPECT_EQ(config->server.port, 8080);
  EXPECT_EQ(config->server.threads, 0u);
  EXPECT_EQ(config->server.public_url, "");
  EXPECT_EQ(config->server.trusted_proxy_hops, 0u);
  EXPECT_EQ(config->app.reverify_interval, std::chrono::hours(6));
  EXPECT_EQ(config->store.engine, StoreEngine::kSqlite);
  EXPECT_EQ(config->store.sqlite_path, "wik.db");
  EXPECT_TRUE(config->store.postgres_url.empty());
  EXPECT_EQ(config->webhooks.lease, std::chrono::seconds(60));
  EXPECT_EQ(config->webhooks.dedupe_retention, std::chrono::hours(72));
  EXPECT_EQ(config->bot.community_budget, 300u);
  EXPECT_EQ(config->bot.budget_window, std::chrono::seconds(60));
  EXPECT_EQ(config->bot.thread_spacing, std::chrono::milliseconds(500));
  EXPECT_EQ(config->bot.thread_burst, 3u);
  EXPECT_FALSE(config->keys.ring.has_value());
  EXPECT_EQ(config->log.level, LogLevel::kInfo);
  EXPECT_EQ(config->log.format, LogFormat::kText);
}

TEST_F(ConfigTest, AnEmptyFileGivesTheDefaults) {
  const auto config = load("# nothing yet\n");
  ASSERT_THAT(config, IsOk());
  EXPECT_EQ(config->source, (dir_.path() / "wik.toml").string());
  EXPECT_EQ(config->server.port, 8080);
}

TEST_F(ConfigTest, ReadsEverySettingFromTheFile) {
  const auto app_secret = dir_.write_file("app.secret", std::string(kSecret) + "\n");
  const auto postgres_url = dir_.write_file("postgres.url", "postgresql://wik:pw@db/wik\r\n");
  const auto ring = dir_.write_file("keys.ring", "key k1 AAAA\nactive k1\n");
  const auto config = load(R"(
[app]
id = "1234567890123456"
secret_file = ")" + app_secret.string() + R"("
graph_url = "http://127.0.0.1:9090/"
graph_version = "v19.0"
workplace_url = "http://127.0.0.1:9090/"
redirect_url = "https://wik.example.com/workplace/install"
reverify_interval_hours = 24

[server]
address = "0.0.0.0"
port = 0
threads = 4
public_url = "https://wik.example.com"
trusted_proxy_hops = 1

[store]
engine = "postgres"
sqlite_path = "/var/lib/wik/wik.db"
postgres_url_file = ")" + postgres_url.string() + R"("

[webhooks]
ingest_store_threads = 32
dispatch_store_threads = 4
dispatch_batch = 1000
dispatch_per_community = 100
lease_seconds = 5
dedupe_retention_hours = 168

[bot]
community_budget = 1000
budget_window_seconds = 3600
thread_spacing_ms = 0
thread_burst = 5

[keys]
ring_file = ")" + ring.string() + R"("

[log]
level = "debug"
format = "json"
)");
  ASSERT_THAT(config, IsOk());
  EXPECT_EQ(config->app.id, "1234567890123456");
  EXPECT_EQ(config->app.secret.expose(), kSecret);
  EXPECT_EQ(config->app.graph_url, "http://127.0.0.1:9090");
  EXPECT_EQ(config->app.graph_version, "v19.0");
  EXPECT_EQ(config->app.workplace_url, "http://127.0.0.1:9090");
  EXPECT_EQ(config->app.redirect_url, "https://wik.example.com/workplace/install");
  EXPECT_EQ(config->server.address, "0.0.0.0");
  EXPECT_EQ(config->server.port, 0);
  EXPECT_EQ(config->server.threads, 4u);
  EXPECT_EQ(config->server.public_url, "https://wik.example.com");
  EXPECT_EQ(config->server.trusted_proxy_hops, 1u);
  EXPECT_EQ(config->app.reverify_interval, std::chrono::hours(24));
  EXPECT_EQ(config->store.engine, StoreEngine::kPostgres);
  EXPECT_EQ(config->store.sqlite_path, "/var/lib/wik/wik.db");
  EXPECT_EQ(config->store.postgres_url.expose(), "postgresql://wik:pw@db/wik");
  EXPECT_EQ(config->webhooks.ingest_store_threads, 32u);
  EXPECT_EQ(config->webhooks.dispatch_store_threads, 4u);
  EXPECT_EQ(config->webhooks.dispatch_batch, 1000u);
  EXPECT_EQ(config->webhooks.dispatch_per_community, 100u);
  EXPECT_EQ(config->webhooks.lease, std::chrono::seconds(5));
  EXPECT_EQ(config->webhooks.dedupe_retention, std::chrono::hours(168));
  EXPECT_EQ(config->bot.community_budget, 1000u);
  EXPECT_EQ(config->bot.budget_window, std::chrono::hours(1));
  EXPECT_EQ(config->bot.thread_spacing, std::chrono::milliseconds(0)) << "0 turns the spacing off";
  EXPECT_EQ(config->bot.thread_burst, 5u);
  ASSERT_TRUE(config->keys.ring.has_value());
  EXPECT_EQ(config->keys.ring->expose(), "key k1 AAAA\nactive k1");
  EXPECT_EQ(config->log.level, LogLevel::kDebug);
  EXPECT_EQ(config->log.format, LogFormat::kJson);
}

TEST_F(ConfigTest, TheEnvironmentOverridesTheFile) {
  const auto config = load("[server]\nport = 9000\naddress = \"10.0.0.1\"\n[log]\nlevel = \"warn\"\n",
                           {{"WIK_SERVER_PORT", "9100"}, {"WIK_LOG_LEVEL", "ERROR"}, {"WIK_LOG_FORMAT", "Json"},
                            {"WIK_SERVER_ADDRESS", ""}, {"WIK_APP_ID", "42"}});
  ASSERT_THAT(config, IsOk());
  EXPECT_EQ(config->server.port, 9100);
  EXPECT_EQ(config->log.level, LogLevel::kError);
  EXPECT_EQ(config->log.format, LogFormat::kJson);
  EXPECT_EQ(config->server.address, "10.0.0.1") << "an empty variable counts as unset";
  EXPECT_EQ(config->app.id, "42");
}

TEST_F(ConfigTest, SecretsComeFromTheEnvironment) {
  const auto config = load_config(std::nullopt, MapEnvironment(Variables{{"WIK_APP_SECRET", std::string(kSecret)},
                                                                {"WIK_APP_VERIFY_TOKEN", "verify-me"},
                                                                {"WIK_STORE_ENGINE", "postgres"},
                                                                {"WIK_STORE_POSTGRES_URL", "host=db password=pw"},
                                                                {"WIK_KEYS_RING", "key k1 AAAA;active k1"}}));
  ASSERT_THAT(config, IsOk());
  EXPECT_EQ(config->app.secret.expose(), kSecret);
  EXPECT_EQ(config->app.verify_token.expose(), "verify-me");
  EXPECT_EQ(config->store.postgres_url.expose(), "host=db password=pw");
  ASSERT_TRUE(config->keys.ring.has_value());
  EXPECT_EQ(config->keys.ring->expose(), "key k1 AAAA;active k1");
}

TEST_F(ConfigTest, SecretVariablesBeatTheFileSettingAndFileVariablesWork) {
  const auto in_file = dir_.write_file("from-file", "file-secret-value");
  const auto in_env_file = dir_.write_file("from-env-file", "env-file-secret-value\n");
  const auto config = load("[app]\nsecret_file = \"" + in_file.string() + "\"\n[keys]\nring_file = \"/missing\"\n",
                           {{"WIK_APP_SECRET", std::string(kSecret)}, {"WIK_KEYS_RING_FILE", in_env_file.string()}});
  ASSERT_THAT(config, IsOk());
  EXPECT_EQ(config->app.secret.expose(), kSecret);
  ASSERT_TRUE(config->keys.ring.has_value());
  EXPECT_EQ(config->keys.ring->expose(), "env-file-secret-value");
}

TEST_F(ConfigTest, SecretFilesLoseExactlyOneTrailingNewline) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"value", "value"}, {"value\n", "value"}, {"value\r\n", "value"}, {"value\n\n", "value\n"},
      {"two\nlines\n", "two\nlines"}, {std::string(kMaxSecretFileSize, 'x'), std::string(kMaxSecretFileSize, 'x')}};
  for (const auto& [contents, expected] : cases) {
    const auto secret = read_secret_file(dir_.write_file("secret", contents));
    ASSERT_THAT(secret, IsOk());
    EXPECT_EQ(secret->expose(), expected);
  }
}

TEST_F(ConfigTest, RequireAppCredentialsNamesWhatIsMissing) {
  Config config;
  EXPECT_THAT(require_app_credentials(config),
              HasError(ErrorCode::kConfig, AllOf(HasSubstr("app.id"), HasSubstr("WIK_APP_ID"), HasSubstr("app.secret"),
                                                 HasSubstr("WIK_APP_SECRET"))));
  config.app.id = "1234";
  EXPECT_THAT(require_app_credentials(config),
              HasError(ErrorCode::kConfig, AllOf(HasSubstr("app.secret"), Not(HasSubstr("app.id")))));
  config.app.secret = Secret(std::string(kSecret));
  EXPECT_THAT(require_app_credentials(config), IsOk());
  config.app.id.clear();
  EXPECT_THAT(require_app_credentials(config),
              HasError(ErrorCode::kConfig, AllOf(HasSubstr("app.id"), Not(HasSubstr("app.secret")))));
}

// A secret rotation in progress: the previous secret, and the end of its window.
constexpr std::string_view kPreviousSecret = "0LD-s3cr3t-VALUE-fedcba9876543210";
const TimePoint kNow = std::chrono::sys_days(std::chrono::year(2026) / 1 / 31) + std::chrono::hours(9);

TEST_F(ConfigTest, ReadsASecretRotationFromFilesOrTheEnvironment) {
  const auto previous = dir_.write_file("previous.secret", std::string(kPreviousSecret) + "\n");
  const Variables secret{{"WIK_APP_SECRET", std::string(kSecret)}};
  const auto from_file = load_config(
      write_config("[app]\nprevious_secret_file = \"" + previous.string() +
                   "\"\nprevious_secret_until = \"2026-02-03T00:00:00Z\"\n"),
      MapEnvironment(secret), kNow);
  ASSERT_THAT(from_file, IsOk());
  EXPECT_EQ(from_file->app.previous_secret.expose(), kPreviousSecret);
  EXPECT_EQ(from_file->app.previous_secret_until,
            std::chrono::sys_days(std::chrono::year(2026) / 2 / 3) + std::chrono::seconds(0));

  // A TOML date-time works as well as a string; 't' and 'z' in either case.
  const auto toml_time = load_config(
      write_config("[app]\nprevious_secret_file = \"" + previous.string() +
                   "\"\nprevious_secret_until = 2026-02-01T12:30:00Z\n"),
      MapEnvironment(secret), kNow);
  ASSERT_THAT(toml_time, IsOk());
  EXPECT_EQ(toml_time->app.previous_secret_until,
            std::chrono::sys_days(std::chrono::year(2026) / 2 / 1) + std::chrono::hours(12) + std::chrono::minutes(30));

  Variables environment = secret;
  environment["WIK_APP_PREVIOUS_SECRET"] = std::string(kPreviousSecret);
  environment["WIK_APP_PREVIOUS_SECRET_UNTIL"] = "2026-02-07t09:00:00z";  // exactly the longest window
  const auto from_environment = load_config(std::nullopt, MapEnvironment(environment), kNow);
  ASSERT_THAT(from_environment, IsOk());
  EXPECT_EQ(from_environment->app.previous_secret.expose(), kPreviousSecret);
  EXPECT_EQ(from_environment->app.previous_secret_until, kNow + kMaxSecretRotationWindow);
}

TEST_F(ConfigTest, TheRotationWindowIsBoundedAndCheckedWhenLoading) {
  Variables environment{{"WIK_APP_SECRET", std::string(kSecret)},
                        {"WIK_APP_PREVIOUS_SECRET", std::string(kPreviousSecret)},
                        {"WIK_APP_PREVIOUS_SECRET_UNTIL", "2026-02-07T09:00:01Z"}};
  EXPECT_THAT(load_config(std::nullopt, MapEnvironment(environment), kNow),
              HasError(ErrorCode::kConfig,
                       AllOf(HasSubstr("app.previous_secret_until: expected a time at most 7 days ahead, got "
                                       "\"2026-02-07T09:00:01Z\" (from WIK_APP_PREVIOUS_SECRET_UNTIL)"),
                             Not(HasSubstr(std::string(kPreviousSecret))))));
  // A window that has closed loads: the previous secret is then simply no longer accepted.
  environment["WIK_APP_PREVIOUS_SECRET_UNTIL"] = "2026-01-01T00:00:00Z";
  EXPECT_THAT(load_config(std::nullopt, MapEnvironment(environment), kNow), IsOk());
}

TEST_F(ConfigTest, IncomingSecretsAreTheSecretThenThePreviousOneUntilItsWindowCloses) {
  Config config;
  EXPECT_TRUE(incoming_app_secrets(config, kNow).empty());
  config.app.secret = Secret(std::string(kSecret));
  auto secrets = incoming_app_secrets(config, kNow);
  ASSERT_EQ(secrets.size(), 1u);
  EXPECT_EQ(secrets[0].expose(), kSecret);

  config.app.previous_secret = Secret(std::string(kPreviousSecret));
  config.app.previous_secret_until = kNow + std::chrono::hours(1);
  secrets = incoming_app_secrets(config, kNow);
  ASSERT_EQ(secrets.size(), 2u);
  EXPECT_EQ(secrets[0].expose(), kSecret);
  EXPECT_EQ(secrets[1].expose(), kPreviousSecret);
  EXPECT_EQ(incoming_app_secrets(config, kNow + std::chrono::minutes(59)).size(), 2u);
  EXPECT_EQ(incoming_app_secrets(config, kNow + std::chrono::hours(1)).size(), 1u) << "the window's end is excluded";
  EXPECT_TRUE(config_warnings(config, kNow).empty());
}

TEST_F(ConfigTest, APreviousSecretPastItsWindowIsAWarningNamingWhatToRemove) {
  const auto config =
      load_config(std::nullopt,
                  MapEnvironment(Variables{{"WIK_APP_SECRET", std::string(kSecret)},
                                           {"WIK_APP_PREVIOUS_SECRET", std::string(kPreviousSecret)},
                                           {"WIK_APP_PREVIOUS_SECRET_UNTIL", "2026-01-30T00:00:00Z"}}),
                  kNow);
  ASSERT_THAT(config, IsOk());
  EXPECT_EQ(incoming_app_secrets(*config, kNow).size(), 1u);
  const auto warnings = config_warnings(*config, kNow);
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_THAT(warnings[0], AllOf(HasSubstr("ended at 2026-01-30T00:00:00Z"), HasSubstr("remove app.previous_secret"),
                                 Not(HasSubstr(std::string(kPreviousSecret))), Not(HasSubstr(std::string(kSecret)))));
}

// Runs a test body in `dir` and returns to the previous working directory afterwards.
class WorkingDirectory {
 public:
  explicit WorkingDirectory(const fs::path& dir) : previous_(fs::current_path()) { fs::current_path(dir); }
  ~WorkingDirectory() { fs::current_path(previous_); }
  WorkingDirectory(const WorkingDirectory&) = delete;
  WorkingDirectory& operator=(const WorkingDirectory&) = delete;

 private:
  fs::path previous_;
};

TEST_F(ConfigTest, DefaultConfigPathPrefersWikConfigThenTheWorkingDirectory) {
  const WorkingDirectory in_test_dir(dir_.path());
  EXPECT_EQ(default_config_path(MapEnvironment()), std::nullopt);
  EXPECT_EQ(default_config_path(MapEnvironment(Variables{{"WIK_CONFIG", "/etc/wik/wik.toml"}})), fs::path("/etc/wik/wik.toml"));
  write_config("");
  EXPECT_EQ(default_config_path(MapEnvironment()), fs::path("wik.toml"));
  EXPECT_EQ(default_config_path(MapEnvironment(Variables{{"WIK_CONFIG", "/etc/wik/wik.toml"}})), fs::path("/etc/wik/wik.toml"));
  EXPECT_EQ(default_config_path(MapEnvironment(Variables{{"WIK_CONFIG", ""}})), fs::path("wik.toml"));
}

TEST_F(ConfigTest, AMissingFileIsAnError) {
  EXPECT_THAT(load_config(dir_.path() / "absent.toml", MapEnvironment()),
              HasError(ErrorCode::kConfig, AllOf(HasSubstr("absent.toml"), HasSubstr("No such file"))));
}

TEST_F(ConfigTest, AnOversizedFileIsAnError) {
  const auto file = dir_.write_file("big.toml", "# " + std::string(2 * 1024 * 1024, 'x') + "\n");
  EXPECT_THAT(load_config(file, MapEnvironment()), HasError(ErrorCode::kConfig, HasSubstr("larger than")));
}

// One rejected configuration: wik.toml's text, the environment, files to create in the test's
// directory, and what the reason must contain. "@DIR@" in any of them stands for that directory.
struct Rejected {
  std::string name;
  std::string toml;
  Variables variables;
  std::map<std::string, std::string> files;
  std::vector<std::string> reason_parts;  // the first is checked through HasError
};

void PrintTo(const Rejected& rejected, std::ostream* out) { *out << rejected.name; }

std::string expand(std::string text, const fs::path& dir) {
  for (std::size_t at = text.find("@DIR@"); at != std::string::npos; at = text.find("@DIR@", at)) {
    text.replace(at, 5, dir.string());
  }
  return text;
}

class RejectedConfigTest : public ::testing::TestWithParam<Rejected> {
 protected:
  TempDir dir_;
};

TEST_P(RejectedConfigTest, FailsNamingTheSettingAndItsSourceWithoutSecrets) {
  const Rejected& rejected = GetParam();
  for (const auto& [name, contents] : rejected.files) dir_.write_file(name, contents);
  Variables variables;
  for (const auto& [name, value] : rejected.variables) variables[name] = expand(value, dir_.path());
  const auto file = dir_.write_file("wik.toml", expand(rejected.toml, dir_.path()));

  const auto config = load_config(file, MapEnvironment(std::move(variables)));
  ASSERT_THAT(config, HasError(ErrorCode::kConfig, HasSubstr(expand(rejected.reason_parts.front(), dir_.path()))));
  for (const std::string& part : rejected.reason_parts) {
    EXPECT_THAT(config.error().reason(), HasSubstr(expand(part, dir_.path())));
  }
  EXPECT_THAT(config.error().reason(), Not(HasSubstr(std::string(kSecret))));
  EXPECT_LT(config.error().reason().size(), 400u) << config.error().reason();
}

const std::string kSecretText(kSecret);

INSTANTIATE_TEST_SUITE_P(
    Settings, RejectedConfigTest,
    ::testing::Values(
        Rejected{"PortNotANumber", "", {{"WIK_SERVER_PORT", "abc"}}, {},
                 {R"(server.port: expected an integer 0-65535, got "abc" (from WIK_SERVER_PORT))"}},
        Rejected{"PortTooLarge", "[server]\nport = 70000\n", {}, {},
                 {R"(server.port: expected an integer 0-65535, got "70000" (from @DIR@/wik.toml:2))"}},
        Rejected{"PortNegative", "[server]\nport = -1\n", {}, {}, {R"(server.port: expected an integer 0-65535, got "-1")"}},
        Rejected{"PortHugeInTheEnvironment", "", {{"WIK_SERVER_PORT", "99999999999999999999999"}}, {},
                 {R"(server.port: expected an integer 0-65535, got "99999999999999999999999")"}},
        Rejected{"PortHugeInTheFile", "[server]\nport = 99999999999999999999999\n", {}, {},
                 {"@DIR@/wik.toml:2:", "invalid TOML", "not representable"}},
        Rejected{"PortWithSpaces", "", {{"WIK_SERVER_PORT", " 8080"}}, {}, {R"(server.port: expected an integer 0-65535, got " 8080")"}},
        Rejected{"PortAsAString", "[server]\nport = \"8080\"\n", {}, {},
                 {"server.port: expected an integer 0-65535, got a string (from @DIR@/wik.toml:2)"}},
        Rejected{"PortAsAFloat", "[server]\nport = 80.5\n", {}, {}, {"server.port: expected an integer 0-65535, got a floating-point number"}},
        Rejected{"TooManyThreads", "[server]\nthreads = 5000\n", {}, {}, {"server.threads: expected an integer 0-1024"}},
        Rejected{"TooManyProxyHops", "[server]\ntrusted_proxy_hops = 9\n", {}, {}, {"server.trusted_proxy_hops: expected an integer 0-8"}},
        Rejected{"ReverifyIntervalTooLong", "", {{"WIK_APP_REVERIFY_INTERVAL_HOURS", "1000"}}, {},
                 {R"(app.reverify_interval_hours: expected an integer 0-720 (0: no re-verify sweep), got "1000")"}},
        Rejected{"NoIngestStoreThreads", "[webhooks]\ningest_store_threads = 0\n", {}, {},
                 {"webhooks.ingest_store_threads: expected an integer 1-256, got \"0\""}},
        Rejected{"DispatchBatchTooLarge", "", {{"WIK_WEBHOOKS_DISPATCH_BATCH", "20000"}}, {},
                 {R"(webhooks.dispatch_batch: expected an integer 1-10000, got "20000" (from WIK_WEBHOOKS_DISPATCH_BATCH))"}},
        Rejected{"NoLease", "[webhooks]\nlease_seconds = 0\n", {}, {},
                 {R"(webhooks.lease_seconds: expected an integer 1-3600, got "0" (from @DIR@/wik.toml:2))"}},
        Rejected{"LeaseLongerThanAnHour", "", {{"WIK_WEBHOOKS_LEASE_SECONDS", "3601"}}, {},
                 {R"(webhooks.lease_seconds: expected an integer 1-3600, got "3601" (from WIK_WEBHOOKS_LEASE_SECONDS))"}},
        Rejected{"LeaseAsADuration", "[webhooks]\nlease_seconds = \"60s\"\n", {}, {},
                 {"webhooks.lease_seconds: expected an integer 1-3600, got a string"}},
        Rejected{"DedupeRetentionBelowTwiceTheRetryHorizon", "[webhooks]\ndedupe_retention_hours = 36\n", {}, {},
                 {R"(webhooks.dedupe_retention_hours: expected an integer 72-8760, got "36" (from @DIR@/wik.toml:2))"}},
        Rejected{"NoCommunityBudget", "[bot]\ncommunity_budget = 0\n", {}, {},
                 {R"(bot.community_budget: expected an integer 1-100000, got "0" (from @DIR@/wik.toml:2))"}},
        Rejected{"CommunityBudgetTooLarge", "", {{"WIK_BOT_COMMUNITY_BUDGET", "100001"}}, {},
                 {R"(bot.community_budget: expected an integer 1-100000, got "100001" (from WIK_BOT_COMMUNITY_BUDGET))"}},
        Rejected{"NoBudgetWindow", "", {{"WIK_BOT_BUDGET_WINDOW_SECONDS", "0"}}, {},
                 {R"(bot.budget_window_seconds: expected an integer 1-86400, got "0" (from WIK_BOT_BUDGET_WINDOW_SECONDS))"}},
        Rejected{"BudgetWindowLongerThanADay", "[bot]\nbudget_window_seconds = 86401\n", {}, {},
                 {R"(bot.budget_window_seconds: expected an integer 1-86400, got "86401")"}},
        Rejected{"NegativeThreadSpacing", "[bot]\nthread_spacing_ms = -5\n", {}, {},
                 {R"(bot.thread_spacing_ms: expected an integer 0-60000 (0: no spacing), got "-5" (from @DIR@/wik.toml:2))"}},
        Rejected{"ThreadSpacingAsAString", "[bot]\nthread_spacing_ms = \"1s\"\n", {}, {},
                 {"bot.thread_spacing_ms: expected an integer 0-60000 (0: no spacing), got a string"}},
        Rejected{"ThreadSpacingTooLong", "", {{"WIK_BOT_THREAD_SPACING_MS", "60001"}}, {},
                 {R"(bot.thread_spacing_ms: expected an integer 0-60000 (0: no spacing), got "60001")"}},
        Rejected{"NoThreadBurst", "[bot]\nthread_burst = 0\n", {}, {},
                 {R"(bot.thread_burst: expected an integer 1-100, got "0" (from @DIR@/wik.toml:2))"}},
        Rejected{"MisspelledBotSetting", "[bot]\ncommunity_budgte = 10\n", {}, {},
                 {"unknown setting bot.community_budgte (did you mean bot.community_budget?)"}},
        Rejected{"AppIdNotDigits", "", {{"WIK_APP_ID", "12ab"}}, {}, {R"(app.id: expected a string of digits, got "12ab" (from WIK_APP_ID))"}},
        Rejected{"AppIdAsAnInteger", "[app]\nid = 1234\n", {}, {}, {"app.id: expected a string of digits, got an integer"}},
        Rejected{"GraphUrlNotHttp", "", {{"WIK_APP_GRAPH_URL", "ftp://graph.workplace.com"}}, {},
                 {R"(app.graph_url: expected an http:// or https:// URL, got "ftp://graph.workplace.com")"}},
        Rejected{"GraphUrlWithoutHost", "[app]\ngraph_url = \"https:///\"\n", {}, {}, {"app.graph_url: expected an http:// or https:// URL"}},
        Rejected{"GraphVersion", "[app]\ngraph_version = \"3.2\"\n", {}, {}, {R"(app.graph_version: expected a Graph API version such as v3.2, got "3.2")"}},
        Rejected{"WorkplaceUrl", "", {{"WIK_APP_WORKPLACE_URL", "work.workplace.com"}}, {},
                 {R"(app.workplace_url: expected an http:// or https:// URL, got "work.workplace.com" (from WIK_APP_WORKPLACE_URL))"}},
        Rejected{"RedirectUrl", "[app]\nredirect_url = \"/workplace/install\"\n", {}, {},
                 {"app.redirect_url: expected an http:// or https:// URL, or \"\""}},
        Rejected{"PublicUrl", "", {{"WIK_SERVER_PUBLIC_URL", "wik.example.com"}}, {}, {"server.public_url: expected an http:// or https:// URL"}},
        Rejected{"EmptyAddress", "[server]\naddress = \"\"\n", {}, {}, {R"(server.address: expected a host name or IP address, got "")"}},
        Rejected{"UnknownEngine", "[store]\nengine = \"mysql\"\n", {}, {}, {R"(store.engine: expected sqlite or postgres, got "mysql")"}},
        Rejected{"EmptySqlitePath", "[store]\nsqlite_path = \"\"\n", {}, {}, {"store.sqlite_path: expected a file path"}},
        Rejected{"UnknownLogLevel", "", {{"WIK_LOG_LEVEL", "verbose"}}, {},
                 {R"(log.level: expected one of trace, debug, info, warn, error, off, got "verbose" (from WIK_LOG_LEVEL))"}},
        Rejected{"LogLevelAsABoolean", "[log]\nlevel = true\n", {}, {}, {"log.level: expected one of trace, debug, info, warn, error, off, got a boolean"}},
        Rejected{"UnknownLogFormat", "[log]\nformat = \"xml\"\n", {}, {}, {R"(log.format: expected text or json, got "xml")"}},
        Rejected{"ControlCharactersAreEscaped", "", {{"WIK_LOG_FORMAT", "\x1b[31mred\n"}}, {}, {R"(log.format: expected text or json, got "\x1b[31mred\x0a")"}},
        Rejected{"LongValuesAreCut", "", {{"WIK_APP_GRAPH_VERSION", std::string(100000, '9')}}, {},
                 {"app.graph_version: expected a Graph API version such as v3.2, got \"" + std::string(40, '9') + "...\""}},
        Rejected{"MisspelledSetting", "[server]\nprot = 8080\n", {}, {},
                 {"unknown setting server.prot (did you mean server.port?) (from @DIR@/wik.toml:2)"}},
        Rejected{"UnknownSetting", "[server]\ncolour = \"blue\"\n", {}, {}, {"unknown setting server.colour (from"}},
        Rejected{"MisspelledSection", "[sever]\nport = 8080\n", {}, {}, {"unknown section sever (did you mean server?)"}},
        Rejected{"SettingOutsideASection", "port = 8080\n", {}, {},
                 {"unknown setting port (did you mean server.port, under [server]?) (from @DIR@/wik.toml:1)"}},
        Rejected{"UnknownSettingOutsideASection", "colour = 1\n", {}, {},
                 {"unknown setting colour (every setting belongs to a section such as [server])"}},
        Rejected{"SectionNotATable", "server = 3\n", {}, {}, {"server: expected a table ([server]), got an integer"}},
        Rejected{"NestedTable", "[server.tls]\ncert = \"x\"\n", {}, {}, {"unknown setting server.tls"}},
        Rejected{"SyntaxError", "[server]\nport = 8080\nthreads =\n", {}, {}, {"@DIR@/wik.toml:3:", "invalid TOML"}},
        Rejected{"DuplicateKey", "[server]\nport = 1\nport = 2\n", {}, {}, {"@DIR@/wik.toml:3:", "invalid TOML"}},
        Rejected{"BinaryGarbage", std::string("\x7f" "ELF\x02\x01\x01\0\0\xff\xfe\x9c garbage", 20), {}, {}, {"@DIR@/wik.toml:1:", "invalid TOML"}},
        Rejected{"InlineAppSecret", "[app]\nsecret = \"" + kSecretText + "\"\n", {}, {},
                 {"app.secret: secrets are not accepted in the configuration file", "app.secret_file", "WIK_APP_SECRET",
                  "(from @DIR@/wik.toml:2)"}},
        Rejected{"InlineVerifyToken", "[app]\nverify_token = \"" + kSecretText + "\"\n", {}, {},
                 {"app.verify_token: secrets are not accepted in the configuration file", "app.verify_token_file",
                  "WIK_APP_VERIFY_TOKEN"}},
        Rejected{"InlinePostgresUrl", "[store]\npostgres_url = \"postgresql://wik:" + kSecretText + "@db/wik\"\n", {}, {},
                 {"store.postgres_url: secrets are not accepted", "store.postgres_url_file", "WIK_STORE_POSTGRES_URL"}},
        Rejected{"InlineKeyRing", "[keys]\nring = \"key k1 " + kSecretText + "\"\n", {}, {},
                 {"keys.ring: secrets are not accepted", "keys.ring_file", "WIK_KEYS_RING"}},
        Rejected{"UnquotedInlineSecret", "[app]\nsecret = " + kSecretText + "\n", {}, {}, {"@DIR@/wik.toml:2:", "invalid TOML"}},
        Rejected{"MissingSecretFile", "", {{"WIK_APP_SECRET_FILE", "@DIR@/absent"}}, {},
                 {"app.secret_file: cannot read @DIR@/absent: No such file or directory (from WIK_APP_SECRET_FILE)"}},
        Rejected{"EmptySecretFile", "[app]\nsecret_file = \"@DIR@/app.secret\"\n", {}, {{"app.secret", ""}},
                 {"app.secret_file: @DIR@/app.secret is empty (from @DIR@/wik.toml:2)"}},
        Rejected{"SecretFileWithOnlyANewline", "", {{"WIK_STORE_POSTGRES_URL_FILE", "@DIR@/pg"}}, {{"pg", "\n"}},
                 {"store.postgres_url_file: @DIR@/pg is empty (from WIK_STORE_POSTGRES_URL_FILE)"}},
        Rejected{"OversizedSecretFile", "[keys]\nring_file = \"@DIR@/ring\"\n", {},
                 {{"ring", kSecretText + std::string(kMaxSecretFileSize, 'x')}},
                 {"keys.ring_file: @DIR@/ring is larger than 64 KiB (from @DIR@/wik.toml:2)"}},
        Rejected{"SecretFileIsADirectory", "", {{"WIK_KEYS_RING_FILE", "@DIR@"}}, {}, {"keys.ring_file: cannot read", "Is a directory"}},
        Rejected{"EmptySecretFilePath", "[app]\nsecret_file = \"\"\n", {}, {}, {R"(app.secret_file: expected a file path, got "")"}},
        Rejected{"SecretFilePathNotAString", "[app]\nsecret_file = 5\n", {}, {}, {"app.secret_file: expected a file path, got an integer"}},
        Rejected{"SecretInBothVariables", "",
                 {{"WIK_APP_SECRET", kSecretText}, {"WIK_APP_SECRET_FILE", "@DIR@/app.secret"}}, {{"app.secret", kSecretText}},
                 {"app.secret: set WIK_APP_SECRET or WIK_APP_SECRET_FILE, not both"}},
        Rejected{"PreviousSecretWithoutItsEnd", "", {{"WIK_APP_SECRET", "new"}, {"WIK_APP_PREVIOUS_SECRET", kSecretText}}, {},
                 {"app.previous_secret_until: required when app.previous_secret is set", "at most 7 days ahead"}},
        Rejected{"RotationEndWithoutAPreviousSecret", "[app]\nprevious_secret_until = \"2026-02-01T00:00:00Z\"\n", {}, {},
                 {"app.previous_secret_until: set without app.previous_secret", "(from @DIR@/wik.toml:2)"}},
        Rejected{"RotationEndNotUtc", "", {{"WIK_APP_PREVIOUS_SECRET_UNTIL", "2026-02-01T00:00:00+01:00"}}, {},
                 {R"(app.previous_secret_until: expected an RFC 3339 UTC time such as 2026-02-01T00:00:00Z, got "2026-02-01T00:00:00+01:00")"}},
        Rejected{"RotationEndNotADate", "", {{"WIK_APP_PREVIOUS_SECRET_UNTIL", "2026-02-30T00:00:00Z"}}, {},
                 {R"(app.previous_secret_until: expected an RFC 3339 UTC time)", "2026-02-30"}},
        Rejected{"RotationEndNotATime", "[app]\nprevious_secret_until = \"2026-02-01 25:00\"\n", {}, {},
                 {R"(app.previous_secret_until: expected an RFC 3339 UTC time)", "(from @DIR@/wik.toml:2)"}},
        Rejected{"RotationEndAsALocalTomlTime", "[app]\nprevious_secret_until = 2026-02-01T00:00:00\n", {}, {},
                 {R"(app.previous_secret_until: expected an RFC 3339 UTC time)", R"(got "2026-02-01T00:00:00")"}},
        Rejected{"RotationEndAsAnInteger", "[app]\nprevious_secret_until = 1764370000\n", {}, {},
                 {"app.previous_secret_until: expected an RFC 3339 UTC time such as 2026-02-01T00:00:00Z, got an integer"}},
        Rejected{"RotationEndTooFarAhead", "",
                 {{"WIK_APP_SECRET", "new"}, {"WIK_APP_PREVIOUS_SECRET", kSecretText},
                  {"WIK_APP_PREVIOUS_SECRET_UNTIL", "2999-01-01T00:00:00Z"}}, {},
                 {"app.previous_secret_until: expected a time at most 7 days ahead", "(from WIK_APP_PREVIOUS_SECRET_UNTIL)"}},
        Rejected{"PreviousSecretWithoutTheSecret", "",
                 {{"WIK_APP_PREVIOUS_SECRET", kSecretText}, {"WIK_APP_PREVIOUS_SECRET_UNTIL", "2000-01-01T00:00:00Z"}}, {},
                 {"app.previous_secret: set without app.secret"}},
        Rejected{"PreviousSecretSameAsTheSecret", "[app]\nprevious_secret_file = \"@DIR@/old\"\nprevious_secret_until = \"2000-01-01T00:00:00Z\"\n",
                 {{"WIK_APP_SECRET", kSecretText}}, {{"old", kSecretText + "\n"}},
                 {"app.previous_secret: the same as app.secret"}},
        Rejected{"InlinePreviousSecret", "[app]\nprevious_secret = \"" + kSecretText + "\"\n", {}, {},
                 {"app.previous_secret: secrets are not accepted in the configuration file", "app.previous_secret_file",
                  "WIK_APP_PREVIOUS_SECRET"}},
        Rejected{"PostgresWithoutUrl", "[store]\nengine = \"postgres\"\n", {}, {},
                 {"store.postgres_url: required when store.engine is postgres", "WIK_STORE_POSTGRES_URL"}}),
    [](const ::testing::TestParamInfo<Rejected>& param) { return param.param.name; });

}  // namespace
}  // namespace wik::config
