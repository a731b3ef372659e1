#include "core/key_ring.h"

#include <openssl/crypto.h>

#include "core/aead.h"
#include "core/base64url.h"
#include "core/secure_random.h"

namespace wik::core {
namespace {

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t' || text.front() == '\r')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t' || text.back() == '\r')) text.remove_suffix(1);
  return text;
}

std::vector<std::string_view> split_words(std::string_view line) {
  std::vector<std::string_view> words;
  std::size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
    const std::size_t start = i;
    while (i < line.size() && line[i] != ' ' && line[i] != '\t') ++i;
    if (i > start) words.push_back(line.substr(start, i - start));
  }
  return words;
}

Error config_error(int line, std::string_view what) {
  return Error(ErrorCode::kConfig, "key ring line " + std::to_string(line) + ": " + std::string(what));
}

}  // namespace

bool is_valid_key_id(std::string_view key_id) noexcept {
  if (key_id.empty() || key_id.size() > 32) return false;
  for (char c : key_id) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

Result<KeyRing> KeyRing::parse(std::string_view text) {
  KeyRing ring;
  std::string active;
  int line_number = 0;
  while (!text.empty()) {
    const std::size_t end = text.find_first_of("\n;");
    std::string_view line = trim(text.substr(0, end));
    text = end == std::string_view::npos ? std::string_view{} : text.substr(end + 1);
    ++line_number;
    if (line.empty() || line.front() == '#') continue;

    const std::vector<std::string_view> words = split_words(line);
    if (words[0] == "key" && words.size() == 3) {
      Result<Bytes> material = base64url_decode(words[2]);
      if (!material) return config_error(line_number, "key material is not base64url");
      if (auto added = ring.add_key(std::string(words[1]), Secret(std::move(*material))); !added) {
        return config_error(line_number, added.error().reason());
      }
    } else if (words[0] == "active" && words.size() == 2) {
      if (!active.empty()) return config_error(line_number, "a second 'active' line");
      active = std::string(words[1]);
    } else {
      return config_error(line_number, "expected 'key <id> <base64url>' or 'active <id>'");
    }
  }
  if (ring.keys_.empty()) return Error(ErrorCode::kConfig, "key ring has no keys");
  if (active.empty()) return Error(ErrorCode::kConfig, "key ring has no 'active <id>' line");
  if (auto set = ring.set_active(active); !set) return Error(ErrorCode::kConfig, "key ring: " + set.error().reason());
  return ring;
}

KeyRing KeyRing::generate(const std::string& key_id) {
  KeyRing ring;
  if (auto rotated = ring.rotate_to(key_id); !rotated) fatal("KeyRing::generate: " + rotated.error().reason());
  return ring;
}

Result<void> KeyRing::add_key(const std::string& key_id, Secret material) {
  if (!is_valid_key_id(key_id)) {
    return Error(ErrorCode::kInvalidArgument, "key id must be 1-32 characters of A-Z a-z 0-9 _ -");
  }
  if (material.size() != kAeadKeySize) return Error(ErrorCode::kInvalidArgument, "key '" + key_id + "' is not 32 bytes");
  if (keys_.contains(key_id)) return Error(ErrorCode::kConflict, "key id '" + key_id + "' appears twice");
  keys_.emplace(key_id, std::move(material));
  return ok_result();
}

Result<void> KeyRing::rotate_to(const std::string& key_id) {
  if (auto added = add_key(key_id, Secret(secure_random_bytes(kAeadKeySize))); !added) return added;
  return set_active(key_id);
}

Result<void> KeyRing::set_active(const std::string& key_id) {
  if (!keys_.contains(key_id)) return Error(ErrorCode::kNotFound, "active key '" + key_id + "' is not in the ring");
  active_ = key_id;
  return ok_result();
}

std::vector<std::string> KeyRing::key_ids() const {
  std::vector<std::string> ids;
  for (const auto& [id, key] : keys_) ids.push_back(id);
  return ids;
}

const Secret* KeyRing::find(std::string_view key_id) const {
  auto it = keys_.find(key_id);
  return it == keys_.end() ? nullptr : &it->second;
}

Secret KeyRing::serialize() const {
  std::string text = "# wik key ring: keep this file secret (mode 0600)\n";
  for (const auto& [id, key] : keys_) text += "key " + id + " " + base64url_encode(key.expose()) + "\n";
  text += "active " + active_ + "\n";
  Secret out(text);
  OPENSSL_cleanse(text.data(), text.size());
  return out;
}

}  // namespace wik::core
