#include "store/test_engines.h"

#include "store/postgres/postgres_database.h"
#include "store/sqlite/sqlite_database.h"
#include "support/postgres_cluster.h"

namespace wik::store::testing {
namespace fs = std::filesystem;

Result<void> SqliteEngine::create() { return ok_result(); }

Result<std::unique_ptr<Database>> SqliteEngine::open() {
  Result<std::unique_ptr<SqliteDatabase>> database = SqliteDatabase::open({.path = dir_.path() / "wik.db"});
  if (!database) return database.error();
  return std::unique_ptr<Database>(std::move(*database));
}

Result<void> SqliteEngine::flush(Database&) { return ok_result(); }

DatabaseFiles SqliteEngine::files() {
  return {.data = {dir_.path() / "wik.db"}, .wal = {dir_.path() / "wik.db-wal"}};
}

const char* SqliteEngine::tables_with_column_sql() {
  return "SELECT m.name FROM sqlite_master m, pragma_table_info(m.name) c WHERE m.type = 'table' AND c.name = $1 "
         "ORDER BY m.name";
}

Result<void> PostgresEngine::create() {
  Result<wik::testing::PostgresCluster*> cluster = wik::testing::PostgresCluster::shared();
  if (!cluster) return cluster.error();
  Result<std::string> conninfo = (*cluster)->create_database();
  if (!conninfo) return conninfo.error();
  conninfo_ = *conninfo;
  data_dir_ = (*cluster)->data_dir();
  return ok_result();
}

Result<std::unique_ptr<Database>> PostgresEngine::open() {
  Result<std::unique_ptr<PostgresDatabase>> database = PostgresDatabase::open({.conninfo = conninfo_});
  if (!database) return database.error();
  return std::unique_ptr<Database>(std::move(*database));
}

Result<void> PostgresEngine::flush(Database& database) {
  return database.transact([](Transaction& tx) -> Result<void> {
    Result<std::int64_t> done = tx.execute("CHECKPOINT");
    if (!done) return done.error();
    return ok_result();
  });
}

DatabaseFiles PostgresEngine::files() {
  DatabaseFiles files;
  Result<std::unique_ptr<Database>> database = open();
  if (!database) fatal("cannot open the test database: " + database.error().detail());
  Result<Rows> oid = transact_value(**database, [](Transaction& tx) {
    return tx.query("SELECT oid FROM pg_database WHERE datname = current_database()");
  });
  if (!oid) fatal("cannot find the test database's directory: " + oid.error().detail());
  for (const fs::path& directory : {data_dir_ / "base" / oid->at(0).text(0), data_dir_ / "global"}) {
    for (const auto& entry : fs::directory_iterator(directory)) {
      if (entry.is_regular_file()) files.data.push_back(entry.path());
    }
  }
  for (const auto& entry : fs::directory_iterator(data_dir_ / "pg_wal")) {
    if (entry.is_regular_file()) files.wal.push_back(entry.path());
  }
  return files;
}

const char* PostgresEngine::tables_with_column_sql() {
  return "SELECT table_name FROM information_schema.columns WHERE table_schema = 'public' AND column_name = $1 "
         "ORDER BY table_name";
}

}  // namespace wik::store::testing
