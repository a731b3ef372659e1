// UTF-8 text measured in characters (code points), as the platform's limits count them.
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>

namespace wik::core {

// Returns the length of the UTF-8 sequence that starts with byte `lead` (1–4), or 0 when `lead`
// cannot start one.
std::size_t utf8_sequence_length(unsigned char lead) noexcept;

// Returns the number of code points in `text`, or nullopt when it is not well-formed UTF-8 (a bad
// lead byte, a truncated sequence, a bad continuation byte, an overlong form, a UTF-16 surrogate or
// a code point past U+10FFFF).
std::optional<std::size_t> utf8_length(std::string_view text) noexcept;

// Returns true when well-formed UTF-8 `text` holds a control character: C0 (line breaks and tabs
// included), DEL or C1 (U+0080-U+009F).
bool has_control_character(std::string_view text) noexcept;

}  // namespace wik::core
