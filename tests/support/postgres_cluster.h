// PostgresCluster: a throw-away PostgreSQL server for tests.
//
// start() runs initdb and pg_ctl (as the unprivileged `postgres` OS user when the tests run as
// root, since initdb refuses root) on a fresh temporary directory, listening on a free loopback
// port and on a unix socket inside that directory. The destructor stops the server (immediate
// mode) and removes the directory. Binaries come from $WIK_PG_BINDIR, else
// /usr/lib/postgresql/15/bin. A cluster that cannot start is an error for the caller to fail on,
// never a reason to skip. Databases are created with psql, so this library needs no libpq.
// Not thread-safe; tests use it from the main thread.
#pragma once

#include <wik/result.h>

#include "support/temp_dir.h"

#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

namespace wik::testing {

struct PostgresClusterOptions {
  // fsync off makes test clusters fast; benchmarks turn it on to measure real commits.
  bool fsync = false;
};

class PostgresCluster {
 public:
  // Returns a running cluster, or kUnavailable with the failing step and its output in the detail.
  static Result<std::unique_ptr<PostgresCluster>> start(const PostgresClusterOptions& options = {});

  // Returns the cluster the current test process shares, started on first use with default
  // options and stopped at exit; the same error on every call when it could not start.
  static Result<PostgresCluster*> shared();

  ~PostgresCluster();
  PostgresCluster(const PostgresCluster&) = delete;
  PostgresCluster& operator=(const PostgresCluster&) = delete;

  // Creates a new empty database and returns its libpq connection string.
  Result<std::string> create_database();
  // Returns the connection string of database `name` (superuser `postgres`, unix socket).
  std::string conninfo(std::string_view name) const;
  // The data directory, for tests that scan the files a database leaves.
  std::filesystem::path data_dir() const { return dir_.path() / "data"; }
  int port() const noexcept { return port_; }

 private:
  PostgresCluster() = default;
  // Runs `command` as the cluster's OS user: kUnavailable naming `step` when it fails.
  Result<void> run_as_owner(std::string_view step, const std::string& command) const;

  TempDir dir_;
  std::string bindir_;
  int port_ = 0;
  int databases_ = 0;
  bool started_ = false;
};

}  // namespace wik::testing
