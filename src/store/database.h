// Database: the seam between the engine-neutral store (store.h) and one SQL engine.
//
// The store writes every statement once, in the common subset of SQLite and PostgreSQL SQL with
// $1..$n parameters; an engine runs statements inside transactions, maps its failures to
// wik::ErrorCode, and makes deleted rows unreadable in its files. Implementations: SqliteDatabase,
// PostgresDatabase, and the tests' FaultInjectingDatabase. Implementations are thread-safe; one
// Transaction is used by one thread, only inside the transact() call that created it.
// Failures: kConflict for a unique-key violation, kUnavailable when the engine is busy or
// unreachable (retrying may succeed), kInternal for anything else (a bug in a statement).
// Reasons never contain parameter values; engine messages go to the error's detail.
#pragma once

#include <wik/result.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

namespace wik::store {

enum class Dialect { kSqlite, kPostgres };

// Statements one connection keeps prepared (by SQL text); others are prepared for each run, so the
// memory a connection's statements take (client and server side) stays bounded.
inline constexpr std::size_t kMaxPreparedStatements = 256;

// A statement parameter. Text is borrowed for the duration of the call.
using SqlValue = std::variant<std::nullptr_t, std::int64_t, std::string_view>;

// One result row; columns are read in the order the statement names them.
class Row {
 public:
  explicit Row(std::vector<std::optional<std::string>> columns) : columns_(std::move(columns)) {}

  std::size_t size() const noexcept { return columns_.size(); }
  bool is_null(std::size_t column) const { return !columns_.at(column).has_value(); }
  // Returns the column's text; "" for NULL.
  const std::string& text(std::size_t column) const;
  // Returns the column as an integer; 0 for NULL. A non-integer column is a broken invariant.
  std::int64_t integer(std::size_t column) const;
  std::optional<std::int64_t> optional_integer(std::size_t column) const;
  std::optional<std::string> optional_text(std::size_t column) const { return columns_.at(column); }

 private:
  std::vector<std::optional<std::string>> columns_;
};

using Rows = std::vector<Row>;

class Transaction {
 public:
  virtual ~Transaction() = default;

  // Runs one statement and returns its rows (a RETURNING clause included).
  Result<Rows> query(std::string_view sql, std::initializer_list<SqlValue> params = {}) {
    return query_values(sql, std::span<const SqlValue>(params.begin(), params.size()));
  }
  // Runs one statement and returns the number of rows it inserted, updated or deleted.
  Result<std::int64_t> execute(std::string_view sql, std::initializer_list<SqlValue> params = {}) {
    return execute_values(sql, std::span<const SqlValue>(params.begin(), params.size()));
  }

  virtual Result<Rows> query_values(std::string_view sql, std::span<const SqlValue> params) = 0;
  virtual Result<std::int64_t> execute_values(std::string_view sql, std::span<const SqlValue> params) = 0;
  // Runs parameterless statements separated by ';' (migrations).
  virtual Result<void> execute_script(std::string_view sql) = 0;
};

// A table whose deleted rows must leave the files.
struct ReclaimTarget {
  std::string table;
  // Also rewrite the table's file (PostgreSQL VACUUM FULL, a brief exclusive lock): for small
  // tables whose dead rows must not linger, such as the wrapped data keys.
  bool rewrite = false;
};

// What reclaim_space() did to the files, for the purge job's audit record.
struct ReclaimReport {
  bool complete = false;   // every step finished (false: e.g. another reader kept WAL frames alive)
  std::string steps;       // what was run, for example "wal_checkpoint(TRUNCATE)"
};

class Database {
 public:
  virtual ~Database() = default;

  virtual Dialect dialect() const noexcept = 0;

  // Runs `work` in one transaction: commits when it returns success, rolls back otherwise (and
  // returns its error). Success means the commit is durable. Nested calls are a broken invariant.
  virtual Result<void> transact(const std::function<Result<void>(Transaction&)>& work) = 0;

  // Makes the deleted rows of `tables` unreadable in the database files as far as the engine
  // allows (SQLite: checkpoint and truncate the WAL, with secure_delete on; PostgreSQL: VACUUM,
  // which frees space but leaves bytes, and never touches the WAL: docs/storage.md).
  // Runs outside any transaction. REQUIRES: not called from inside transact().
  virtual Result<ReclaimReport> reclaim_space(std::span<const ReclaimTarget> tables) = 0;
};

// Runs `work` (Transaction& -> Result<T>) in one transaction and returns its value once committed.
template <class Work>
auto transact_value(Database& database, Work&& work) -> std::invoke_result_t<Work&, Transaction&> {
  using ResultType = std::invoke_result_t<Work&, Transaction&>;
  using Value = std::remove_cvref_t<decltype(std::declval<ResultType&>().value())>;
  std::optional<Value> out;
  Result<void> done = database.transact([&](Transaction& tx) -> Result<void> {
    ResultType result = work(tx);
    if (!result) return result.error();
    out.emplace(std::move(result).value());
    return ok_result();
  });
  if (!done) return done.error();
  return std::move(*out);
}

// Returns true when `name` is a plain SQL identifier ([A-Za-z_][A-Za-z0-9_]*, at most 63 bytes),
// safe to splice into a statement.
bool is_sql_identifier(std::string_view name) noexcept;

}  // namespace wik::store
