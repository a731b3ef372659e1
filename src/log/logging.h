// Logging for the whole kit: spdlog loggers that write text or JSON lines, at the level the
// configuration's [log] section chooses, always through a RedactingSink.
//
//   log::init_logging(config.log);         // once, at start-up: the default logger "wik" on stderr
//   log::register_config_secrets(config);  // then scrub the loaded secrets from every line
//   spdlog::info("listening on {}", port);  // anywhere afterwards
//
// Text lines read "2026-11-29T03:04:05.123Z info wik: message" (UTC); JSON lines are described in
// log/json_lines_formatter.h. Code logs through spdlog's free functions or a logger from
// make_logger; nothing should add a sink that bypasses the RedactingSink. Secret values are
// registered with the guard as soon as they are loaded (register_config_secrets, and
// register_secret_value in log/redacting_sink.h for others).
#pragma once

#include <wik/config.h>

#include <spdlog/logger.h>

#include <memory>
#include <string>

namespace wik::log {

// Makes a logger named "wik" that writes to standard error through a RedactingSink, and installs
// it as spdlog's default logger in place of any earlier one. Call it before other threads log.
void init_logging(const LogOptions& options);

// Registers the secrets `config` holds (the app secret, the PostgreSQL URL, the key ring text) with
// the redaction guard (register_secret_value). Call it as soon as the configuration is loaded.
void register_config_secrets(const Config& config);

// Returns a logger named `name` that writes to `target` through a RedactingSink, formatted and
// filtered as `options` say. It is not registered with spdlog. `target` should be an _mt sink when
// several threads log.
std::shared_ptr<spdlog::logger> make_logger(std::string name, const LogOptions& options, spdlog::sink_ptr target);

}  // namespace wik::log
