// printable: untrusted text made safe to quote in an error reason or a terminal line.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace wik::core {

// Returns `text` fit for an error reason: at most `max` bytes (then "..."), with quotes,
// backslashes, control characters and non-ASCII bytes escaped (\" \\ \xNN).
std::string printable(std::string_view text, std::size_t max = 40);

}  // namespace wik::core
