// PostgresDatabase: the shared engine, for several `wik serve` replicas on one PostgreSQL.
//
// Keeps a pool of libpq connections (opened on demand, up to pool_size; a caller waits for a free
// one). Each transact() runs BEGIN ... COMMIT on one connection at READ COMMITTED; success means
// PostgreSQL reported the commit (durable with the server's default synchronous_commit=on).
// Round trips are what a statement costs on loopback, so each connection prepares a statement the
// first time it runs it (up to kMaxPreparedStatements per connection) and runs it by name after;
// the BEGIN travels with a transaction's first statement, and the preparing with its first run, in
// one libpq pipeline. After execute_script (migrations), every connection forgets what it prepared.
// A broken connection is dropped from the pool and reported as kUnavailable; the next call opens
// a new one. Error reasons come from SQLSTATE classes, never from server messages, which may
// quote values; those go to the detail. Thread-safe.
#pragma once

#include <wik/result.h>

#include "store/database.h"

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

struct pg_conn;

namespace wik::store {

struct PostgresOptions {
  // libpq connection string, e.g. "host=/run/postgresql dbname=wik" (never logged: it may hold
  // a password).
  std::string conninfo;
  std::size_t pool_size = 4;  // REQUIRES: > 0
};

class PostgresDatabase final : public Database {
 public:
  // Connects once to check the settings: kUnavailable when the server cannot be reached.
  static Result<std::unique_ptr<PostgresDatabase>> open(PostgresOptions options);
  ~PostgresDatabase() override;

  // wik::store::Database
  Dialect dialect() const noexcept override { return Dialect::kPostgres; }
  Result<void> transact(const std::function<Result<void>(Transaction&)>& work) override;
  Result<ReclaimReport> reclaim_space(std::span<const ReclaimTarget> tables) override;

 private:
  class PostgresTransaction;
  struct Session;  // one pooled connection and the statements prepared on it
  struct SessionDeleter {
    void operator()(Session* session) const noexcept;
  };
  using Connection = std::unique_ptr<Session, SessionDeleter>;

  explicit PostgresDatabase(PostgresOptions options) : options_(std::move(options)) {}
  Result<Connection> acquire();
  void release(Connection connection);

  const PostgresOptions options_;
  std::mutex mutex_;
  std::condition_variable released_;
  std::vector<Connection> idle_;  // guarded by mutex_
  std::size_t open_ = 0;          // connections idle or in use; guarded by mutex_
  // Bumped by every execute_script: a connection that prepared under an older value forgets its
  // statements before its next transaction (a migration may change what they return).
  std::atomic<std::uint64_t> schema_generation_{0};
};

}  // namespace wik::store
