// ascii: case folding for protocol text (emails, schemes, host names, identifiers, command words),
// where only ASCII letters fold and every other byte, UTF-8 included, stays as it is.
#pragma once

#include <string>
#include <string_view>

namespace wik::core {

// Returns `text` with A-Z turned into a-z.
std::string ascii_lower(std::string_view text);

}  // namespace wik::core
