// Loading wik::Config (include/wik/config.h) from wik.toml and the environment.
//
// Each setting `section.key` may be given in wik.toml and overridden by the variable
// WIK_SECTION_KEY (upper case); a variable that is set but empty counts as unset. Secrets
// (app.secret, store.postgres_url, keys.ring) are never accepted in wik.toml: they come from the
// variable (WIK_APP_SECRET, ...) or from the file that `<key>_file` names (in wik.toml or as
// WIK_APP_SECRET_FILE, ...). docs/configuration.md is the user's reference.
//
// Every problem is a kConfig error whose reason names the setting and where the bad value came
// from (the file and line, or the variable), e.g.
//   server.port: expected an integer 0-65535, got "abc" (from WIK_SERVER_PORT)
// Unknown sections and settings in wik.toml are errors (typos do not silently fall back to
// defaults). Reasons never contain a secret value. Thread-safe; reads files.
#pragma once

#include <wik/config.h>
#include <wik/result.h>

#include <filesystem>
#include <optional>

#include "config/environment.h"

namespace wik::config {

// Returns the configuration in `file` (defaults without one) with the environment's overrides
// applied, every value checked.
Result<Config> load_config(const std::optional<std::filesystem::path>& file, const Environment& env);

// Returns kConfig naming app.id and/or app.secret when `config` lacks them, and how to supply each.
// For the commands that talk to Workplace; loading alone does not require them.
Result<void> require_app_credentials(const Config& config);

// Returns the configuration file to load when none is named: $WIK_CONFIG if set, else ./wik.toml if
// it exists, else nullopt (run on defaults and the environment).
std::optional<std::filesystem::path> default_config_path(const Environment& env);

}  // namespace wik::config
