// Graph API errors: the platform's error envelope (PROTOCOL.md §11.1) read from a response and
// mapped to one wik::Error, so callers branch on an ErrorCode, never on message text.
//
//   code 190 (any subcode)               → kUnauthenticated  the install's token is dead: stop using it
//   codes 4, 17, 32, 613, 80000–80014     → kRateLimited      back off (see rate_limit.h)
//   codes 1, 2, 1200; HTTP 5xx             → kUnavailable      transient: retry later
//   codes 10, 200–299, 368                 → kPermissionDenied the install lacks a permission
//   code 100 subcode 33 (and 803)          → kNotFound         object missing or out of reach
//   code 100 and anything else             → kInvalidArgument
// The public reason names the code and subcode ("graph error 190/458"); the platform's message
// (which may quote request values) goes to the detail only. Pure functions, thread-safe.
#pragma once

#include <wik/result.h>

#include <optional>
#include <string>
#include <string_view>

namespace wik::graph {

struct GraphErrorBody {
  int code = 0;
  std::optional<int> subcode;
  std::string type;
  std::string message;
  std::string fbtrace_id;
};

// Returns the error object of a response body, or nullopt when the body is not the envelope.
std::optional<GraphErrorBody> parse_graph_error(std::string_view body);

// Returns the Error for a failed response (status ≥ 400 or an error envelope in the body).
Error graph_error(unsigned status, const std::optional<GraphErrorBody>& body);

// Returns true for the platform's throttling codes.
bool is_throttling_code(int code) noexcept;

}  // namespace wik::graph
