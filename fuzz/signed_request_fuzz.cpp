// Fuzzes verify_signed_request with arbitrary text (it must answer, never crash), and checks that
// any JSON object the input holds survives create_signed_request -> verify_signed_request in both
// signature encodings.
#include <boost/json/parse.hpp>

#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "core/signed_request.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace wik::core;
  static const wik::Secret kSecret("0123456789abcdef0123456789abcdef");
  constexpr std::int64_t kNow = 1764370000;
  const std::string_view input(reinterpret_cast<const char*>(data), size);

  (void)verify_signed_request(input, kSecret, kNow, {.max_age = std::chrono::hours(1)});

  boost::system::error_code ec;
  boost::json::value value = boost::json::parse(input, ec);
  if (!ec && value.is_object()) {
    boost::json::object payload = value.as_object();
    payload.erase("algorithm");
    payload.erase("issued_at");
    for (auto encoding : {SignatureEncoding::kHexDigest, SignatureEncoding::kRawDigest}) {
      const std::string request = create_signed_request(payload, kSecret, encoding);
      if (request.size() > kMaxSignedRequestSize) continue;
      auto verified = verify_signed_request(request, kSecret, kNow);
      if (!verified.ok() || verified->payload != payload || verified->encoding != encoding) std::abort();
    }
  }
  return 0;
}
