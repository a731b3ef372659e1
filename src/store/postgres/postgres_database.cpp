#include "store/postgres/postgres_database.h"

#include <libpq-fe.h>

#include <charconv>
#include <unordered_map>

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

bool succeeded(const PGresult* result) {
  const ExecStatusType status = result != nullptr ? PQresultStatus(result) : PGRES_FATAL_ERROR;
  return status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK;
}

// Runs `sql` (one or more statements, no parameters) with the simple query protocol.
Result<PgResult> run_script(PGconn* connection, std::string_view sql) {
  const std::string script(sql);
  PgResult result(PQexec(connection, script.c_str()));
  if (!succeeded(result.get())) return error_of(connection, result.get(), "statement");
  return result;
}

// The text form of `params`, as libpq takes them: a null pointer for SQL NULL.
class ParamTexts {
 public:
  explicit ParamTexts(std::span<const SqlValue> params) : texts_(params.size()), values_(params.size(), nullptr) {
    for (std::size_t i = 0; i < params.size(); ++i) {
      if (const auto* integer = std::get_if<std::int64_t>(&params[i])) {
        texts_[i] = std::to_string(*integer);
      } else if (const auto* text = std::get_if<std::string_view>(&params[i])) {
        texts_[i] = std::string(*text);
      } else {
        continue;  // NULL
      }
      values_[i] = texts_[i].c_str();
    }
  }
  int count() const noexcept { return static_cast<int>(values_.size()); }
  const char* const* values() const noexcept { return values_.data(); }

 private:
  std::vector<std::string> texts_;
  std::vector<const char*> values_;
};

}  // namespace

struct PostgresDatabase::Session {
  explicit Session(PGconn* raw) : connection(raw) {}
  ~Session() { PQfinish(connection); }
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  // Forgets every prepared statement when the schema changed since they were prepared.
  Result<void> catch_up(std::uint64_t generation) {
    if (generation == schema_generation) return ok_result();
    if (!prepared.empty()) {
      if (Result<PgResult> forgotten = run_script(connection, "DEALLOCATE ALL"); !forgotten) {
        return forgotten.error();
      }
      prepared.clear();
    }
    schema_generation = generation;
    return ok_result();
  }

  // Runs one statement with `params`, after a BEGIN when `begin` is set, in one round trip:
  // prepared by name on this connection (and prepared now, in the same pipeline, the first time),
  // or unnamed once kMaxPreparedStatements are kept. Returns the statement's result, or the first
  // error of the pipeline.
  Result<PgResult> run(bool begin, std::string_view sql, std::span<const SqlValue> params) {
    const ParamTexts texts(params);
    std::string text(sql);
    const auto known = prepared.find(text);
    const bool prepare = known == prepared.end() && prepared.size() < kMaxPreparedStatements;
    const std::string name = known != prepared.end() ? known->second
                             : prepare                ? "wik_" + std::to_string(prepared.size() + 1)
                                                      : std::string();
    if (PQenterPipelineMode(connection) != 1) return broken("cannot enter pipeline mode");
    bool queued = true;
    if (begin) queued = PQsendQueryParams(connection, "BEGIN", 0, nullptr, nullptr, nullptr, nullptr, 0) == 1;
    if (queued && prepare) {
      queued = PQsendPrepare(connection, name.c_str(), text.c_str(), texts.count(), nullptr) == 1;
    }
    if (queued) {
      queued = name.empty() ? PQsendQueryParams(connection, text.c_str(), texts.count(), nullptr, texts.values(),
                                                nullptr, nullptr, 0) == 1
                            : PQsendQueryPrepared(connection, name.c_str(), texts.count(), texts.values(), nullptr,
                                                  nullptr, 0) == 1;
    }
    if (!queued || PQpipelineSync(connection) != 1) return broken("cannot send a statement");
    Result<std::vector<PgResult>> results = collect((begin ? 1 : 0) + (prepare ? 1 : 0) + 1);
    if (!results || PQexitPipelineMode(connection) != 1) return broken("lost the connection in a pipeline");
    if (prepare && succeeded(results->rbegin()[1].get())) prepared.emplace(std::move(text), name);
    for (const PgResult& result : *results) {
      if (PQresultStatus(result.get()) != PGRES_PIPELINE_ABORTED && !succeeded(result.get())) {
        return error_of(connection, result.get(), "statement");
      }
    }
    return std::move(results->back());
  }

  PGconn* connection;
  std::unordered_map<std::string, std::string> prepared;  // SQL text → statement name
  std::uint64_t schema_generation = 0;

