// The one table from wik::ErrorCode to HTTP status and public reason (STYLE.md practice 5).
//
// Every error response the server sends, whether a handler returned a wik::Error or the server
// itself refused a request (limits, routing, malformed input), is built by error_response() from
// this table. The body is always JSON: {"error":{"code":"<to_string(code)>","message":"<reason>"}}.
// The message is the Error's reason (which wik::Error promises is safe to show) or, when that is
// empty, the table's public reason. Error::detail() is never rendered.
//
// A few codes map to a different status depending on where the failure arose (a kTooLarge in the
// request head is 431, elsewhere 413; a kTimeout reading the request is 408, from a handler's
// dependency 504); ErrorOrigin names that place. Pure functions, thread-safe.
#pragma once

#include <wik/result.h>

#include <boost/beast/http/status.hpp>

#include <string_view>

namespace wik::http {

// Where a failure arose, for the few codes whose HTTP status depends on it.
enum class ErrorOrigin {
  kHandler,      // returned by a route handler (the default)
  kRequestHead,  // reading or parsing the request line and headers
  kRequestRead,  // the time allowed to read the request ran out
  kRouting,      // no route for the method (405)
};

struct ErrorStatus {
  boost::beast::http::status status;
  std::string_view public_reason;  // short, constant, safe to show to anyone
};

// Returns the HTTP status and public reason for `code` arising at `origin`. Total: every code has
// a row, unknown values map to 500.
ErrorStatus error_status(ErrorCode code, ErrorOrigin origin = ErrorOrigin::kHandler) noexcept;

// Returns the JSON error body for `error` (never containing error.detail()).
std::string error_body(const Error& error, ErrorOrigin origin = ErrorOrigin::kHandler);

}  // namespace wik::http
