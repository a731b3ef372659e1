// Hexadecimal encoding of byte strings. Encoding is lower-case; decoding accepts either case and
// rejects odd lengths and non-hex characters.
#pragma once

#include <wik/result.h>

#include "core/bytes.h"

namespace wik::core {

// Returns the lower-case hex text of `bytes` (two characters per byte).
std::string to_hex(BytesView bytes);

// Returns the bytes `hex` encodes, or kMalformed.
Result<Bytes> from_hex(std::string_view hex);

}  // namespace wik::core
