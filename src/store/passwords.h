// Password hashing for the vendor's own accounts: argon2id through libsodium's crypto_pwhash_str,
// whose output names its own algorithm, salt and cost, so verification needs no other input and
// costs can be raised without a migration. Thread-safe.
#pragma once

#include <wik/result.h>
#include <wik/secret.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace wik::store {

// argon2id cost. The defaults are libsodium's INTERACTIVE level (2 passes, 64 MiB);
// tests use minimum() to stay fast.
struct PasswordCost {
  std::uint64_t passes = 2;
  std::size_t memory_bytes = std::size_t{64} << 20;

  // Returns libsodium's minimum cost: for tests only, never for real accounts.
  static PasswordCost minimum() noexcept;
};

// Returns the encoded argon2id hash of `password`, or kUnavailable when memory for it is lacking.
Result<std::string> hash_password(const Secret& password, const PasswordCost& cost);

// Returns true when `password` matches `encoded_hash`; false for a mismatch or a malformed hash.
bool verify_password(const Secret& password, std::string_view encoded_hash);

}  // namespace wik::store
