// GraphError: every error the emulated Graph host answers, in one table (PROTOCOL.md §11.1).
//
// Each named error fixes the platform's `type`, `code`, optional `error_subcode`, the HTTP status,
// the WWW-Authenticate error (for OAuth failures) and the message text PROTOCOL.md gives. Each "{}"
// of a message takes the next argument (a parameter name, an object id, a reason), which must never
// be a secret. The body is the platform's envelope:
//   {"error":{"message":…,"type":…,"code":…,"error_subcode":…,"fbtrace_id":…}}
// with a fresh random fbtrace_id per response. No endpoint builds an error body any other way.
// Pure functions apart from the randomness of fbtrace_id; thread-safe.
#pragma once

#include <boost/beast/http/status.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "http/server/message.h"

namespace wik::emulator {

enum class GraphError {
  // /oauth/access_token (PROTOCOL.md §2.3)
  kCodeUsed,
  kCodeExpired,
  kRedirectUriMismatch,
  kInvalidCodeFormat,
  kInvalidClientSecret,
  kInvalidApplicationId,
  kMissingClientId,
  kMissingOAuthParameter,  // {}: the parameter
  // appsecret_proof (§3.4)
  kProofRequired,
  kProofInvalid,
  // tokens (§5.4, §7)
  kTokenMissing,
  kTokenInvalid,
  kAppNotInstalled,
  kAppTokenSignatureInvalid,
  kAppTokenRequired,
  kInstallTokenRequired,
  // objects, parameters and permissions (§4, §9, §10, §11.1)
  kUnsupportedRequest,      // {} {}: the method ("get", "post", "delete") and the object id
  kUnknownAliases,          // {}: comma list of ids
  kNonexistingField,        // {} {}: the field and the node type
  kInvalidParameter,        // {}: what is wrong
  kNoMatchingUser,
  kMessagePermissionMissing,
  kPermissionRequired,      // {}: the permission code
  kSubscriptionVerificationFailed,  // {}: why
  // faults and throttling (§11.1, §11.2)
  kServiceUnavailable,
  kAppRequestLimit,
  kRateLimitExceeded,
};

struct GraphErrorSpec {
  std::string_view message;  // "{}" marks an argument
  std::string_view type;     // OAuthException | GraphMethodException
  int code;
  std::optional<int> subcode;
  boost::beast::http::status status;
  std::string_view www_authenticate;  // "invalid_code", "invalid_token", or "" for none
};

// Returns the table row of `error`.
const GraphErrorSpec& graph_error_spec(GraphError error) noexcept;

// One occurrence of a named error: the row and the arguments of its message.
struct GraphFailure {
  GraphError error;
  std::vector<std::string> arguments;
};

// Returns the message of `failure`: each "{}" replaced by the next argument (missing ones: "").
std::string graph_error_message(const GraphFailure& failure);

// Returns the platform's error response for `failure` (status, JSON envelope, Content-Type and
// WWW-Authenticate when the row names one).
http::Response graph_error_response(const GraphFailure& failure);

// Sets the platform's JSON Content-Type ("application/json; charset=UTF-8") on `response`.
void set_graph_content_type(http::Response& response);

}  // namespace wik::emulator
