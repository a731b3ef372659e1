#include "core/sealed_box.h"

#include "core/aead.h"
#include "core/base64url.h"
#include "core/secure_random.h"

namespace wik::core {
namespace {

constexpr std::string_view kFormatPrefix = "wik1.";

struct SealedParts {
  std::string_view key_id;
  std::string_view body;  // base64url
};

Result<SealedParts> split_sealed(std::string_view sealed) {
  if (!sealed.starts_with(kFormatPrefix)) return Error(ErrorCode::kMalformed, "sealed value has an unknown format");
  sealed.remove_prefix(kFormatPrefix.size());
  const std::size_t dot = sealed.find('.');
  if (dot == std::string_view::npos || !is_valid_key_id(sealed.substr(0, dot))) {
    return Error(ErrorCode::kMalformed, "sealed value has no valid key id");
  }
  return SealedParts{sealed.substr(0, dot), sealed.substr(dot + 1)};
}

// The format version and key id are authenticated along with the caller's associated data.
std::string full_associated_data(std::string_view key_id, std::string_view associated_data) {
  std::string out(kFormatPrefix);
  out.append(key_id).append(1, '\0').append(associated_data);
  return out;
}

std::string token_context(std::string_view community_id) { return "access_token/community:" + std::string(community_id); }

}  // namespace

std::string seal(const KeyRing& ring, std::string_view plaintext, std::string_view associated_data) {
  const std::string& key_id = ring.active_key_id();
  const Secret* key = ring.find(key_id);
  if (key == nullptr) fatal("key ring has no active key");
  Bytes box = secure_random_bytes(kAeadNonceSize);
  box += aes256gcm_encrypt(key->expose(), box, full_associated_data(key_id, associated_data), plaintext);
  return std::string(kFormatPrefix) + key_id + "." + base64url_encode(box);
}

Result<Secret> open(const KeyRing& ring, std::string_view sealed, std::string_view associated_data) {
  auto parts = split_sealed(sealed);
  if (!parts) return parts.error();
  const Secret* key = ring.find(parts->key_id);
  if (key == nullptr) return Error(ErrorCode::kNotFound, "the key ring has no key '" + std::string(parts->key_id) + "'");
  Result<Bytes> box = base64url_decode(parts->body);
  if (!box || box->size() < kAeadNonceSize + kAeadTagSize) return Error(ErrorCode::kMalformed, "sealed value is damaged");
  const BytesView view(*box);
  auto plaintext = aes256gcm_decrypt(key->expose(), view.substr(0, kAeadNonceSize),
                                     full_associated_data(parts->key_id, associated_data), view.substr(kAeadNonceSize));
  if (!plaintext) return plaintext.error();
  return Secret(std::move(*plaintext));
}

Result<std::string> sealed_key_id(std::string_view sealed) {
  auto parts = split_sealed(sealed);
  if (!parts) return parts.error();
  return std::string(parts->key_id);
}

std::string seal_access_token(const KeyRing& ring, const AccessToken& token, std::string_view community_id) {
  return seal(ring, token.expose(), token_context(community_id));
}

Result<AccessToken> open_access_token(const KeyRing& ring, std::string_view sealed, std::string_view community_id) {
  Result<Secret> opened = open(ring, sealed, token_context(community_id));
  if (!opened) return opened.error();
  return AccessToken(std::string(opened->expose()));
}

Result<std::string> reseal_access_token(const KeyRing& ring, std::string_view sealed, std::string_view community_id) {
  Result<AccessToken> token = open_access_token(ring, sealed, community_id);
  if (!token) return token.error();
  return seal_access_token(ring, *token, community_id);
}

}  // namespace wik::core
