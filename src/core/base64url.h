// base64url (RFC 4648 section 5) as Facebook's signed_request uses it: encoding omits padding;
// decoding accepts input with or without correct padding and rejects everything else (the
// standard alphabet's '+' and '/', whitespace, misplaced or excess '=', impossible lengths, and
// non-zero leftover bits, so every byte string has exactly one accepted encoding besides padding).
#pragma once

#include <wik/result.h>

#include "core/bytes.h"

namespace wik::core {

// Returns the unpadded base64url text of `bytes`.
std::string base64url_encode(BytesView bytes);

// Returns the bytes `text` encodes, or kMalformed with the reason.
Result<Bytes> base64url_decode(std::string_view text);

}  // namespace wik::core
