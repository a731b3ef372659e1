#include "store/sqlite/sqlite_database.h"

#include <sqlite3.h>

#include <limits>

namespace wik::store {
namespace {

// Returns `sql` with PostgreSQL-style $n parameters written as SQLite's ?n.
std::string with_sqlite_parameters(std::string_view sql) {
  std::string out(sql);
  bool quoted = false;
  for (std::size_t i = 0; i < out.size(); ++i) {
    if (out[i] == '\'') quoted = !quoted;
    if (!quoted && out[i] == '$' && i + 1 < out.size() && out[i + 1] >= '0' && out[i + 1] <= '9') out[i] = '?';
  }
  return out;
}

const char* synchronous_pragma(SqliteSync synchronous) {
  switch (synchronous) {
    case SqliteSync::kOff: return "PRAGMA synchronous = OFF";
    case SqliteSync::kNormal: return "PRAGMA synchronous = NORMAL";
    case SqliteSync::kFull: break;
  }
  return "PRAGMA synchronous = FULL";
}

}  // namespace

// Holds the connection's turn: waits for it on construction, passes it on at destruction.
class SqliteDatabase::TurnGuard {
 public:
  explicit TurnGuard(SqliteDatabase& database) : database_(database) {
    std::unique_lock lock(database_.mutex_);
    const std::uint64_t ticket = database_.next_ticket_++;
    database_.turn_changed_.wait(lock, [&] { return database_.serving_ == ticket; });
  }
  ~TurnGuard() {
    {
      const std::lock_guard lock(database_.mutex_);
      ++database_.serving_;
    }
    database_.turn_changed_.notify_all();
  }
  TurnGuard(const TurnGuard&) = delete;
  TurnGuard& operator=(const TurnGuard&) = delete;

 private:
  SqliteDatabase& database_;
};

class SqliteDatabase::SqliteTransaction final : public Transaction {
 public:
  explicit SqliteTransaction(SqliteDatabase& database) : database_(database) {}

  // wik::store::Transaction
  Result<Rows> query_values(std::string_view sql, std::span<const SqlValue> params) override {
    Statement one_use;
    Result<sqlite3_stmt*> statement = database_.prepare(sql, params, one_use);
    if (!statement) return statement.error();
    Rows rows;
    for (;;) {
      const int code = sqlite3_step(*statement);
      if (code == SQLITE_DONE) break;
      if (code != SQLITE_ROW) return finish(*statement, code);
      const int columns = sqlite3_column_count(*statement);
      std::vector<std::optional<std::string>> values;
      values.reserve(static_cast<std::size_t>(columns));
      for (int c = 0; c < columns; ++c) {
        const auto* text = sqlite3_column_text(*statement, c);
        if (text == nullptr) {
          values.emplace_back();
        } else {
          values.emplace_back(std::string(reinterpret_cast<const char*>(text),
                                          static_cast<std::size_t>(sqlite3_column_bytes(*statement, c))));
        }
      }
      rows.emplace_back(std::move(values));
    }
    if (Result<Rows> done = finish(*statement, SQLITE_DONE); !done) return done;
    return rows;
  }

  Result<std::int64_t> execute_values(std::string_view sql, std::span<const SqlValue> params) override {
    Result<Rows> rows = query_values(sql, params);
    if (!rows) return rows.error();
    return static_cast<std::int64_t>(sqlite3_changes64(database_.connection_));
  }

  Result<void> execute_script(std::string_view sql) override {
    const std::string terminated(sql);
    const int code = sqlite3_exec(database_.connection_, terminated.c_str(), nullptr, nullptr, nullptr);
    if (code != SQLITE_OK) return database_.error_of(code, "script");
    return ok_result();
  }

 private:
  // Resets `statement` and returns the error `code` names (empty rows for SQLITE_DONE).
  Result<Rows> finish(sqlite3_stmt* statement, int code) {
    sqlite3_reset(statement);
    if (code == SQLITE_DONE) return Rows{};
    return database_.error_of(code, "statement");
  }

