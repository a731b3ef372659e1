#include "core/aead.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <climits>
#include <memory>

namespace wik::core {
namespace {

using CipherContext = std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)>;

const unsigned char* bytes_of(BytesView view) { return reinterpret_cast<const unsigned char*>(view.data()); }
unsigned char* bytes_of(Bytes& bytes) { return reinterpret_cast<unsigned char*>(bytes.data()); }

int int_size(std::size_t size) {
  if (size > static_cast<std::size_t>(INT_MAX)) fatal("AES-256-GCM input larger than INT_MAX");
  return static_cast<int>(size);
}

CipherContext start(bool encrypt, BytesView key, BytesView nonce, BytesView associated_data) {
  if (key.size() != kAeadKeySize || nonce.size() != kAeadNonceSize) fatal("AES-256-GCM key or nonce has a wrong size");
  CipherContext ctx(EVP_CIPHER_CTX_new(), &EVP_CIPHER_CTX_free);
  int unused = 0;
  if (!ctx || EVP_CipherInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, bytes_of(key), bytes_of(nonce), encrypt ? 1 : 0) != 1 ||
      (!associated_data.empty() && EVP_CipherUpdate(ctx.get(), nullptr, &unused, bytes_of(associated_data),
                                                    int_size(associated_data.size())) != 1)) {
    fatal("OpenSSL could not start AES-256-GCM");
  }
  return ctx;
}

}  // namespace

Bytes aes256gcm_encrypt(BytesView key, BytesView nonce, BytesView associated_data, BytesView plaintext) {
  CipherContext ctx = start(true, key, nonce, associated_data);
  Bytes out(plaintext.size() + kAeadTagSize, '\0');
  int written = 0;
  int final_written = 0;
  if ((!plaintext.empty() &&
       EVP_EncryptUpdate(ctx.get(), bytes_of(out), &written, bytes_of(plaintext), int_size(plaintext.size())) != 1) ||
      EVP_EncryptFinal_ex(ctx.get(), bytes_of(out) + written, &final_written) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, static_cast<int>(kAeadTagSize),
                          bytes_of(out) + plaintext.size()) != 1) {
    fatal("OpenSSL could not encrypt with AES-256-GCM");
  }
  return out;
}

Result<Bytes> aes256gcm_decrypt(BytesView key, BytesView nonce, BytesView associated_data,
                                BytesView ciphertext_and_tag) {
  if (ciphertext_and_tag.size() < kAeadTagSize) return Error(ErrorCode::kMalformed, "sealed data is too short");
  const BytesView ciphertext = ciphertext_and_tag.substr(0, ciphertext_and_tag.size() - kAeadTagSize);
  Bytes tag(ciphertext_and_tag.substr(ciphertext.size()));
  CipherContext ctx = start(false, key, nonce, associated_data);
  Bytes out(ciphertext.size(), '\0');
  int written = 0;
  if (!ciphertext.empty() &&
      EVP_DecryptUpdate(ctx.get(), bytes_of(out), &written, bytes_of(ciphertext), int_size(ciphertext.size())) != 1) {
    fatal("OpenSSL could not decrypt with AES-256-GCM");
  }
  if (EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, static_cast<int>(kAeadTagSize), bytes_of(tag)) != 1) {
    fatal("OpenSSL could not set the AES-256-GCM tag");
  }
  int final_written = 0;
  if (EVP_DecryptFinal_ex(ctx.get(), bytes_of(out) + written, &final_written) != 1) {
    OPENSSL_cleanse(out.data(), out.size());
    return Error(ErrorCode::kBadSignature, "sealed data does not authenticate");
  }
  return out;
}

}  // namespace wik::core
