// AES-256-GCM authenticated encryption (OpenSSL EVP), the primitive under sealed_box.h.
// Pure functions, thread-safe. A wrong key, nonce, associated data or any altered byte makes
// decryption fail with kBadSignature; nothing of the plaintext is returned then.
#pragma once

#include <wik/result.h>

#include "core/bytes.h"

#include <cstddef>

namespace wik::core {

inline constexpr std::size_t kAeadKeySize = 32;
inline constexpr std::size_t kAeadNonceSize = 12;
inline constexpr std::size_t kAeadTagSize = 16;

// Returns ciphertext followed by the 16-byte tag.
// REQUIRES: key.size() == kAeadKeySize, nonce.size() == kAeadNonceSize (violations abort).
Bytes aes256gcm_encrypt(BytesView key, BytesView nonce, BytesView associated_data, BytesView plaintext);

// Returns the plaintext of `ciphertext_and_tag`, or kBadSignature when it does not authenticate
// (kMalformed when it is shorter than a tag). Same REQUIRES as aes256gcm_encrypt.
Result<Bytes> aes256gcm_decrypt(BytesView key, BytesView nonce, BytesView associated_data,
                                BytesView ciphertext_and_tag);

}  // namespace wik::core
