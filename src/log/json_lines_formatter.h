// JsonLinesFormatter: an spdlog formatter that writes each record as one JSON object on one line,
//   {"time":"2026-11-29T03:04:05.123Z","level":"info","logger":"wik","msg":"listening on :8080"}
// for log collectors. time is UTC with milliseconds; level is spdlog's name (trace, debug, info,
// warning, error, critical). Strings are escaped per RFC 8259 (quote, backslash, and control
// characters, the latter as \u00XX or their short forms), and each byte that is not part of
// well-formed UTF-8 becomes U+FFFD, so every line parses as JSON whatever a message holds.
// Stateless and thread-safe.
#pragma once

#include <spdlog/formatter.h>

#include <memory>

namespace wik::log {

class JsonLinesFormatter final : public spdlog::formatter {
 public:
  // spdlog::formatter
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override;
  std::unique_ptr<spdlog::formatter> clone() const override;
};

}  // namespace wik::log
