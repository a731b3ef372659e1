#include "log/json_lines_formatter.h"

#include <chrono>
#include <ctime>
#include <string_view>

#include <fmt/chrono.h>
#include <fmt/format.h>

namespace wik::log {
namespace {

constexpr std::string_view kReplacementCharacter = "\xEF\xBF\xBD";  // U+FFFD in UTF-8

// Returns the length of the well-formed UTF-8 sequence at text[i] (Unicode table 3-7), or 0.
std::size_t utf8_sequence_length(std::string_view text, std::size_t i) {
  const auto byte = [&text](std::size_t k) { return static_cast<unsigned char>(text[k]); };
  const unsigned char lead = byte(i);
  if (lead < 0x80) return 1;
  std::size_t length = 0;
  unsigned char second_min = 0x80;
  unsigned char second_max = 0xBF;
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3;
    if (lead == 0xE0) second_min = 0xA0;  // no overlong forms
    if (lead == 0xED) second_max = 0x9F;  // no surrogates
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4;
    if (lead == 0xF0) second_min = 0x90;  // no overlong forms
    if (lead == 0xF4) second_max = 0x8F;  // nothing above U+10FFFF
  } else {
    return 0;
  }
  if (i + length > text.size() || byte(i + 1) < second_min || byte(i + 1) > second_max) return 0;
  for (std::size_t k = 2; k < length; ++k) {
    if ((byte(i + k) & 0xC0) != 0x80) return 0;
  }
  return length;
}

// Appends `text` to `out` as a JSON string, quotes included.
void append_json_string(std::string_view text, spdlog::memory_buf_t& out) {
  out.push_back('"');
  std::size_t i = 0;
  while (i < text.size()) {
    const char c = text[i];
    const auto byte = static_cast<unsigned char>(c);
    std::string_view escape;
    switch (c) {
      case '"': escape = "\\\""; break;
      case '\\': escape = "\\\\"; break;
      case '\b': escape = "\\b"; break;
      case '\f': escape = "\\f"; break;
      case '\n': escape = "\\n"; break;
      case '\r': escape = "\\r"; break;
      case '\t': escape = "\\t"; break;
      default: break;
    }
    if (!escape.empty()) {
      out.append(escape);
      ++i;
    } else if (byte < 0x20 || byte == 0x7F) {
      fmt::format_to(fmt::appender(out), "\\u{:04x}", byte);
      ++i;
    } else if (const std::size_t length = utf8_sequence_length(text, i); length == 0) {
      out.append(kReplacementCharacter);
      ++i;
    } else {
      out.append(text.substr(i, length));
      i += length;
    }
  }
  out.push_back('"');
}

void append_utc_time(std::chrono::system_clock::time_point time, spdlog::memory_buf_t& out) {
  const auto seconds = std::chrono::floor<std::chrono::seconds>(time);
  const auto millis = std::chrono::duration_cast<std::chrono::milliseconds>(time - seconds).count();
  fmt::format_to(fmt::appender(out), "\"{:%Y-%m-%dT%H:%M:%S}.{:03}Z\"",
                 fmt::gmtime(std::chrono::system_clock::to_time_t(seconds)), millis);
}

std::string_view view(spdlog::string_view_t text) { return {text.data(), text.size()}; }

}  // namespace

void JsonLinesFormatter::format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) {
  dest.append(std::string_view(R"({"time":)"));
  append_utc_time(msg.time, dest);
  dest.append(std::string_view(R"(,"level":)"));
  append_json_string(view(spdlog::level::to_string_view(msg.level)), dest);
  dest.append(std::string_view(R"(,"logger":)"));
  append_json_string(view(msg.logger_name), dest);
  dest.append(std::string_view(R"(,"msg":)"));
  append_json_string(view(msg.payload), dest);
  dest.append(std::string_view("}\n"));
}

std::unique_ptr<spdlog::formatter> JsonLinesFormatter::clone() const { return std::make_unique<JsonLinesFormatter>(); }

}  // namespace wik::log
