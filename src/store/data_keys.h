// Per-community data keys and the values sealed with them (docs/storage.md, "Crypto-shredding").
//
// Each community has one 32-byte data key. At rest it is wrapped by the key ring (core::seal,
// associated data naming the community), so a ring rotation re-wraps keys without touching the
// rows. The community's access token and webhook payloads are sealed with its data key:
//   "wdk1." base64url(nonce[12] || AES-256-GCM ciphertext || tag[16])
// with associated data "<purpose>\0<community id>", so a value copied into another purpose or
// another community's row does not open. Destroying the wrapped key makes every value sealed with
// it unreadable. Pure functions, thread-safe.
#pragma once

#include <wik/result.h>
#include <wik/secret.h>

#include "core/key_ring.h"

#include <string>
#include <string_view>

namespace wik::store {

enum class SealPurpose { kAccessToken, kWebhookPayload, kOutboxMessage };

// Returns 32 fresh random bytes.
Secret generate_data_key();

// Returns `data_key` wrapped under the ring's active key for `community_id`.
std::string wrap_data_key(const core::KeyRing& ring, const Secret& data_key, std::string_view community_id);

// Returns the data key `wrapped` holds: kNotFound when the ring lacks its key, kBadSignature when it
// belongs to another community or was altered, kMalformed when it is not a wrapped key.
Result<Secret> unwrap_data_key(const core::KeyRing& ring, std::string_view wrapped, std::string_view community_id);

// Returns `plaintext` sealed with `data_key` for `purpose` in `community_id`.
std::string seal_with_data_key(const Secret& data_key, SealPurpose purpose, std::string_view community_id,
                               std::string_view plaintext);

// Returns what `sealed` holds: kMalformed when it is not a sealed value, kBadSignature when it was
// altered or sealed with another key, purpose or community.
Result<Secret> open_with_data_key(const Secret& data_key, SealPurpose purpose, std::string_view community_id,
                                  std::string_view sealed);

// Returns the hex HMAC-SHA256 of `community_id` under `audit_key`: how the audit log names a
// community without naming it.
std::string community_ref(const Secret& audit_key, std::string_view community_id);

}  // namespace wik::store
