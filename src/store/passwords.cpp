#include "store/passwords.h"

#include <sodium.h>

#include <array>
#include <mutex>

namespace wik::store {
namespace {

void ensure_sodium() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (sodium_init() < 0) fatal("libsodium failed to initialise");
  });
}

}  // namespace

PasswordCost PasswordCost::minimum() noexcept {
  return PasswordCost{.passes = crypto_pwhash_OPSLIMIT_MIN, .memory_bytes = crypto_pwhash_MEMLIMIT_MIN};
}

Result<std::string> hash_password(const Secret& password, const PasswordCost& cost) {
  ensure_sodium();
  std::array<char, crypto_pwhash_STRBYTES> out{};
  if (crypto_pwhash_str_alg(out.data(), password.expose().data(), password.size(), cost.passes, cost.memory_bytes,
                            crypto_pwhash_ALG_ARGON2ID13) != 0) {
    return Error(ErrorCode::kUnavailable, "password hashing ran out of memory");
  }
  return std::string(out.data());
}

bool verify_password(const Secret& password, std::string_view encoded_hash) {
  ensure_sodium();
  const std::string terminated(encoded_hash);
  return crypto_pwhash_str_verify(terminated.c_str(), password.expose().data(), password.size()) == 0;
}

}  // namespace wik::store
