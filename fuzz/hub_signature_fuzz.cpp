// Fuzzes the webhook signature check. Input: the header value up to the first newline, the body
// after it. Checks that a forged header never verifies unless it is the true signature, and that
// sign -> verify always succeeds.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include <algorithm>

#include "core/hex.h"
#include "core/hub_signature.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace wik::core;
  static const wik::Secret kSecret("0123456789abcdef0123456789abcdef");
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const std::size_t newline = input.find('\n');
  const std::string_view header = input.substr(0, newline);
  const std::string_view body = newline == std::string_view::npos ? std::string_view{} : input.substr(newline + 1);

  for (auto algorithm : {HubAlgorithm::kSha256, HubAlgorithm::kSha1}) {
    const std::string truth = sign_hub_signature(algorithm, kSecret, body);
    const bool verified = verify_hub_signature(algorithm, header, body, kSecret).ok();
    if (verified) {  // then the header must be the true signature, up to the case of its hex digits
      const std::size_t digits = truth.find('=') + 1;
      auto received = from_hex(header.substr(std::min(digits, header.size())));
      if (header.substr(0, digits) != std::string_view(truth).substr(0, digits) || !received.ok() ||
          *received != from_hex(std::string_view(truth).substr(digits)).value()) {
        std::abort();
      }
    }
    if (!verify_hub_signature(algorithm, truth, body, kSecret).ok()) std::abort();
  }
  (void)verify_webhook_signature({.sha256 = header, .sha1 = header}, body, kSecret, true);
  return 0;
}
