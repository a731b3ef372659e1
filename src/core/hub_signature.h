// Webhook body signatures (PROTOCOL.md section 6.2): the platform signs each POST's exact body
// bytes with the app secret and sends
//   X-Hub-Signature-256: sha256=<hex HMAC-SHA256>   and the legacy   X-Hub-Signature: sha1=<hex HMAC-SHA1>
// sign_hub_signature makes a header value (the emulator's side); verify_webhook_signature checks
// a delivery (the kit's side): SHA-256 decides when present, SHA-1 only when the caller allows it.
// Comparison is constant-time; errors never contain the expected value. Pure, thread-safe.
#pragma once

#include <wik/result.h>
#include <wik/secret.h>

#include <optional>
#include <string>
#include <string_view>

namespace wik::core {

enum class HubAlgorithm { kSha256, kSha1 };

// Returns the header value ("sha256=<hex>" or "sha1=<hex>") for `raw_body`.
std::string sign_hub_signature(HubAlgorithm algorithm, const Secret& app_secret, std::string_view raw_body);

// Checks one header value against `raw_body`: kMalformed when it is not "<algorithm>=<hex digest>"
// for `algorithm`, kBadSignature when the digest does not match.
Result<void> verify_hub_signature(HubAlgorithm algorithm, std::string_view header_value,
                                  std::string_view raw_body, const Secret& app_secret);

struct HubSignatureHeaders {
  std::optional<std::string_view> sha256;  // X-Hub-Signature-256, if the request had it
  std::optional<std::string_view> sha1;    // X-Hub-Signature, if the request had it
};

// Checks a webhook delivery and returns the algorithm that verified it. The SHA-256 header decides
// whenever it is present; the SHA-1 header is consulted only without it and only if `accept_sha1`.
// kUnauthenticated when no usable header is present.
Result<HubAlgorithm> verify_webhook_signature(const HubSignatureHeaders& headers, std::string_view raw_body,
                                              const Secret& app_secret, bool accept_sha1);

}  // namespace wik::core
