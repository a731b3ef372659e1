// Byte strings in wik/core: std::string holds bytes (not necessarily text) and std::string_view
// borrows them. This header only names that convention for readers; it adds no type.
#pragma once

#include <string>
#include <string_view>

namespace wik::core {

using Bytes = std::string;
using BytesView = std::string_view;

}  // namespace wik::core
