// signed_request (PROTOCOL.md section 5.2): base64url(signature) "." base64url(payload JSON), where
// the signature is HMAC-SHA256(app_secret, encoded payload segment). The platform's deauthorization
// callback and account-linking requests carry one.
//
// Two signature encodings are attested and both verify: the Workplace form (base64url of the
// lower-case hex digest text, 86 characters, which create_signed_request makes by default) and the
// classic Facebook form (base64url of the raw 32-byte digest, 43 characters).
// Verification compares in constant time and its errors never contain the expected signature.
// Pure functions, thread-safe.
#pragma once

#include <wik/result.h>
#include <wik/secret.h>

#include <boost/json/object.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

namespace wik::core {

// Longest signed_request accepted; real ones are a few hundred bytes.
inline constexpr std::size_t kMaxSignedRequestSize = 8 * 1024;

enum class SignatureEncoding {
  kHexDigest,  // base64url(lower-case hex of the digest): the seed's and taaskly's form
  kRawDigest,  // base64url(raw digest): the classic Facebook form
};

struct SignedRequest {
  boost::json::object payload;
  std::string payload_json;  // the decoded payload text, as signed
  SignatureEncoding encoding;
  std::optional<std::int64_t> issued_at;
};

struct SignedRequestPolicy {
  // When set, an issued_at older than this is kExpired. A payload without issued_at passes
  // (the field is UNCONFIRMED for Workplace), unless require_issued_at is set.
  std::optional<std::chrono::seconds> max_age;
  std::chrono::seconds max_future_skew{60};
  bool require_issued_at = false;
  // When false (default), a payload without "algorithm" is accepted; present, it must be HMAC-SHA256.
  bool require_algorithm = false;
};

// Verifies `signed_request` and returns its payload. Errors, each distinct:
//   kTooLarge      longer than kMaxSignedRequestSize
//   kMalformed     not two non-empty base64url parts, payload not a JSON object, bad field types,
//                  a signature that is neither encoding's length
//   kBadSignature  the signature does not match
//   kUnsupported   "algorithm" is present and is not HMAC-SHA256 (or missing when required)
//   kExpired       issued_at outside the policy's window (only when the policy asks)
Result<SignedRequest> verify_signed_request(std::string_view signed_request, const Secret& app_secret,
                                            std::int64_t now_unix, const SignedRequestPolicy& policy = {});

// Returns a signed_request for `payload`, signed with `app_secret` in `encoding`.
std::string create_signed_request(const boost::json::object& payload, const Secret& app_secret,
                                  SignatureEncoding encoding = SignatureEncoding::kHexDigest);

}  // namespace wik::core
