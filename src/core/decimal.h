// Strict parsing of the platform's decimal integer fields (appsecret_time, issued_at, ids).
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace wik::core {

// Returns the value of `text` if it is 1 to 18 ASCII digits with no sign, space or fraction;
// std::nullopt otherwise (so the result always fits in int64).
std::optional<std::int64_t> parse_unsigned_decimal(std::string_view text) noexcept;

}  // namespace wik::core
