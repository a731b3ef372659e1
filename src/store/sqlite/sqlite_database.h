// SqliteDatabase: the embedded engine, one database file with its WAL.
//
// Opens the file with journal_mode=WAL, synchronous=FULL unless told otherwise (a commit is on disk
// before transact() returns), secure_delete=ON (deleted content is zeroed in the pages written) and
// foreign keys on.
// One connection serves every thread in turn: SQLite has one writer anyway, and every transaction
// starts with BEGIN IMMEDIATE so that several processes sharing the file queue for the write lock
// (up to busy_timeout) instead of failing half-way. Threads get the connection in arrival order
// (a ticket lock), so a long series of short transactions, such as a purge's batches, cannot
// starve other writers. Prepared statements are cached per SQL text, up to kMaxPreparedStatements
// (database.h); beyond them a statement is prepared for each run, so the cache's memory stays
// bounded whatever SQL text an integration builds. Thread-safe.
#pragma once

#include <wik/result.h>

#include "store/database.h"

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

struct sqlite3;
struct sqlite3_stmt;

namespace wik::store {

// How long a commit waits for the disk (PRAGMA synchronous, in WAL mode). kFull syncs the WAL at
// every commit, so a commit survives a power cut; kNormal syncs it only at checkpoints, so a power
// cut (not a process crash) may roll back the last commits; kOff never syncs (tests' controls only).
enum class SqliteSync { kOff, kNormal, kFull };

struct SqliteOptions {
  std::filesystem::path path;  // created when missing
  // How long a transaction waits for another process's write lock before kUnavailable.
  std::chrono::milliseconds busy_timeout{5000};
  // kFull in production: a returned transact() is on disk (tests/reliability/power_loss_test.cpp).
  SqliteSync synchronous = SqliteSync::kFull;
  // The registered SQLite VFS to open the file through; empty: SQLite's default (unix).
  std::string vfs;
};

class SqliteDatabase final : public Database {
 public:
  // Opens (creating if needed) the database at options.path: kUnavailable when it cannot.
  static Result<std::unique_ptr<SqliteDatabase>> open(const SqliteOptions& options);
  ~SqliteDatabase() override;

  // wik::store::Database
  Dialect dialect() const noexcept override { return Dialect::kSqlite; }
  Result<void> transact(const std::function<Result<void>(Transaction&)>& work) override;
  Result<ReclaimReport> reclaim_space(std::span<const ReclaimTarget> tables) override;

 private:
  class SqliteTransaction;
  class TurnGuard;
  struct StatementDeleter {
    void operator()(sqlite3_stmt* statement) const noexcept;
  };
  using Statement = std::unique_ptr<sqlite3_stmt, StatementDeleter>;

  explicit SqliteDatabase(sqlite3* connection) : connection_(connection) {}
  Result<void> run_plain(const char* sql);
  // Returns the statement for `sql` ($n parameters), reset and with `params` bound: the cached one,
  // prepared and cached on its first run while fewer than kMaxPreparedStatements are; beyond them,
  // one prepared for this run alone, owned by `one_use` (which the caller keeps until done).
  Result<sqlite3_stmt*> prepare(std::string_view sql, std::span<const SqlValue> params, Statement& one_use);
  Error error_of(int code, std::string_view what) const;

  // One transaction at a time on the one connection, in arrival order.
  std::mutex mutex_;
  std::condition_variable turn_changed_;
  std::uint64_t next_ticket_ = 0;  // guarded by mutex_
  std::uint64_t serving_ = 0;      // guarded by mutex_
  sqlite3* connection_;
  std::unordered_map<std::string, Statement> statements_;  // used by the ticket holder only
};

}  // namespace wik::store
