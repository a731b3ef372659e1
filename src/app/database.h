// open_database: the configured store engine (SQLite file or PostgreSQL server), opened. The one
// place that chooses an engine from a Config, for `wik serve` and the commands that touch the store.
#pragma once

#include <wik/config.h>
#include <wik/result.h>

#include <memory>

#include "store/database.h"

namespace wik::app {

// Returns the database `config.store` names; the engine's error when it cannot be opened.
Result<std::unique_ptr<store::Database>> open_database(const Config& config);

}  // namespace wik::app
