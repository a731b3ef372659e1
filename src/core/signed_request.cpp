#include "core/signed_request.h"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "core/base64url.h"
#include "core/constant_time.h"
#include "core/decimal.h"
#include "core/hex.h"
#include "core/hmac.h"
#include "core/output_capture.h"

namespace wik::core {
namespace {

constexpr std::string_view kAlgorithm = "HMAC-SHA256";
constexpr std::size_t kDigestSize = 32;

// Records a computed signature for the secret scan, as the raw digest and as its hex text (the two
// things each encoding base64url-encodes).
void capture_signature(const Bytes& digest) {
  if (!capture::enabled()) return;
  capture::secret("signed_request_signature", digest);
  capture::secret("signed_request_signature", to_hex(digest));
}

Error malformed(std::string reason) { return Error(ErrorCode::kMalformed, std::move(reason)); }

bool equals_ignoring_case(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    auto lower = [](char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; };
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

// Returns the digest the received signature segment carries, whichever encoding it uses.
Result<std::pair<Bytes, SignatureEncoding>> decode_signature(std::string_view segment) {
  Result<Bytes> decoded = base64url_decode(segment);
  if (!decoded) return malformed("signed_request signature is not base64url");
  if (decoded->size() == kDigestSize) return std::pair{std::move(*decoded), SignatureEncoding::kRawDigest};
  if (decoded->size() == 2 * kDigestSize) {
    Result<Bytes> digest = from_hex(*decoded);
    if (digest) return std::pair{std::move(*digest), SignatureEncoding::kHexDigest};
  }
  return malformed("signed_request signature has neither the raw nor the hex digest form");
}

Result<std::optional<std::int64_t>> read_issued_at(const boost::json::object& payload) {
  const boost::json::value* field = payload.if_contains("issued_at");
  if (field == nullptr) return std::optional<std::int64_t>{};
  if (const auto* n = field->if_int64(); n != nullptr && *n >= 0) return std::optional<std::int64_t>{*n};
  if (const auto* n = field->if_uint64(); n != nullptr && *n <= static_cast<std::uint64_t>(INT64_MAX)) {
    return std::optional<std::int64_t>{static_cast<std::int64_t>(*n)};
  }
  if (const auto* s = field->if_string()) {
    if (auto n = parse_unsigned_decimal(*s)) return std::optional<std::int64_t>{*n};
  }
  return malformed("signed_request issued_at is not a Unix time");
}

Result<void> check_algorithm(const boost::json::object& payload, const SignedRequestPolicy& policy) {
  const boost::json::value* field = payload.if_contains("algorithm");
  if (field == nullptr) {
    if (policy.require_algorithm) return Error(ErrorCode::kUnsupported, "signed_request names no algorithm");
    return ok_result();
  }
  const auto* name = field->if_string();
  if (name == nullptr || !equals_ignoring_case(*name, kAlgorithm)) {
    return Error(ErrorCode::kUnsupported, "signed_request algorithm is not HMAC-SHA256");
  }
  return ok_result();
}

Result<void> check_freshness(std::optional<std::int64_t> issued_at, std::int64_t now_unix,
                             const SignedRequestPolicy& policy) {
  if (!policy.max_age) return ok_result();
  if (!issued_at) {
    if (policy.require_issued_at) return Error(ErrorCode::kExpired, "signed_request has no issued_at");
    return ok_result();
  }
  if (*issued_at < now_unix - policy.max_age->count()) {
    return Error(ErrorCode::kExpired, "signed_request was issued too long ago");
  }
  if (*issued_at > now_unix + policy.max_future_skew.count()) {
    return Error(ErrorCode::kExpired, "signed_request is issued in the future");
  }
  return ok_result();
}

}  // namespace

Result<SignedRequest> verify_signed_request(std::string_view signed_request, const Secret& app_secret,
                                            std::int64_t now_unix, const SignedRequestPolicy& policy) {
  if (signed_request.size() > kMaxSignedRequestSize) {
    return Error(ErrorCode::kTooLarge, "signed_request is too long");
  }
  const std::size_t dot = signed_request.find('.');
  if (dot == std::string_view::npos) return malformed("signed_request has no '.' between its parts");
  const std::string_view signature_segment = signed_request.substr(0, dot);
  const std::string_view payload_segment = signed_request.substr(dot + 1);
  if (signature_segment.empty() || payload_segment.empty()) return malformed("signed_request has an empty part");
  if (payload_segment.find('.') != std::string_view::npos) return malformed("signed_request has more than two parts");

  auto signature = decode_signature(signature_segment);
  if (!signature) return signature.error();
  Result<Bytes> payload_json = base64url_decode(payload_segment);
  if (!payload_json) return malformed("signed_request payload is not base64url");

  // The signature covers the encoded payload segment, exactly as received.
  const Bytes expected = hmac_sha256(app_secret.expose(), payload_segment);
  capture_signature(expected);
  if (!constant_time_equal(signature->first, expected)) {
    return Error(ErrorCode::kBadSignature, "signed_request signature does not match");
  }

  boost::system::error_code ec;
  boost::json::value parsed = boost::json::parse(*payload_json, ec);
  if (ec) return malformed("signed_request payload is not JSON");
  if (!parsed.is_object()) return malformed("signed_request payload is not a JSON object");
  boost::json::object payload = std::move(parsed.as_object());

  if (auto algorithm = check_algorithm(payload, policy); !algorithm) return algorithm.error();
  auto issued_at = read_issued_at(payload);
  if (!issued_at) return issued_at.error();
  if (auto fresh = check_freshness(*issued_at, now_unix, policy); !fresh) return fresh.error();

  return SignedRequest{std::move(payload), std::move(*payload_json), signature->second, *issued_at};
}

std::string create_signed_request(const boost::json::object& payload, const Secret& app_secret,
                                  SignatureEncoding encoding) {
  const std::string payload_segment = base64url_encode(boost::json::serialize(payload));
  const Bytes digest = hmac_sha256(app_secret.expose(), payload_segment);
  capture_signature(digest);
  const Bytes signature = encoding == SignatureEncoding::kHexDigest ? Bytes(to_hex(digest)) : digest;
  return base64url_encode(signature) + "." + payload_segment;
}

}  // namespace wik::core
