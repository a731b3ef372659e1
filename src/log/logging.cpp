#include "log/logging.h"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include "log/json_lines_formatter.h"
#include "log/redacting_sink.h"

namespace wik::log {
namespace {

constexpr const char* kTextPattern = "%Y-%m-%dT%H:%M:%S.%eZ %l %n: %v";

spdlog::level::level_enum to_spdlog_level(LogLevel level) {
  switch (level) {
    case LogLevel::kTrace: return spdlog::level::trace;
    case LogLevel::kDebug: return spdlog::level::debug;
    case LogLevel::kInfo: return spdlog::level::info;
    case LogLevel::kWarn: return spdlog::level::warn;
    case LogLevel::kError: return spdlog::level::err;
    case LogLevel::kOff: return spdlog::level::off;
  }
  return spdlog::level::info;
}

std::unique_ptr<spdlog::formatter> make_formatter(LogFormat format) {
  if (format == LogFormat::kJson) return std::make_unique<JsonLinesFormatter>();
  return std::make_unique<spdlog::pattern_formatter>(kTextPattern, spdlog::pattern_time_type::utc);
}

}  // namespace

void init_logging(const LogOptions& options) {
  spdlog::set_default_logger(make_logger("wik", options, std::make_shared<spdlog::sinks::stderr_sink_mt>()));
}

void register_config_secrets(const Config& config) {
  register_secret_value(config.app.secret);
  register_secret_value(config.app.previous_secret);
  register_secret_value(config.app.verify_token);
  register_secret_value(config.store.postgres_url);
  if (config.keys.ring) register_secret_value(*config.keys.ring);
}

std::shared_ptr<spdlog::logger> make_logger(std::string name, const LogOptions& options, spdlog::sink_ptr target) {
  auto sink = std::make_shared<RedactingSink>(std::move(target));
  sink->set_formatter(make_formatter(options.format));
  auto logger = std::make_shared<spdlog::logger>(std::move(name), std::move(sink));
  logger->set_level(to_spdlog_level(options.level));
  return logger;
}

}  // namespace wik::log