 private:
  Error broken(std::string_view what) {
    return Error(ErrorCode::kUnavailable, "the database is unavailable",
                 "postgres " + std::string(what) + ": " + PQerrorMessage(connection));
  }

  // Reads the results of `requests` queued requests, in order, and of the sync that ends them.
  // Each request answers one result and then a null; after an error the rest answer
  // PGRES_PIPELINE_ABORTED.
  Result<std::vector<PgResult>> collect(int requests) {
    std::vector<PgResult> results;
    for (int i = 0; i < requests; ++i) {
      PgResult result(PQgetResult(connection));
      if (!result) return broken("lost the connection in a pipeline");
      while (PGresult* rest = PQgetResult(connection)) PQclear(rest);
      results.push_back(std::move(result));
    }
    const PgResult sync(PQgetResult(connection));
    if (!sync || PQresultStatus(sync.get()) != PGRES_PIPELINE_SYNC) return broken("lost the end of a pipeline");
    return results;
  }
};

class PostgresDatabase::PostgresTransaction final : public Transaction {
 public:
  PostgresTransaction(Session& session, std::atomic<std::uint64_t>& schema_generation)
      : session_(session), schema_generation_(schema_generation) {}

  // True once the BEGIN went out (with the first statement): only then is there anything to end.
  bool begun() const noexcept { return begun_; }

  // wik::store::Transaction
  Result<Rows> query_values(std::string_view sql, std::span<const SqlValue> params) override {
    Result<PgResult> result = run(sql, params);
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
    Result<PgResult> result = run(sql, params);
    if (!result) return result.error();
    const std::string_view tuples = PQcmdTuples(result->get());
    std::int64_t count = 0;
    std::from_chars(tuples.data(), tuples.data() + tuples.size(), count);
    return count;
  }

  Result<void> execute_script(std::string_view sql) override {
    if (!begun_) {
      if (Result<PgResult> begun = run_script(session_.connection, "BEGIN"); !begun) return begun.error();
      begun_ = true;
    }
    if (Result<PgResult> result = run_script(session_.connection, sql); !result) return result.error();
    schema_generation_.fetch_add(1);
    return ok_result();
  }

 private:
  Result<PgResult> run(std::string_view sql, std::span<const SqlValue> params) {
    const bool begin = !begun_;
    begun_ = true;  // even when the pipeline failed after it: ending the transaction is then harmless
    return session_.run(begin, sql, params);
  }

  Session& session_;
  std::atomic<std::uint64_t>& schema_generation_;
  bool begun_ = false;
};

void PostgresDatabase::SessionDeleter::operator()(Session* session) const noexcept { delete session; }

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
  Connection connection(new Session(PQconnectdb(options_.conninfo.c_str())));
  if (connection->connection == nullptr || PQstatus(connection->connection) != CONNECTION_OK) {
    std::string detail = connection->connection != nullptr ? PQerrorMessage(connection->connection) : "out of memory";
    release(nullptr);
    return Error(ErrorCode::kUnavailable, "cannot connect to PostgreSQL", "postgres connect: " + detail);
  }
  // Quiet NOTICEs (for example from VACUUM) instead of printing them on stderr.
  PQsetNoticeProcessor(connection->connection, [](void*, const char*) {}, nullptr);
  // The kit's statements are short, so compiling them never pays: with stale statistics (a backlog
  // that arrived faster than autovacuum analyses it) the planner's estimates pass jit_above_cost
  // and a claim spent more time in the JIT compiler than running.
  if (Result<PgResult> set = run_script(connection->connection, "SET jit = off"); !set) {
    release(nullptr);
    return set.error().with_context("PostgreSQL session setup");
  }
  return connection;
}

void PostgresDatabase::release(Connection connection) {
  {
    const std::lock_guard lock(mutex_);
    PGconn* raw = connection ? connection->connection : nullptr;
    if (raw != nullptr && PQstatus(raw) == CONNECTION_OK && PQtransactionStatus(raw) == PQTRANS_IDLE &&
        PQpipelineStatus(raw) == PQ_PIPELINE_OFF) {
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
  Session& session = **connection;
  Result<void> done = session.catch_up(schema_generation_.load());
  if (done) {
    PostgresTransaction transaction(session, schema_generation_);
    done = work(transaction);
    if (done && transaction.begun()) {
      if (Result<PgResult> committed = run_script(session.connection, "COMMIT"); !committed) done = committed.error();
    }
    if (!done && PQtransactionStatus(session.connection) != PQTRANS_IDLE) {
      (void)run_script(session.connection, "ROLLBACK");  // the work's error is the one to report
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
    if (Result<PgResult> vacuumed = run_script((*connection)->connection, step); !vacuumed) {
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
