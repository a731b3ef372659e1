// Fuzzes base64url_decode; checks that what decodes re-encodes to the same text minus padding
// (one accepted encoding per byte string) and that encode/decode round-trip arbitrary bytes.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "core/base64url.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  auto decoded = wik::core::base64url_decode(input);
  if (decoded.ok()) {
    std::string_view unpadded = input;
    while (!unpadded.empty() && unpadded.back() == '=') unpadded.remove_suffix(1);
    if (wik::core::base64url_encode(*decoded) != unpadded) std::abort();
  }
  auto round_trip = wik::core::base64url_decode(wik::core::base64url_encode(input));
  if (!round_trip.ok() || *round_trip != input) std::abort();
  return 0;
}
