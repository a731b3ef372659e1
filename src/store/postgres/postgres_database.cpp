#include "store/postgres/postgres_database.h"

#include <libpq-fe.h>

#include <charconv>

namespace wik::store {
namespace {

struct ResultDeleter {
  void operator()(PGresult* result) const noexcept { PQclear(result); }
};
using PgResult = std::unique_ptr<PGresult, ResultDeleter>;

Error error_of(PGconn* connection, const PGresult* result, std::string_view what) {
  const char* state = result != nullptr ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
  const char* message = result != nullptr ? PQresultErrorField(result, PG_DIAG_MESSAGE_PRIMARY) : nullptr;
  const std::string sqlstate = state != nullptr ? state : "";
  std::string detail = "postgres " + std::string(what) + ": " + (sqlstate.empty() ? "no sqlstate" : sqlstate) +
                       ": " + (message != nullptr ? message : PQerrorMessage(connection));
  if (PQstatus(connection) != CONNECTION_OK || sqlstate.empty()) {
    return Error(ErrorCode::kUnavailable, "the database is unavailable", std::move(detail));
  }
  if (sqlstate == "23505") return Error(ErrorCode::kConflict, "a row with this key exists", std::move(detail));
  if (sqlstate == "23503") {
    return Error(ErrorCode::kNotFound, "a row this one refers to does not exist", std::move(detail));
  }
  if (sqlstate == "P0001") {
    return Error(ErrorCode::kPermissionDenied, "the table refuses this change", std::move(detail));
  }
  // 08: connection, 40: serialization/deadlock, 53: resources, 55P03: lock not available, 57: shutdown.
  if (sqlstate.starts_with("08") || sqlstate.starts_with("40") || sqlstate.starts_with("53") ||
      sqlstate == "55P03" || sqlstate.starts_with("57")) {
    return Error(ErrorCode::kUnavailable, "the database is unavailable", std::move(detail));
  }
  return Error(ErrorCode::kInternal, "the database refused a statement", std::move(detail));
}

// Runs `sql` with `params` and returns its result: an Error unless it succeeded.
Result<PgResult> run(PGconn* connection, std::string_view sql, std::span<const SqlValue> params) {
  std::vector<std::string> texts(params.size());
  std::vector<const char*> values(params.size(), nullptr);
  for (std::size_t i = 0; i < params.size(); ++i) {
    if (const auto* integer = std::get_if<std::int64_t>(&params[i])) {
      texts[i] = std::to_string(*integer);
    } else if (const auto* text = std::get_if<std::string_view>(&params[i])) {
      texts[i] = std::string(*text);
    } else {
      continue;  // NULL
    }
    values[i] = texts[i].c_str();
  }
  const std::string statement(sql);
  PgResult result(params.empty() ? PQexec(connection, statement.c_str())
                                 : PQexecParams(connection, statement.c_str(), static_cast<int>(params.size()),
                                                nullptr, values.data(), nullptr, nullptr, 0));
  const ExecStatusType status = result ? PQresultStatus(result.get()) : PGRES_FATAL_ERROR;
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) return error_of(connection, result.get(), "statement");
  return result;
}

}  // namespace

class PostgresDatabase::PostgresTransaction final : public Transaction {
 public:
  explicit PostgresTransaction(PGconn* connection) : connection_(connection) {}

  // wik::store::Transaction
  Result<Rows> query_values(std::string_view sql, std::span<const SqlValue> params) override {
    Result<PgResult> result = run(connection_, sql, params);
    if (!result) return result.error();
    const int row_count = PQntuples(result->get());
    const int column_count = PQnfields(result->get());
    Rows rows;
    rows.reserve(static_cast<std::size_t>(row_count));
    for (int r = 0; r < row_count; ++r) {
      std::vector<std::optional<std::string>> values;
      values.reserve(static_cast<std::size_t>(column_count));
      for (int c = 0; c < column_count; ++c) {
        if (PQgetisnull(result->get(), r, c) != 0) {
          values.emplace_back();
        } else {
          values.emplace_back(std::string(PQgetvalue(result->get(), r, c),
                                          static_cast<std::size_t>(PQgetlength(result->get(), r, c))));
        }
      }
      rows.emplace_back(std::move(values));
    }
    return rows;
  }

