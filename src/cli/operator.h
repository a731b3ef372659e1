// What the operator commands (installs, purge, webhooks, api) share: the configured store, opened as
// `wik serve` opens it but never migrated (an out-of-date schema is an error that says to run
// `wik migrate`), and the one way they print a time. `wik demo` opens its store the same way.
#pragma once

#include <wik/config.h>
#include <wik/result.h>

#include <memory>
#include <string>

#include "cli/commands.h"
#include "store/store.h"

namespace wik::cli {

struct OperatorStore {
  Config config;
  std::unique_ptr<store::Store> store;
};

// Returns the store `config` configures, opened with its key ring and `options`: kConfig when the
// configuration lacks the key ring or, without options.migrate, the schema is out of date; the
// engine's error when the database cannot be opened.
Result<std::unique_ptr<store::Store>> open_configured_store(const Config& config, store::StoreOptions options);

// Returns the configuration --config names (else $WIK_CONFIG, else ./wik.toml) and the store it
// configures, opened with its key ring: kConfig when the configuration is invalid, lacks the key
// ring, or the schema is out of date; the engine's error when the database cannot be opened.
Result<OperatorStore> open_operator_store(const GlobalOptions& global);

// Returns `time` in UTC, to the second: "2026-01-31T09:30:00Z".
std::string utc_text(store::TimePoint time);

}  // namespace wik::cli
