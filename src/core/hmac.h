// Message authentication and hashing on OpenSSL's EVP interface: HMAC-SHA256, HMAC-SHA1 (only
// for the platform's legacy X-Hub-Signature header) and SHA-256. Pure functions; thread-safe.
// Results are raw digest bytes; use core/hex.h for the text forms the platform sends.
#pragma once

#include "core/bytes.h"

namespace wik::core {

enum class DigestAlgorithm { kSha1, kSha256 };

// Returns HMAC(key, message) with `algorithm` (20 bytes for SHA-1, 32 for SHA-256).
Bytes hmac(DigestAlgorithm algorithm, BytesView key, BytesView message);

inline Bytes hmac_sha256(BytesView key, BytesView message) {
  return hmac(DigestAlgorithm::kSha256, key, message);
}
inline Bytes hmac_sha1(BytesView key, BytesView message) {
  return hmac(DigestAlgorithm::kSha1, key, message);
}

// Returns the 32-byte SHA-256 digest of `message`.
Bytes sha256(BytesView message);

}  // namespace wik::core
