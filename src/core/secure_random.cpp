#include "core/secure_random.h"

#include <openssl/rand.h>

#include <climits>

#include <wik/result.h>

#include "core/base64url.h"

namespace wik::core {

Bytes secure_random_bytes(std::size_t count) {
  Bytes out(count, '\0');
  if (count > static_cast<std::size_t>(INT_MAX)) fatal("secure_random_bytes: request too large");
  if (count > 0 && RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(count)) != 1) {
    fatal("RAND_bytes failed: no secure randomness available");
  }
  return out;
}

std::string secure_random_token(std::size_t byte_count) {
  return base64url_encode(secure_random_bytes(byte_count));
}

}  // namespace wik::core
