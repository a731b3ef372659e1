// wik doctor: reports what wik finds on this machine (library versions, configuration, app
// credentials, key ring, database) without changing anything. Exits 1 if any check fails; a
// warning (something a later command will need) does not fail.
#include <libpq-fe.h>
#include <openssl/crypto.h>
#include <spdlog/version.h>
#include <sqlite3.h>
#include <unistd.h>

#include <boost/version.hpp>

#include <cstdio>

#include <fmt/format.h>

#include "cli/commands.h"
#include "config/config.h"
#include "core/key_ring.h"

namespace wik::cli {
namespace {

enum class Verdict { kOk, kWarn, kFail };

class Report {
 public:
  void line(Verdict verdict, std::string_view check, std::string_view detail) {
    static constexpr const char* kLabels[] = {"ok", "warn", "FAIL"};
    std::printf("  %-5s %-14.*s %.*s\n", kLabels[static_cast<int>(verdict)], static_cast<int>(check.size()),
                check.data(), static_cast<int>(detail.size()), detail.data());
    if (verdict == Verdict::kFail) failed_ = true;
  }
  bool failed() const { return failed_; }

 private:
  bool failed_ = false;
};

void report_versions(Report& report) {
  report.line(Verdict::kOk, "wik", WIK_VERSION);
  report.line(Verdict::kOk, "compiler", fmt::format("g++ {}.{}.{}, C++ {}", __GNUC__, __GNUC_MINOR__, __GNUC_PATCHLEVEL__, __cplusplus));
  report.line(Verdict::kOk, "openssl", OpenSSL_version(OPENSSL_VERSION));
  report.line(Verdict::kOk, "boost", fmt::format("{}.{}.{}", BOOST_VERSION / 100000, BOOST_VERSION / 100 % 1000, BOOST_VERSION % 100));
  report.line(Verdict::kOk, "sqlite", sqlite3_libversion());
  const int pq = PQlibVersion();
  report.line(Verdict::kOk, "libpq", fmt::format("{}.{}", pq / 10000, pq % 10000));
  report.line(Verdict::kOk, "spdlog/fmt", fmt::format("{}.{}.{} / {}", SPDLOG_VER_MAJOR, SPDLOG_VER_MINOR, SPDLOG_VER_PATCH, FMT_VERSION));
}

void report_credentials(Report& report, const Config& config) {
  if (config.app.id.empty()) {
    report.line(Verdict::kWarn, "app.id", "not set (wik serve needs it: app.id in wik.toml or WIK_APP_ID)");
  } else {
    report.line(Verdict::kOk, "app.id", config.app.id);
  }
  if (config.app.secret.empty()) {
    report.line(Verdict::kWarn, "app.secret", "not set (wik serve needs it: app.secret_file or WIK_APP_SECRET)");
  } else {
    report.line(Verdict::kOk, "app.secret", fmt::format("set ({} bytes)", config.app.secret.size()));
  }
}

void report_key_ring(Report& report, const Config& config) {
  if (!config.keys.ring) {
    report.line(Verdict::kWarn, "key ring", "not configured (wik serve needs it to seal tokens: keys.ring_file or "
                                            "WIK_KEYS_RING; create one with `wik keys generate`)");
    return;
  }
  auto ring = core::KeyRing::parse(config.keys.ring->expose());
  if (!ring) {
    report.line(Verdict::kFail, "key ring", ring.error().reason());
    return;
  }
  report.line(Verdict::kOk, "key ring",
              fmt::format("{} key(s): {}; active {}", ring->key_ids().size(), fmt::join(ring->key_ids(), ", "),
                          ring->active_key_id()));
}

void report_sqlite(Report& report, const std::filesystem::path& path) {
  if (!std::filesystem::exists(path)) {
    const auto dir = path.has_parent_path() ? path.parent_path() : std::filesystem::path(".");
    const bool writable = ::access(dir.c_str(), W_OK) == 0;
    report.line(writable ? Verdict::kOk : Verdict::kFail, "database",
                fmt::format("sqlite {}: not created yet; directory {} is {}writable", path.string(), dir.string(),
                            writable ? "" : "NOT "));
    return;
  }
  sqlite3* db = nullptr;
  const int opened = sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr);
  const bool readable = opened == SQLITE_OK && sqlite3_exec(db, "SELECT count(*) FROM sqlite_master", nullptr, nullptr, nullptr) == SQLITE_OK;
  const std::string message = readable ? "opens" : sqlite3_errmsg(db);
  sqlite3_close(db);
  report.line(readable ? Verdict::kOk : Verdict::kFail, "database", fmt::format("sqlite {}: {}", path.string(), message));
}

void report_postgres(Report& report, const Config& config) {
  const std::string url(config.store.postgres_url.expose());
  const PGPing ping = PQping(url.c_str());
  const bool reachable = ping == PQPING_OK;
  const char* state = ping == PQPING_OK ? "accepting connections"
                      : ping == PQPING_REJECT ? "reachable but rejecting connections"
                      : ping == PQPING_NO_RESPONSE ? "no response"
                                                   : "connection settings are invalid";
  // The URL may hold a password: name only the engine and the state.
  report.line(reachable ? Verdict::kOk : Verdict::kFail, "database", fmt::format("postgres: {}", state));
}

int run_doctor(const GlobalOptions& global) {
  Report report;
  std::printf("wik doctor\n");
  report_versions(report);

  const config::ProcessEnvironment environment;
  const auto path = global.config_file ? global.config_file : config::default_config_path(environment);
  auto config = config::load_config(path, environment);
  if (!config) {
    report.line(Verdict::kFail, "configuration", config.error().reason());
    return 1;
  }
  report.line(Verdict::kOk, "configuration", config->source);
  for (const std::string& warning : config::config_warnings(*config, std::chrono::system_clock::now())) {
    report.line(Verdict::kWarn, "configuration", warning);
  }
  report_credentials(report, *config);
  report_key_ring(report, *config);
  if (config->store.engine == StoreEngine::kSqlite) {
    report_sqlite(report, config->store.sqlite_path);
  } else {
    report_postgres(report, *config);
  }
  std::printf("%s\n", report.failed() ? "some checks failed" : "no problems found");
  return report.failed() ? 1 : 0;
}

}  // namespace

void add_doctor_command(CLI::App& app, const GlobalOptions& global, int& exit_code) {
  CLI::App* command = app.add_subcommand("doctor", "Report the environment and configuration wik finds");
  command->callback([&global, &exit_code] { exit_code = run_doctor(global); });
}

}  // namespace wik::cli
