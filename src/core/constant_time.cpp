#include "core/constant_time.h"

#include <openssl/crypto.h>

namespace wik::core {

bool constant_time_equal(BytesView a, BytesView b) noexcept {
  if (a.size() != b.size()) return false;
  if (a.empty()) return true;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace wik::core
