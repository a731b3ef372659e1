#include "store/data_keys.h"

#include "core/aead.h"
#include "core/base64url.h"
#include "core/hex.h"
#include "core/hmac.h"
#include "core/sealed_box.h"
#include "core/secure_random.h"

namespace wik::store {
namespace {

constexpr std::string_view kSealedPrefix = "wdk1.";

std::string wrap_context(std::string_view community_id) {
  return "community_data_key/community:" + std::string(community_id);
}

std::string seal_context(SealPurpose purpose, std::string_view community_id) {
  std::string context = purpose == SealPurpose::kAccessToken     ? "access_token"
                        : purpose == SealPurpose::kWebhookPayload ? "webhook_payload"
                                                                  : "outbox_message";
  context.append(1, '\0').append(community_id);
  return context;
}

}  // namespace

Secret generate_data_key() { return Secret(core::secure_random_bytes(core::kAeadKeySize)); }

std::string wrap_data_key(const core::KeyRing& ring, const Secret& data_key, std::string_view community_id) {
  return core::seal(ring, data_key.expose(), wrap_context(community_id));
}

Result<Secret> unwrap_data_key(const core::KeyRing& ring, std::string_view wrapped, std::string_view community_id) {
  Result<Secret> key = core::open(ring, wrapped, wrap_context(community_id));
  if (key && key->size() != core::kAeadKeySize) return Error(ErrorCode::kMalformed, "wrapped data key has a bad size");
  return key;
}

std::string seal_with_data_key(const Secret& data_key, SealPurpose purpose, std::string_view community_id,
                               std::string_view plaintext) {
  core::Bytes box = core::secure_random_bytes(core::kAeadNonceSize);
  box += core::aes256gcm_encrypt(data_key.expose(), box, seal_context(purpose, community_id), plaintext);
  return std::string(kSealedPrefix) + core::base64url_encode(box);
}

Result<Secret> open_with_data_key(const Secret& data_key, SealPurpose purpose, std::string_view community_id,
                                  std::string_view sealed) {
  if (!sealed.starts_with(kSealedPrefix)) return Error(ErrorCode::kMalformed, "sealed value has an unknown format");
  Result<core::Bytes> box = core::base64url_decode(sealed.substr(kSealedPrefix.size()));
  if (!box || box->size() < core::kAeadNonceSize + core::kAeadTagSize) {
    return Error(ErrorCode::kMalformed, "sealed value is damaged");
  }
  const core::BytesView view(*box);
  Result<core::Bytes> plaintext =
      core::aes256gcm_decrypt(data_key.expose(), view.substr(0, core::kAeadNonceSize),
                              seal_context(purpose, community_id), view.substr(core::kAeadNonceSize));
  if (!plaintext) return plaintext.error();
  return Secret(std::move(*plaintext));
}

std::string community_ref(const Secret& audit_key, std::string_view community_id) {
  return core::to_hex(core::hmac_sha256(audit_key.expose(), community_id));
}

}  // namespace wik::store
