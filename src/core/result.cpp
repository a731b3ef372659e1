#include <wik/result.h>

#include <cstdio>
#include <cstdlib>

namespace wik {

std::string_view to_string(ErrorCode code) noexcept {
  switch (code) {
    case ErrorCode::kInvalidArgument: return "invalid_argument";
    case ErrorCode::kMalformed: return "malformed";
    case ErrorCode::kBadSignature: return "bad_signature";
    case ErrorCode::kUnsupported: return "unsupported";
    case ErrorCode::kExpired: return "expired";
    case ErrorCode::kUnauthenticated: return "unauthenticated";
    case ErrorCode::kPermissionDenied: return "permission_denied";
    case ErrorCode::kNotFound: return "not_found";
    case ErrorCode::kConflict: return "conflict";
    case ErrorCode::kTooLarge: return "too_large";
    case ErrorCode::kRateLimited: return "rate_limited";
    case ErrorCode::kUnavailable: return "unavailable";
    case ErrorCode::kTimeout: return "timeout";
    case ErrorCode::kConfig: return "config";
    case ErrorCode::kInternal: return "internal";
  }
  return "unknown";
}

void fatal(std::string_view what) noexcept {
  std::fprintf(stderr, "wik: fatal: %.*s\n", static_cast<int>(what.size()), what.data());
  std::abort();
}

Error Error::with_context(std::string_view context) const {
  return Error(code_, std::string(context) + ": " + reason_, detail_);
}

}  // namespace wik
