// CrashTestBed: the world of the process-fault tests (H1 kill -9, H6 pause, H9 rolling restart;
// docs/RELIABILITY.md) around the crash integration (crash_integration.cpp) — its store (a SQLite
// file in a temporary directory, or a new database of the shared PostgreSQL cluster) with the test's
// communities installed, its secrets and configuration file, and the test's own look at the inbox
// and at the rows the handler wrote.
//
// The integration listens on 127.0.0.1 with a free port, reads its secrets from files, has no
// Graph host it could reach (its handler makes no Graph call) and no re-verify sweep. Not
// movable: the stores it opens borrow its clock. Calls block; use from the test's thread.
#pragma once

#include <wik/result.h>
#include <wik/secret.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/key_ring.h"
#include "reliability/history_checker.h"
#include "store/database.h"
#include "store/store.h"
#include "support/temp_dir.h"

namespace wik::testing {

enum class Engine { kSqlite, kPostgres };

std::string engine_name(Engine engine);
void PrintTo(Engine engine, std::ostream* out);

// Returns $`variable` as a whole number in [min, max], or `fallback` when it is unset or empty;
// kConfig naming the variable and the range for anything else.
Result<long> number_from_environment(const char* variable, long fallback, long min, long max);

// What the inbox still holds.
struct InboxLeft {
  std::int64_t pending = 0;  // pending or claimed
  std::int64_t dead_letters = 0;
};

// One pending inbox event under a claim.
struct InboxClaim {
  std::int64_t id = 0;
  std::string claim_token;
};

// The integration's app id (its [app] id).
inline constexpr const char* kCrashTestAppId = "1111222233334444";

// Where the integration reaches the platform, and where the platform reaches it. The defaults
// name no server: the handler makes no Graph call, and no install goes through the kit.
struct PlatformUrls {
  std::string graph_url = "http://127.0.0.1:9";
  std::string workplace_url = "http://127.0.0.1:9";
  std::string public_url = "http://127.0.0.1";  // the kit's Redirect URL is {public_url}/workplace/install
};

class CrashTestBed {
 public:
  // Makes the store (migrated, with `communities` installed) in `dir` or on the shared cluster.
  static Result<std::unique_ptr<CrashTestBed>> create(Engine engine, const TempDir& dir,
                                                      const std::vector<std::string>& communities);
  CrashTestBed(const CrashTestBed&) = delete;
  CrashTestBed& operator=(const CrashTestBed&) = delete;

  const Secret& app_secret() const noexcept { return app_secret_; }

  // Writes the integration's configuration file and returns its path; `more` is appended (whole
  // TOML sections the base leaves out, such as [webhooks]), `platform` says where the platform is.
  std::filesystem::path write_config(std::string_view more = {}, const PlatformUrls& platform = {}) const;

  Result<std::unique_ptr<store::Database>> open_database() const;
  Result<std::unique_ptr<store::Store>> open_store() const;

  // Waits until the inbox holds no pending or claimed event, up to `limit`; returns what it holds
  // then.
  Result<InboxLeft> wait_until_handled(std::chrono::seconds limit) const;
  // Returns the rows the handler wrote, one per handling.
  Result<std::vector<HandledRow>> handled_rows() const;
  // Returns the pending events under a claim, of the process `pid` only when given (the inbox's
  // claimed_by is the dispatcher's worker, "<host>:<pid>:<random>").
  Result<std::vector<InboxClaim>> claims(std::optional<int> pid = std::nullopt) const;
  // Returns how many of `claims` another worker has taken since: done, or claimed under another token.
  Result<std::size_t> taken_over(const std::vector<InboxClaim>& claims) const;
  // Returns true when a paused process of the integration has left a store transaction open: on
  // SQLite, process `pid` holds the file's write lock (its POSIX lock, from /proc/locks); on
  // PostgreSQL, a session stays idle inside one transaction across two looks `within` apart.
  Result<bool> transaction_left_open(int pid, std::chrono::milliseconds within) const;

 private:
  CrashTestBed(Engine engine, const TempDir& dir);

  Engine engine_;
  const TempDir& dir_;
  Secret app_secret_;
  std::filesystem::path sqlite_path_;
  std::string conninfo_;
  std::string store_config_;  // the [store] section
  const core::SystemClock clock_;
  const core::KeyRing ring_ = core::KeyRing::generate("reliability");
};

// Returns the value of the metric line `series` (a name with its labels, as /metrics renders it)
// on the integration listening on `port`: 0 when the metric has no such line yet, kUnavailable
// when /metrics did not answer.
Result<std::uint64_t> scrape_metric(std::uint16_t port, std::string_view series);

}  // namespace wik::testing
