#include "core/hmac.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <wik/result.h>

namespace wik::core {

Bytes hmac(DigestAlgorithm algorithm, BytesView key, BytesView message) {
  const char* digest = algorithm == DigestAlgorithm::kSha1 ? "SHA1" : "SHA256";
  static const unsigned char kEmpty = 0;  // EVP_Q_mac wants a non-null key even when it is empty
  Bytes out(EVP_MAX_MD_SIZE, '\0');
  std::size_t length = 0;
  const auto* key_bytes = key.empty() ? &kEmpty : reinterpret_cast<const unsigned char*>(key.data());
  const auto* message_bytes = reinterpret_cast<const unsigned char*>(message.data());
  if (EVP_Q_mac(nullptr, "HMAC", nullptr, digest, nullptr, key_bytes, key.size(), message_bytes,
                message.size(), reinterpret_cast<unsigned char*>(out.data()), out.size(), &length) == nullptr) {
    fatal("EVP_Q_mac failed: OpenSSL cannot compute HMAC");
  }
  out.resize(length);
  return out;
}

Bytes sha256(BytesView message) {
  Bytes out(EVP_MAX_MD_SIZE, '\0');
  unsigned int length = 0;
  if (EVP_Digest(message.data(), message.size(), reinterpret_cast<unsigned char*>(out.data()), &length,
                 EVP_sha256(), nullptr) != 1) {
    fatal("EVP_Digest failed: OpenSSL cannot compute SHA-256");
  }
  out.resize(length);
  return out;
}

}  // namespace wik::core
