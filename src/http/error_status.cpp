#include "http/error_status.h"

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <array>

namespace wik::http {
namespace {

using boost::beast::http::status;

struct Row {
  ErrorCode code;
  ErrorOrigin origin;  // kHandler rows are the default for their code
  status http_status;
  std::string_view public_reason;
};

// The table. Rows for a specific origin come before the code's default row.
constexpr std::array kTable = {
    Row{ErrorCode::kInvalidArgument, ErrorOrigin::kHandler, status::bad_request, "invalid argument"},
    Row{ErrorCode::kMalformed, ErrorOrigin::kHandler, status::bad_request, "malformed request"},
    Row{ErrorCode::kBadSignature, ErrorOrigin::kHandler, status::forbidden, "bad signature"},
    Row{ErrorCode::kUnsupported, ErrorOrigin::kRouting, status::method_not_allowed, "method not allowed"},
    Row{ErrorCode::kUnsupported, ErrorOrigin::kHandler, status::unsupported_media_type, "unsupported"},
    Row{ErrorCode::kExpired, ErrorOrigin::kHandler, status::bad_request, "expired"},
    Row{ErrorCode::kUnauthenticated, ErrorOrigin::kHandler, status::unauthorized, "authentication required"},
    Row{ErrorCode::kPermissionDenied, ErrorOrigin::kHandler, status::forbidden, "permission denied"},
    Row{ErrorCode::kNotFound, ErrorOrigin::kHandler, status::not_found, "not found"},
    Row{ErrorCode::kConflict, ErrorOrigin::kHandler, status::conflict, "conflict"},
    Row{ErrorCode::kTooLarge, ErrorOrigin::kRequestHead, status::request_header_fields_too_large,
        "request header fields too large"},
    Row{ErrorCode::kTooLarge, ErrorOrigin::kHandler, status::payload_too_large, "payload too large"},
    Row{ErrorCode::kRateLimited, ErrorOrigin::kHandler, status::too_many_requests, "too many requests"},
    Row{ErrorCode::kUnavailable, ErrorOrigin::kHandler, status::service_unavailable, "service unavailable"},
    Row{ErrorCode::kTimeout, ErrorOrigin::kRequestRead, status::request_timeout, "request timeout"},
    Row{ErrorCode::kTimeout, ErrorOrigin::kHandler, status::gateway_timeout, "upstream timeout"},
    Row{ErrorCode::kConfig, ErrorOrigin::kHandler, status::internal_server_error, "internal error"},
    Row{ErrorCode::kInternal, ErrorOrigin::kHandler, status::internal_server_error, "internal error"},
};

}  // namespace

ErrorStatus error_status(ErrorCode code, ErrorOrigin origin) noexcept {
  const Row* fallback = nullptr;
  for (const Row& row : kTable) {
    if (row.code != code) continue;
    if (row.origin == origin) return {row.http_status, row.public_reason};
    if (row.origin == ErrorOrigin::kHandler) fallback = &row;
  }
  if (fallback != nullptr) return {fallback->http_status, fallback->public_reason};
  return {status::internal_server_error, "internal error"};
}

std::string error_body(const Error& error, ErrorOrigin origin) {
  // kConfig and kInternal are our own faults: their reasons may describe internals, so only the
  // table's reason is shown.
  const bool own_fault = error.code() == ErrorCode::kConfig || error.code() == ErrorCode::kInternal;
  const std::string_view message =
      own_fault || error.reason().empty() ? error_status(error.code(), origin).public_reason
                                          : std::string_view(error.reason());
  boost::json::object inner;
  inner["code"] = to_string(error.code());
  inner["message"] = message;
  boost::json::object body;
  body["error"] = std::move(inner);
  return boost::json::serialize(body);
}

}  // namespace wik::http
