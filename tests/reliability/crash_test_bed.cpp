#include "reliability/crash_test_bed.h"

#include <sys/stat.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include "http/raw_connection.h"
#include "store/postgres/postgres_database.h"
#include "store/sqlite/sqlite_database.h"
#include "support/postgres_cluster.h"

namespace wik::testing {
namespace {

using Clock = std::chrono::steady_clock;

constexpr const char* kAppSecret = "reliability-app-secret-0123456789abcdef";

}  // namespace

std::string engine_name(Engine engine) { return engine == Engine::kSqlite ? "sqlite" : "pg"; }
void PrintTo(Engine engine, std::ostream* out) { *out << engine_name(engine); }

Result<long> number_from_environment(const char* variable, long fallback, long min, long max) {
  const char* configured = std::getenv(variable);
  if (configured == nullptr || *configured == '\0') return fallback;
  char* end = nullptr;
  const long value = std::strtol(configured, &end, 10);
  if (*end != '\0' || value < min || value > max) {
    return Error(ErrorCode::kConfig,
                 std::string(variable) + ": expected " + std::to_string(min) + "-" + std::to_string(max));
  }
  return value;
}

CrashTestBed::CrashTestBed(Engine engine, const TempDir& dir) : engine_(engine), dir_(dir), app_secret_(kAppSecret) {}

Result<std::unique_ptr<CrashTestBed>> CrashTestBed::create(Engine engine, const TempDir& dir,
                                                           const std::vector<std::string>& communities) {
  std::unique_ptr<CrashTestBed> bed(new CrashTestBed(engine, dir));
  if (engine == Engine::kSqlite) {
    bed->sqlite_path_ = dir.path() / "wik.db";
    bed->store_config_ = "[store]\nengine = \"sqlite\"\nsqlite_path = \"" + bed->sqlite_path_.string() + "\"\n";
  } else {
    Result<PostgresCluster*> cluster = PostgresCluster::shared();
    if (!cluster) return cluster.error();
    Result<std::string> conninfo = (*cluster)->create_database();
    if (!conninfo) return conninfo.error();
    bed->conninfo_ = *conninfo;
    bed->store_config_ = "[store]\nengine = \"postgres\"\npostgres_url_file = \"" +
                         dir.write_file("postgres_url", bed->conninfo_).string() + "\"\n";
  }
  Result<std::unique_ptr<store::Store>> store = bed->open_store();
  if (!store) return store.error();
  for (const std::string& community : communities) {
    Result<store::CommunityScope> scope = (*store)->community(community);
    if (!scope) return scope.error();
    Result<store::Installation> installed = scope->put_installation({.community_name = "Community " + community,
                                                      .access_token = AccessToken("token-" + community),
                                                      .permissions = {"message"}});
    if (!installed) return installed.error();
  }
  return bed;
}

std::filesystem::path CrashTestBed::write_config(std::string_view more, const PlatformUrls& platform) const {
  const auto secret = dir_.write_file("app_secret", std::string(app_secret_.expose()));
  const auto verify_token = dir_.write_file("verify_token", "reliability-verify-token");
  const auto ring = dir_.write_file("keys.ring", std::string(ring_.serialize().expose()));
  return dir_.write_file(
      "wik.toml", "[app]\nid = \"" + std::string(kCrashTestAppId) + "\"\nsecret_file = \"" + secret.string() +
                      "\"\nverify_token_file = \"" + verify_token.string() +
                      "\"\ngraph_url = \"" + platform.graph_url + "\"\nworkplace_url = \"" + platform.workplace_url +
                      "\"\nreverify_interval_hours = 0\n\n[server]\naddress = \"127.0.0.1\"\nport = 0\nthreads = 2\n"
                      "public_url = \"" + platform.public_url + "\"\n\n[keys]\nring_file = \"" + ring.string() + "\"\n\n" +
                      store_config_ + "\n[log]\nlevel = \"info\"\n\n" + std::string(more));
}

Result<std::unique_ptr<store::Database>> CrashTestBed::open_database() const {
  if (engine_ == Engine::kSqlite) {
    auto database = store::SqliteDatabase::open({.path = sqlite_path_});
    if (!database) return database.error();
    return std::unique_ptr<store::Database>(std::move(*database));
  }
  auto database = store::PostgresDatabase::open({.conninfo = conninfo_});
  if (!database) return database.error();
  return std::unique_ptr<store::Database>(std::move(*database));
}

Result<std::unique_ptr<store::Store>> CrashTestBed::open_store() const {
  auto database = open_database();
  if (!database) return database.error();
  return store::Store::open(std::move(*database), ring_, clock_);
}

Result<InboxLeft> CrashTestBed::wait_until_handled(std::chrono::seconds limit) const {
  Result<std::unique_ptr<store::Store>> store = open_store();
  if (!store) return store.error();
  const Clock::time_point give_up_at = Clock::now() + limit;
  for (;;) {
    Result<std::vector<store::InboxCounts>> counts = (*store)->inbox_counts();
    if (!counts) return counts.error();
    InboxLeft left;
    for (const store::InboxCounts& community : *counts) {
      left.pending += community.pending;
      left.dead_letters += community.dead_letters;
    }
    if (left.pending == 0 || Clock::now() >= give_up_at) return left;
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
}

Result<std::vector<HandledRow>> CrashTestBed::handled_rows() const {
  Result<std::unique_ptr<store::Database>> database = open_database();
  if (!database) return database.error();
  Result<store::Rows> rows = store::transact_value(**database, [](store::Transaction& tx) {
    return tx.query("SELECT community_id, mid FROM handled_messages");
  });
  if (!rows) return rows.error();
  std::vector<HandledRow> handled;
  for (const store::Row& row : *rows) handled.emplace_back(row.text(0), row.text(1));
  return handled;
}

Result<std::vector<InboxClaim>> CrashTestBed::claims(std::optional<int> pid) const {
  Result<std::unique_ptr<store::Database>> database = open_database();
  if (!database) return database.error();
  const std::string worker = pid ? "%:" + std::to_string(*pid) + ":%" : "%";
  Result<store::Rows> rows = store::transact_value(**database, [&worker](store::Transaction& tx) {
    return tx.query(
        "SELECT id, claim_token FROM inbox WHERE state = 'pending' AND claim_token IS NOT NULL "
        "AND claimed_by LIKE $1 ORDER BY id",
        {worker});
  });
  if (!rows) return rows.error();
  std::vector<InboxClaim> found;
  for (const store::Row& row : *rows) found.push_back({row.integer(0), row.text(1)});
  return found;
}

Result<std::size_t> CrashTestBed::taken_over(const std::vector<InboxClaim>& claims) const {
  Result<std::unique_ptr<store::Database>> database = open_database();
  if (!database) return database.error();
  return store::transact_value(**database, [&claims](store::Transaction& tx) -> Result<std::size_t> {
    std::size_t taken = 0;
    for (const InboxClaim& claim : claims) {
      Result<store::Rows> rows =
          tx.query("SELECT state, COALESCE(claim_token, '') FROM inbox WHERE id = $1", {claim.id});
      if (!rows) return rows.error();
      if (rows->empty() || rows->front().text(0) != "pending" || rows->front().text(1) != claim.claim_token) ++taken;
    }
    return taken;
  });
}

Result<bool> CrashTestBed::transaction_left_open(int pid, std::chrono::milliseconds within) const {
  if (engine_ == Engine::kSqlite) {
    // In WAL mode a writer (or a checkpoint) holds an exclusive POSIX lock on byte 120 (or 121) of
    // the -shm file; /proc/locks names its process.
    struct stat shm {};
    if (::stat((sqlite_path_.string() + "-shm").c_str(), &shm) != 0) {
      return Error(ErrorCode::kUnavailable, "the SQLite -shm file is missing");
    }
    std::ifstream locks("/proc/locks");
    const std::string inode = ":" + std::to_string(shm.st_ino);
    for (std::string line; std::getline(locks, line);) {
      std::istringstream fields(line);
      std::string number, kind, advisory, mode, file;
      long owner = 0;
      long first = 0;
      fields >> number >> kind >> advisory >> mode >> owner >> file >> first;
      if (kind == "POSIX" && mode == "WRITE" && owner == pid && file.ends_with(inode) && (first == 120 || first == 121)) {
        return true;
      }
    }
    return false;
  }
  // A session idle inside the same transaction in two looks `within` apart. (A paused client's
  // statement still running on the server finishes, and leaves its session idle in the transaction.)
  Result<std::unique_ptr<store::Database>> database = open_database();
  if (!database) return database.error();
  const auto idle_transactions = [&database]() -> Result<std::set<std::string>> {
    Result<store::Rows> rows = store::transact_value(**database, [](store::Transaction& tx) {
      return tx.query(
          "SELECT pid::text || ' ' || xact_start::text FROM pg_stat_activity WHERE datname = current_database() "
          "AND pid <> pg_backend_pid() AND state LIKE 'idle in transaction%'");
    });
    if (!rows) return rows.error();
    std::set<std::string> sessions;
    for (const store::Row& row : *rows) sessions.insert(row.text(0));
    return sessions;
  };
  Result<std::set<std::string>> first = idle_transactions();
  if (!first) return first.error();
  std::this_thread::sleep_for(within);
  Result<std::set<std::string>> second = idle_transactions();
  if (!second) return second.error();
  return std::ranges::any_of(*second, [&first](const std::string& session) { return first->contains(session); });
}

Result<std::uint64_t> scrape_metric(std::uint16_t port, std::string_view series) {
  http::testing::RawConnection connection;
  if (!connection.connect(port)) return Error(ErrorCode::kUnavailable, "nothing listens for /metrics");
  const auto response = connection.round_trip(http::testing::get_request("/metrics"), std::chrono::seconds(10));
  if (!response || response->status != 200) return Error(ErrorCode::kUnavailable, "/metrics did not answer");
  std::istringstream lines(response->body);
  for (std::string line; std::getline(lines, line);) {
    if (line.size() > series.size() && line.starts_with(series) && line[series.size()] == ' ') {
      return static_cast<std::uint64_t>(std::stod(line.substr(series.size() + 1)));
    }
  }
  return std::uint64_t{0};
}

}  // namespace wik::testing
