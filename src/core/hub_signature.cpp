#include "core/hub_signature.h"

#include "core/constant_time.h"
#include "core/hex.h"
#include "core/hmac.h"
#include "core/output_capture.h"

namespace wik::core {
namespace {

std::string_view prefix_of(HubAlgorithm algorithm) { return algorithm == HubAlgorithm::kSha256 ? "sha256=" : "sha1="; }

DigestAlgorithm digest_of(HubAlgorithm algorithm) {
  return algorithm == HubAlgorithm::kSha256 ? DigestAlgorithm::kSha256 : DigestAlgorithm::kSha1;
}

}  // namespace

std::string sign_hub_signature(HubAlgorithm algorithm, const Secret& app_secret, std::string_view raw_body) {
  const std::string digest = to_hex(hmac(digest_of(algorithm), app_secret.expose(), raw_body));
  capture::secret("hub_signature", digest);
  return std::string(prefix_of(algorithm)) + digest;
}

Result<void> verify_hub_signature(HubAlgorithm algorithm, std::string_view header_value,
                                  std::string_view raw_body, const Secret& app_secret) {
  const std::string_view prefix = prefix_of(algorithm);
  if (!header_value.starts_with(prefix)) {
    return Error(ErrorCode::kMalformed, "webhook signature header does not start with " + std::string(prefix));
  }
  const Bytes expected = hmac(digest_of(algorithm), app_secret.expose(), raw_body);
  if (capture::enabled()) capture::secret("hub_signature", to_hex(expected));
  const Result<Bytes> received = from_hex(header_value.substr(prefix.size()));
  if (!received || received->size() != expected.size()) {
    return Error(ErrorCode::kMalformed, "webhook signature header does not hold a hex digest");
  }
  if (!constant_time_equal(*received, expected)) {
    return Error(ErrorCode::kBadSignature, "webhook signature does not match the body");
  }
  return ok_result();
}

Result<HubAlgorithm> verify_webhook_signature(const HubSignatureHeaders& headers, std::string_view raw_body,
                                              const Secret& app_secret, bool accept_sha1) {
  if (headers.sha256) {
    if (auto checked = verify_hub_signature(HubAlgorithm::kSha256, *headers.sha256, raw_body, app_secret); !checked) {
      return checked.error();
    }
    return HubAlgorithm::kSha256;
  }
  if (headers.sha1 && accept_sha1) {
    if (auto checked = verify_hub_signature(HubAlgorithm::kSha1, *headers.sha1, raw_body, app_secret); !checked) {
      return checked.error();
    }
    return HubAlgorithm::kSha1;
  }
  return Error(ErrorCode::kUnauthenticated,
               accept_sha1 ? "webhook has no X-Hub-Signature-256 or X-Hub-Signature header"
                           : "webhook has no X-Hub-Signature-256 header");
}

}  // namespace wik::core
