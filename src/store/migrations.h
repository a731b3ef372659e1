// Versioned schema migrations (docs/storage.md, "Schema").
//
// A migration is one SQL script for one engine dialect. migrate() applies the missing ones in
// version order, each in its own transaction together with its row in schema_migrations, so a
// failing migration leaves the schema exactly as the previous one left it. Several processes may
// migrate at once: on PostgreSQL an advisory lock serialises them, on SQLite the write lock does.
// Run by `wik migrate`, and by Store::open when StoreOptions::migrate is set.
#pragma once

#include <wik/result.h>

#include "core/clock.h"
#include "store/database.h"

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace wik::store {

struct Migration {
  std::int64_t version = 0;
  std::string name;
  std::string sql;  // in the dialect the list was built for
};

// Returns the kit's migrations for `dialect`, in version order.
std::vector<Migration> kit_migrations(Dialect dialect);

// Returns the highest applied migration version, 0 for an empty database.
Result<std::int64_t> schema_version(Database& database);

// Applies every migration in `migrations` above the database's version and returns the version
// reached. The first failure stops it and is returned with the failing version in the reason;
// the migrations before it stay applied. REQUIRES: `migrations` is in ascending version order.
Result<std::int64_t> migrate(Database& database, std::span<const Migration> migrations, const core::Clock& clock);

// A kit table that holds community rows, and the column naming the community.
struct CommunityTable {
  std::string_view table;
  std::string_view community_column;
};

// Returns the kit tables holding community rows in the current schema, in the order a purge
// empties them. Two more tables name communities and are handled apart: community_keys (deleted
// first, the crypto-shredding step) and purge_jobs (a finished job clears its community_id).
std::span<const CommunityTable> kit_community_tables() noexcept;

}  // namespace wik::store
