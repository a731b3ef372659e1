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
//
// An app secret rotation (docs/security.md) is app.previous_secret plus app.previous_secret_until,
// an RFC 3339 UTC time at most kMaxSecretRotationWindow after loading: until then both secrets
// verify incoming signatures; outgoing calls are signed with app.secret alone.
#pragma once

#include <wik/config.h>
#include <wik/result.h>

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "config/environment.h"

namespace wik::config {

using TimePoint = std::chrono::system_clock::time_point;

// How far ahead app.previous_secret_until may be: a rotation's window is bounded.
inline constexpr std::chrono::days kMaxSecretRotationWindow{7};

// Returns the configuration in `file` (defaults without one) with the environment's overrides
// applied, every value checked. `now` is when app.previous_secret_until is measured from.
Result<Config> load_config(const std::optional<std::filesystem::path>& file, const Environment& env,
                           TimePoint now = std::chrono::system_clock::now());

// Returns kConfig naming app.id and/or app.secret when `config` lacks them, and how to supply each.
// For the commands that talk to Workplace; loading alone does not require them.
Result<void> require_app_credentials(const Config& config);

// Returns the app secrets an incoming signature may be made with at `now`: app.secret, then
// app.previous_secret while `now` is before app.previous_secret_until.
std::vector<Secret> incoming_app_secrets(const Config& config, TimePoint now);

// Returns what a valid configuration still ought to change at `now`, one sentence each (today: a
// previous app secret whose window has closed, which verifies nothing any more). For `wik doctor`
// and the startup log; never contains a secret.
std::vector<std::string> config_warnings(const Config& config, TimePoint now);

// Returns the configuration file to load when none is named: $WIK_CONFIG if set, else ./wik.toml if
// it exists, else nullopt (run on defaults and the environment).
std::optional<std::filesystem::path> default_config_path(const Environment& env);

}  // namespace wik::config
