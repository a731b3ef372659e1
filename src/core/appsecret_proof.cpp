#include "core/appsecret_proof.h"

#include "core/constant_time.h"
#include "core/decimal.h"
#include "core/hex.h"
#include "core/hmac.h"
#include "core/output_capture.h"

namespace wik::core {
namespace {

Bytes proof_digest(const Secret& app_secret, const AccessToken& token, std::string_view time) {
  std::string message;
  message.reserve(token.expose().size() + 1 + time.size());
  message.append(token.expose()).append("|").append(time);
  return hmac_sha256(app_secret.expose(), message);
}

}  // namespace

AppsecretProof make_appsecret_proof(const Secret& app_secret, const AccessToken& token, std::int64_t unix_time) {
  std::string time = std::to_string(unix_time);
  std::string proof = to_hex(proof_digest(app_secret, token, time));
  capture::secret("appsecret_proof", proof);
  return {std::move(proof), std::move(time)};
}

Result<void> check_appsecret_proof(const Secret& app_secret, const AccessToken& token, std::string_view proof,
                                   std::string_view time, std::int64_t now_unix, const ProofWindow& window) {
  if (proof.empty() || time.empty()) {
    return Error(ErrorCode::kInvalidArgument, "appsecret_proof and appsecret_time are both required");
  }
  const std::optional<std::int64_t> stamped = parse_unsigned_decimal(time);
  if (!stamped) return Error(ErrorCode::kMalformed, "appsecret_time is not a whole number of seconds");

  // Compare bytes, so an upper-case hex proof is accepted and no length or case leaks the expected one.
  const Result<Bytes> received = from_hex(proof);
  const Bytes expected = proof_digest(app_secret, token, time);
  if (capture::enabled()) capture::secret("appsecret_proof", to_hex(expected));
  if (!received || !constant_time_equal(*received, expected)) {
    return Error(ErrorCode::kBadSignature, "invalid appsecret_proof");
  }
  if (*stamped < now_unix - window.max_age.count()) {
    return Error(ErrorCode::kExpired, "appsecret_time is older than the allowed window");
  }
  if (*stamped > now_unix + window.max_future_skew.count()) {
    return Error(ErrorCode::kExpired, "appsecret_time is in the future");
  }
  return ok_result();
}

}  // namespace wik::core
