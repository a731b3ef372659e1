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

// Both directions write into a string sized up front, a group of 3 bytes / 4 characters per step:
// sealed payloads pass through here on every webhook stored and every event claimed.

std::string base64url_encode(BytesView bytes) {
  const std::size_t whole = bytes.size() / 3;
  const std::size_t rest = bytes.size() % 3;
  std::string out(whole * 4 + (rest == 0 ? 0 : rest + 1), '\0');
  const auto* in = reinterpret_cast<const unsigned char*>(bytes.data());
  char* next = out.data();
  auto put = [&next](std::uint32_t n, int characters) {
    for (int k = 0; k < characters; ++k) *next++ = kAlphabet[(n >> (18 - 6 * k)) & 63];
  };
  for (std::size_t group = 0; group < whole; ++group, in += 3) {
    put((std::uint32_t{in[0]} << 16) | (std::uint32_t{in[1]} << 8) | in[2], 4);
  }
  if (rest == 1) put(std::uint32_t{in[0]} << 16, 2);
  if (rest == 2) put((std::uint32_t{in[0]} << 16) | (std::uint32_t{in[1]} << 8), 3);
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
  const std::size_t rest = text.size() % 4;
  const std::size_t whole = text.size() / 4;
  Bytes out(whole * 3 + (rest < 2 ? 0 : rest - 1), '\0');
  const auto* in = reinterpret_cast<const unsigned char*>(text.data());
  char* next = out.data();
  // Takes `characters` characters into the top of a 24-bit group; false on one outside the alphabet.
  auto take = [&in](int characters, std::uint32_t& group) {
    std::int32_t seen = 0;
    group = 0;
    for (int k = 0; k < characters; ++k) {
      const std::int8_t value = kDecodeTable[*in++];
      seen |= value;
      group |= static_cast<std::uint32_t>(static_cast<std::uint8_t>(value)) << (18 - 6 * k);
    }
    return seen >= 0;
  };
  std::uint32_t group = 0;
  for (std::size_t k = 0; k < whole; ++k) {
    if (!take(4, group)) return malformed("base64url text has a character outside its alphabet");
    *next++ = static_cast<char>(group >> 16);
    *next++ = static_cast<char>(group >> 8);
    *next++ = static_cast<char>(group);
  }
  if (rest == 0) return out;
  if (!take(static_cast<int>(rest), group)) return malformed("base64url text has a character outside its alphabet");
  if (rest == 1) return malformed("base64url text has an impossible length");
  // The bits past the last whole byte must be zero: only the canonical text is accepted.
  const std::uint32_t trailing_mask = rest == 2 ? 0xffffu : 0xffu;
  if ((group & trailing_mask) != 0) return malformed("base64url text has non-zero trailing bits");
  *next++ = static_cast<char>(group >> 16);
  if (rest == 3) *next = static_cast<char>(group >> 8);
  return out;
}

}  // namespace wik::core