  SqliteDatabase& database_;
};

void SqliteDatabase::StatementDeleter::operator()(sqlite3_stmt* statement) const noexcept {
  sqlite3_finalize(statement);
}

Result<std::unique_ptr<SqliteDatabase>> SqliteDatabase::open(const SqliteOptions& options) {
  sqlite3* connection = nullptr;
  const int code = sqlite3_open_v2(options.path.c_str(), &connection,
                                   SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                                   options.vfs.empty() ? nullptr : options.vfs.c_str());
  std::unique_ptr<SqliteDatabase> database(new SqliteDatabase(connection));
  if (code != SQLITE_OK) return database->error_of(code, "open");
  sqlite3_extended_result_codes(connection, 1);
  const auto timeout = std::min<std::chrono::milliseconds::rep>(options.busy_timeout.count(),
                                                                 std::numeric_limits<int>::max());
  sqlite3_busy_timeout(connection, static_cast<int>(timeout));
  for (const char* pragma : {"PRAGMA journal_mode = WAL", synchronous_pragma(options.synchronous),
                             "PRAGMA secure_delete = ON", "PRAGMA foreign_keys = ON"}) {
    if (Result<void> set = database->run_plain(pragma); !set) return set.error();
  }
  return database;
}

SqliteDatabase::~SqliteDatabase() {
  statements_.clear();
  sqlite3_close_v2(connection_);
}

Result<void> SqliteDatabase::run_plain(const char* sql) {
  const int code = sqlite3_exec(connection_, sql, nullptr, nullptr, nullptr);
  if (code != SQLITE_OK) return error_of(code, sql);
  return ok_result();
}

Result<void> SqliteDatabase::transact(const std::function<Result<void>(Transaction&)>& work) {
  const TurnGuard turn(*this);
  if (Result<void> begun = run_plain("BEGIN IMMEDIATE"); !begun) return begun;
  SqliteTransaction transaction(*this);
  Result<void> done = work(transaction);
  if (done) done = run_plain("COMMIT");
  if (!done && sqlite3_get_autocommit(connection_) == 0) {
    (void)run_plain("ROLLBACK");  // the work's error is the one to report
  }
  return done;
}

Result<ReclaimReport> SqliteDatabase::reclaim_space(std::span<const ReclaimTarget> /*tables*/) {
  // secure_delete already zeroed the deleted content in the pages the purge wrote; the old
  // copies live in WAL frames until a checkpoint copies the new pages back and truncates the log.
  const TurnGuard turn(*this);
  int log_frames = 0;
  int checkpointed = 0;
  const int code =
      sqlite3_wal_checkpoint_v2(connection_, nullptr, SQLITE_CHECKPOINT_TRUNCATE, &log_frames, &checkpointed);
  if (code == SQLITE_BUSY) return ReclaimReport{.complete = false, .steps = "wal_checkpoint(TRUNCATE)"};
  if (code != SQLITE_OK) return error_of(code, "checkpoint");
  return ReclaimReport{.complete = true, .steps = "wal_checkpoint(TRUNCATE)"};
}

Result<sqlite3_stmt*> SqliteDatabase::prepare(std::string_view sql, std::span<const SqlValue> params,
                                              Statement& one_use) {
  std::string text = with_sqlite_parameters(sql);
  sqlite3_stmt* statement = nullptr;
  if (auto cached = statements_.find(text); cached != statements_.end()) {
    statement = cached->second.get();
  } else {
    const bool keep = statements_.size() < kMaxPreparedStatements;
    const int code = sqlite3_prepare_v3(connection_, text.c_str(), static_cast<int>(text.size()),
                                        keep ? SQLITE_PREPARE_PERSISTENT : 0, &statement, nullptr);
    if (code != SQLITE_OK) {
      sqlite3_finalize(statement);
      return error_of(code, "prepare");
    }
    if (keep) {
      statements_.emplace(std::move(text), Statement(statement));
    } else {
      one_use.reset(statement);
    }
  }
  sqlite3_reset(statement);
  sqlite3_clear_bindings(statement);
  for (std::size_t i = 0; i < params.size(); ++i) {
    const int index = static_cast<int>(i) + 1;
    const SqlValue& value = params[i];
    int code = SQLITE_OK;
    if (const auto* integer = std::get_if<std::int64_t>(&value)) {
      code = sqlite3_bind_int64(statement, index, *integer);
    } else if (const auto* text_value = std::get_if<std::string_view>(&value)) {
      code = sqlite3_bind_text64(statement, index, text_value->data(), text_value->size(), SQLITE_TRANSIENT,
                                 SQLITE_UTF8);
    } else {
      code = sqlite3_bind_null(statement, index);
    }
    if (code != SQLITE_OK) return error_of(code, "bind");
  }
  return statement;
}

Error SqliteDatabase::error_of(int code, std::string_view what) const {
  std::string detail = "sqlite " + std::string(what) + ": " + sqlite3_errstr(code);
  if (connection_ != nullptr) detail += ": " + std::string(sqlite3_errmsg(connection_));
  switch (code) {
    case SQLITE_CONSTRAINT_UNIQUE:
    case SQLITE_CONSTRAINT_PRIMARYKEY:
      return Error(ErrorCode::kConflict, "a row with this key exists", detail);
    case SQLITE_CONSTRAINT_FOREIGNKEY:
      return Error(ErrorCode::kNotFound, "a row this one refers to does not exist", detail);
    case SQLITE_CONSTRAINT_TRIGGER:
      return Error(ErrorCode::kPermissionDenied, "the table refuses this change", detail);
    default:
      break;
  }
  switch (code & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_IOERR:
    case SQLITE_FULL:
    case SQLITE_CANTOPEN:
    case SQLITE_READONLY:
    case SQLITE_NOMEM:
      return Error(ErrorCode::kUnavailable, "the database is unavailable", detail);
    default:
      return Error(ErrorCode::kInternal, "the database refused a statement", detail);
  }
}

}  // namespace wik::store
