// Cryptographically secure randomness from OpenSSL's DRBG.
//
// RandomSource is the seam for code that needs randomness it may want to make repeatable in tests
// (ids, jitter); SecureRandomSource is the real one. Nonces and keys never go through the seam:
// they call secure_random_bytes directly, so no test double can weaken them.
// A failing DRBG is a broken invariant and aborts.
#pragma once

#include "core/bytes.h"

#include <cstddef>

namespace wik::core {

// Returns `count` random bytes.
Bytes secure_random_bytes(std::size_t count);

// Returns base64url text of `byte_count` random bytes: an unguessable token for URLs and cookies.
std::string secure_random_token(std::size_t byte_count = 32);

class RandomSource {
 public:
  virtual ~RandomSource() = default;
  // Returns `count` bytes from this source.
  virtual Bytes bytes(std::size_t count) = 0;
};

class SecureRandomSource final : public RandomSource {
 public:
  // wik::core::RandomSource
  Bytes bytes(std::size_t count) override { return secure_random_bytes(count); }
};

}  // namespace wik::core
