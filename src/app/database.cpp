#include "app/database.h"

#include "store/postgres/postgres_database.h"
#include "store/sqlite/sqlite_database.h"

namespace wik::app {

Result<std::unique_ptr<store::Database>> open_database(const Config& config) {
  if (config.store.engine == StoreEngine::kPostgres) {
    auto database = store::PostgresDatabase::open({.conninfo = std::string(config.store.postgres_url.expose())});
    if (!database) return database.error();
    return std::unique_ptr<store::Database>(std::move(*database));
  }
  auto database = store::SqliteDatabase::open({.path = config.store.sqlite_path});
  if (!database) return database.error();
  return std::unique_ptr<store::Database>(std::move(*database));
}

}  // namespace wik::app
