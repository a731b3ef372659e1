// KeyRing: the AES-256 keys that seal access tokens at rest, each named by a key id, one of them
// active (used for new seals); the others still open what they sealed, until a rotation re-seals it.
//
// Text format (docs/key-ring.md), one directive a line, '#' starts a comment; in an environment
// variable ';' may stand for the line break:
//   key <id> <base64url of 32 random bytes>
//   active <id>
// Ids are 1-32 characters of [A-Za-z0-9_-]. Parse errors name the line, never the key material.
// Key material lives in Secret values and is wiped on destruction. Immutable after construction
// except through add_key/set_active; not thread-safe against concurrent mutation.
#pragma once

#include <wik/result.h>
#include <wik/secret.h>

#include <map>
#include <string>
#include <vector>

namespace wik::core {

class KeyRing {
 public:
  // Returns the ring `text` describes, or kConfig naming the problem and its line.
  static Result<KeyRing> parse(std::string_view text);

  // Returns a ring with one freshly generated key `key_id`, active.
  static KeyRing generate(const std::string& key_id);

  // Adds `material` (32 bytes) as `key_id`: kInvalidArgument for a bad id or size, kConflict for a
  // duplicate id.
  Result<void> add_key(const std::string& key_id, Secret material);
  // Adds a freshly generated key `key_id` and makes it active: the first step of a rotation.
  Result<void> rotate_to(const std::string& key_id);
  // Makes `key_id` the sealing key: kNotFound if the ring has no such key.
  Result<void> set_active(const std::string& key_id);

  const std::string& active_key_id() const noexcept { return active_; }
  std::vector<std::string> key_ids() const;
  // Returns the key named `key_id`, or nullptr.
  const Secret* find(std::string_view key_id) const;

  // Returns the ring in the text format, key material included: write it only to a 0600 file.
  Secret serialize() const;

 private:
  KeyRing() = default;
  std::map<std::string, Secret, std::less<>> keys_;
  std::string active_;
};

// Returns true when `key_id` is a well-formed key id.
bool is_valid_key_id(std::string_view key_id) noexcept;

}  // namespace wik::core
