// The two engines the store tests run on, as GoogleTest type parameters (one typed suite, no
// per-engine copies). Each engine gives a test a fresh, empty database it can open any number of
// times (a second handle sees the first one's commits), and the files that database lives in, so
// purge tests can scan them. Facts that differ by engine are named constants here, so tests assert
// them instead of branching on the engine.
#pragma once

#include <wik/result.h>

#include "store/database.h"
#include "support/temp_dir.h"

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace wik::store::testing {

// Where a database keeps its bytes: table files and the write-ahead log.
struct DatabaseFiles {
  std::vector<std::filesystem::path> data;
  std::vector<std::filesystem::path> wal;
};

class SqliteEngine {
 public:
  static constexpr const char* kName = "sqlite";
  // A purge removes deleted bytes from the files (secure_delete + wal_checkpoint(TRUNCATE)).
  static constexpr bool kPurgeErasesPlaintext = true;

  // Creates the empty database: nothing to do, the file appears on first open.
  Result<void> create();
  Result<std::unique_ptr<Database>> open();
  // Flushes what the engine holds in memory to its files (nothing for SQLite).
  Result<void> flush(Database& database);
  DatabaseFiles files();
  // Returns the statement listing every table that has a column named `column` ($1).
  static const char* tables_with_column_sql();

 private:
  wik::testing::TempDir dir_;
};

class PostgresEngine {
 public:
  static constexpr const char* kName = "postgres";
  // Plain VACUUM frees space but leaves deleted bytes in table files, and the WAL keeps them.
  static constexpr bool kPurgeErasesPlaintext = false;

  // Creates a database in the shared throw-away cluster; fails when the cluster cannot start.
  Result<void> create();
  Result<std::unique_ptr<Database>> open();
  // Runs CHECKPOINT so that table files hold what shared buffers held.
  Result<void> flush(Database& database);
  // Returns this database's table files and the cluster's WAL (shared by every database in it).
  DatabaseFiles files();
  static const char* tables_with_column_sql();

 private:
  std::string conninfo_;
  std::filesystem::path data_dir_;
};

}  // namespace wik::store::testing
