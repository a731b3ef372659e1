#include "bot/limit_checks.h"

#include <string>

#include "core/utf8.h"
#include "http/url.h"

namespace wik::bot {

Result<void> check_length(std::string_view what, std::string_view text, std::size_t max) {
  const auto count = core::utf8_length(text);
  if (!count) return Error(ErrorCode::kInvalidArgument, std::string(what) + " is not valid UTF-8");
  if (*count == 0) return Error(ErrorCode::kInvalidArgument, std::string(what) + " is empty");
  if (*count > max) {
    return Error(ErrorCode::kInvalidArgument, std::string(what) + " has " + std::to_string(*count) +
                                                  " characters; the platform allows " + std::to_string(max));
  }
  return ok_result();
}

Result<void> check_count(std::string_view owner, std::string_view items, std::size_t count, std::size_t max) {
  if (count <= max) return ok_result();
  return Error(ErrorCode::kInvalidArgument, std::string(owner) + " has " + std::to_string(count) + " " +
                                                std::string(items) + "; the platform allows at most " +
                                                std::to_string(max));
}

Result<void> check_web_url(std::string_view what, std::string_view url) {
  const auto parsed = http::parse_absolute_url(url);
  if (!parsed.ok() || (parsed->scheme() != "https" && parsed->scheme() != "http")) {
    return Error(ErrorCode::kInvalidArgument, std::string(what) + " needs an http(s) URL");
  }
  return ok_result();
}

}  // namespace wik::bot
