#include "core/base64url.h"

#include <array>
#include <cstdint>

namespace wik::core {
namespace {

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

constexpr std::array<std::int8_t, 256> make_decode_table() {
  std::array<std::int8_t, 256> table{};
  table.fill(-1);
  for (int i = 0; i < 64; ++i) table[static_cast<unsigned char>(kAlphabet[i])] = static_cast<std::int8_t>(i);
  return table;
}

constexpr auto kDecodeTable = make_decode_table();

Error malformed(std::string reason) { return Error(ErrorCode::kMalformed, std::move(reason)); }

}  // namespace

std::string base64url_encode(BytesView bytes) {
  std::string out;
  out.reserve((bytes.size() * 4 + 2) / 3);
  std::size_t i = 0;
  auto byte_at = [&](std::size_t k) { return static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[k])); };
  for (; i + 3 <= bytes.size(); i += 3) {
    const std::uint32_t n = (byte_at(i) << 16) | (byte_at(i + 1) << 8) | byte_at(i + 2);
    out.push_back(kAlphabet[(n >> 18) & 63]);
    out.push_back(kAlphabet[(n >> 12) & 63]);
    out.push_back(kAlphabet[(n >> 6) & 63]);
    out.push_back(kAlphabet[n & 63]);
  }
  const std::size_t rest = bytes.size() - i;
  if (rest == 1) {
    const std::uint32_t n = byte_at(i) << 16;
    out.push_back(kAlphabet[(n >> 18) & 63]);
    out.push_back(kAlphabet[(n >> 12) & 63]);
  } else if (rest == 2) {
    const std::uint32_t n = (byte_at(i) << 16) | (byte_at(i + 1) << 8);
    out.push_back(kAlphabet[(n >> 18) & 63]);
    out.push_back(kAlphabet[(n >> 12) & 63]);
    out.push_back(kAlphabet[(n >> 6) & 63]);
  }
  return out;
}

Result<Bytes> base64url_decode(std::string_view text) {
  // Strip correct padding, if present: only to a multiple of four, at most two '='.
  std::size_t padding = 0;
  while (padding < text.size() && text[text.size() - 1 - padding] == '=') ++padding;
  if (padding > 0) {
    if (padding > 2 || text.size() % 4 != 0) return malformed("base64url text has misplaced padding");
    text.remove_suffix(padding);
    const std::size_t expected_padding = (4 - text.size() % 4) % 4;
    if (padding != expected_padding) return malformed("base64url text has misplaced padding");
  }
  Bytes out;
  out.reserve(text.size() * 3 / 4);
  std::uint32_t buffer = 0;
  int bits = 0;
  for (char c : text) {
    const std::int8_t value = kDecodeTable[static_cast<unsigned char>(c)];
    if (value < 0) return malformed("base64url text has a character outside its alphabet");
    buffer = (buffer << 6) | static_cast<std::uint32_t>(value);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((buffer >> bits) & 0xff));
    }
  }
  if (text.size() % 4 == 1) return malformed("base64url text has an impossible length");
  if ((buffer & ((1u << bits) - 1)) != 0) return malformed("base64url text has non-zero trailing bits");
  return out;
}

}  // namespace wik::core