  Result<std::int64_t> execute_values(std::string_view sql, std::span<const SqlValue> params) override {
    Result<PgResult> result = run(connection_, sql, params);
    if (!result) return result.error();
    const std::string_view tuples = PQcmdTuples(result->get());
    std::int64_t count = 0;
    std::from_chars(tuples.data(), tuples.data() + tuples.size(), count);
    return count;
  }

  Result<void> execute_script(std::string_view sql) override {
    Result<PgResult> result = run(connection_, sql, {});
    if (!result) return result.error();
    return ok_result();
  }

 private:
  PGconn* connection_;
};

void PostgresDatabase::ConnectionDeleter::operator()(pg_conn* connection) const noexcept { PQfinish(connection); }

Result<std::unique_ptr<PostgresDatabase>> PostgresDatabase::open(PostgresOptions options) {
  if (options.pool_size == 0) return Error(ErrorCode::kConfig, "the PostgreSQL pool size must be above 0");
  std::unique_ptr<PostgresDatabase> database(new PostgresDatabase(std::move(options)));
  Result<Connection> first = database->acquire();
  if (!first) return first.error();
  database->release(std::move(*first));
  return database;
}

PostgresDatabase::~PostgresDatabase() = default;

Result<PostgresDatabase::Connection> PostgresDatabase::acquire() {
  {
    std::unique_lock lock(mutex_);
    released_.wait(lock, [this] { return !idle_.empty() || open_ < options_.pool_size; });
    if (!idle_.empty()) {
      Connection connection = std::move(idle_.back());
      idle_.pop_back();
      return connection;
    }
    ++open_;
  }
  Connection connection(PQconnectdb(options_.conninfo.c_str()));
  if (!connection || PQstatus(connection.get()) != CONNECTION_OK) {
    std::string detail = connection ? PQerrorMessage(connection.get()) : "out of memory";
    release(nullptr);
    return Error(ErrorCode::kUnavailable, "cannot connect to PostgreSQL", "postgres connect: " + detail);
  }
  // Quiet NOTICEs (for example from VACUUM) instead of printing them on stderr.
  PQsetNoticeProcessor(connection.get(), [](void*, const char*) {}, nullptr);
  return connection;
}

void PostgresDatabase::release(Connection connection) {
  {
    const std::lock_guard lock(mutex_);
    if (connection && PQstatus(connection.get()) == CONNECTION_OK &&
        PQtransactionStatus(connection.get()) == PQTRANS_IDLE) {
      idle_.push_back(std::move(connection));
    } else {
      --open_;  // a broken connection closes when `connection` goes out of scope
    }
  }
  released_.notify_one();
}

Result<void> PostgresDatabase::transact(const std::function<Result<void>(Transaction&)>& work) {
  Result<Connection> connection = acquire();
  if (!connection) return connection.error();
  PGconn* raw = connection->get();
  Result<void> done = ok_result();
  if (Result<PgResult> begun = run(raw, "BEGIN", {}); !begun) {
    done = begun.error();
  } else {
    PostgresTransaction transaction(raw);
    done = work(transaction);
    if (done) {
      if (Result<PgResult> committed = run(raw, "COMMIT", {}); !committed) done = committed.error();
    }
    if (!done && PQtransactionStatus(raw) != PQTRANS_IDLE) {
      (void)run(raw, "ROLLBACK", {});  // the work's error is the one to report
    }
  }
  release(std::move(*connection));
  return done;
}

Result<ReclaimReport> PostgresDatabase::reclaim_space(std::span<const ReclaimTarget> tables) {
  Result<Connection> connection = acquire();
  if (!connection) return connection.error();
  ReclaimReport report{.complete = true, .steps = {}};
  Result<void> failed = ok_result();
  for (const ReclaimTarget& target : tables) {
    if (!is_sql_identifier(target.table)) fatal("reclaim_space got a table name that is not an identifier");
    const std::string step = (target.rewrite ? "VACUUM FULL " : "VACUUM ") + target.table;
    if (Result<PgResult> vacuumed = run(connection->get(), step, {}); !vacuumed) {
      failed = vacuumed.error();
      break;
    }
    report.steps += (report.steps.empty() ? "" : ",") + step;
  }
  release(std::move(*connection));
  if (!failed) return failed.error();
  return report;
}

}  // namespace wik::store
