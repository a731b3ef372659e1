// Sealing secrets at rest with a KeyRing (docs/key-ring.md):
//   sealed = "wik1." <key id> "." base64url(nonce[12] || AES-256-GCM ciphertext || tag[16])
// The associated data binds a sealed value to its place: for access tokens it is the community id,
// so a sealed token copied into another community's row does not open. Each seal draws a fresh
// random nonce. The key id travels in clear so a rotation can open old values and re-seal them
// under the active key. Thread-safe as long as the ring is not mutated concurrently.
#pragma once

#include <wik/result.h>
#include <wik/secret.h>

#include "core/key_ring.h"

#include <string>
#include <string_view>

namespace wik::core {

// Returns `plaintext` sealed under the ring's active key, bound to `associated_data`.
std::string seal(const KeyRing& ring, std::string_view plaintext, std::string_view associated_data);

// Returns what `sealed` holds: kMalformed for a value not in the sealed format, kNotFound when the
// ring lacks its key, kBadSignature when it was altered or is bound to other associated data.
Result<Secret> open(const KeyRing& ring, std::string_view sealed, std::string_view associated_data);

// Returns the key id a sealed value names (to find values a rotation must re-seal), or kMalformed.
Result<std::string> sealed_key_id(std::string_view sealed);

// Access tokens: seal/open with the community id as associated data; reseal opens with any key of
// the ring and seals again under the active key.
std::string seal_access_token(const KeyRing& ring, const AccessToken& token, std::string_view community_id);
Result<AccessToken> open_access_token(const KeyRing& ring, std::string_view sealed, std::string_view community_id);
Result<std::string> reseal_access_token(const KeyRing& ring, std::string_view sealed, std::string_view community_id);

}  // namespace wik::core
