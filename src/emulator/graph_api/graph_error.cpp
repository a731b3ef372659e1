#include "emulator/graph_api/graph_error.h"

#include <boost/beast/http/field.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include <array>
#include <utility>

#include "core/secure_random.h"

namespace wik::emulator {
namespace {

using boost::beast::http::status;

constexpr std::string_view kOAuth = "OAuthException";
constexpr std::string_view kGraphMethod = "GraphMethodException";

struct Row {
  GraphError error;
  GraphErrorSpec spec;
};

// The one table. Texts marked [WIRE]/[DOC] are PROTOCOL.md's; the others are its emulator choices
// or Facebook-platform conventions, listed in docs/emulator/graph.md.
constexpr auto kTable = std::to_array<Row>({
    {GraphError::kCodeUsed,
     {"This authorization code has been used.", kOAuth, 100, 36009, status::bad_request, "invalid_code"}},
    {GraphError::kCodeExpired,
     {"This authorization code has expired.", kOAuth, 100, 36007, status::bad_request, "invalid_code"}},
    {GraphError::kRedirectUriMismatch,
     {"Error validating verification code. Please make sure your redirect_uri is identical to the one you used "
      "in the OAuth dialog request",
      kOAuth, 100, 36008, status::bad_request, "invalid_code"}},
    {GraphError::kInvalidCodeFormat,
     {"Invalid verification code format.", kOAuth, 100, std::nullopt, status::bad_request, "invalid_code"}},
    {GraphError::kInvalidClientSecret,
     {"Error validating client secret.", kOAuth, 1, std::nullopt, status::bad_request, "invalid_code"}},
    {GraphError::kInvalidApplicationId,
     {"Error validating application. Invalid application ID.", kOAuth, 101, std::nullopt, status::bad_request,
      "invalid_code"}},
    {GraphError::kMissingClientId,
     {"Missing client_id parameter.", kOAuth, 101, std::nullopt, status::bad_request, "invalid_code"}},
    {GraphError::kMissingOAuthParameter,
     {"Missing {} parameter.", kOAuth, 100, std::nullopt, status::bad_request, "invalid_code"}},
    {GraphError::kProofRequired,
     {"API calls with a community access token require an appsecret_proof and an appsecret_time argument",
      kGraphMethod, 100, std::nullopt, status::bad_request, ""}},
    {GraphError::kProofInvalid,
     {"Invalid appsecret_proof provided in the API argument", kGraphMethod, 100, std::nullopt, status::bad_request,
      ""}},
    {GraphError::kTokenMissing,
     {"An access token is required to request this resource.", kOAuth, 104, std::nullopt, status::bad_request,
      ""}},
    {GraphError::kTokenInvalid,
     {"Invalid OAuth access token - Cannot parse access token", kOAuth, 190, std::nullopt, status::bad_request,
      "invalid_token"}},
    {GraphError::kAppNotInstalled,
     {"Error validating access token: the app is not installed in this community.", kOAuth, 190, 458,
      status::bad_request, "invalid_token"}},
    {GraphError::kAppTokenSignatureInvalid,
     {"Invalid OAuth access token signature.", kOAuth, 190, std::nullopt, status::bad_request, "invalid_token"}},
    {GraphError::kAppTokenRequired,
     {"(#15) This method must be called with an app access_token.", kOAuth, 15, std::nullopt, status::bad_request,
      ""}},
    {GraphError::kInstallTokenRequired,
     {"(#200) This method must be called with a community access token.", kOAuth, 200, std::nullopt,
      status::bad_request, ""}},
    {GraphError::kUnsupportedRequest,
     {"Unsupported {} request. Object with ID '{}' does not exist, cannot be loaded due to missing permissions, or "
      "does not support this operation",
      kGraphMethod, 100, 33, status::bad_request, ""}},
    {GraphError::kUnknownAliases,
     {"(#803) Some of the aliases you requested do not exist: {}", kOAuth, 803, std::nullopt, status::not_found, ""}},
    {GraphError::kNonexistingField,
     {"(#100) Tried accessing nonexisting field ({}) on node type ({})", kOAuth, 100, std::nullopt,
      status::bad_request, ""}},
    {GraphError::kInvalidParameter, {"(#100) {}", kOAuth, 100, std::nullopt, status::bad_request, ""}},
    {GraphError::kNoMatchingUser,
     {"(#100) No matching user found", kOAuth, 100, 2018001, status::bad_request, ""}},
    {GraphError::kMessagePermissionMissing,
     {"(#10) Application does not have permission for this action", kOAuth, 10, std::nullopt, status::forbidden,
      ""}},
    {GraphError::kPermissionRequired,
     {"(#200) Requires {} permission to perform this action", kOAuth, 200, std::nullopt, status::forbidden, ""}},
    {GraphError::kSubscriptionVerificationFailed,
     {"(#2200) callback verification failed: {}", kOAuth, 2200, std::nullopt, status::bad_request, ""}},
    {GraphError::kServiceUnavailable,
     {"(#2) Service temporarily unavailable", kOAuth, 2, std::nullopt, status::internal_server_error, ""}},
    {GraphError::kAppRequestLimit,
     {"(#4) Application request limit reached", kOAuth, 4, std::nullopt, status::bad_request, ""}},
    {GraphError::kRateLimitExceeded,
     {"(#613) Calls to this api have exceeded the rate limit.", kOAuth, 613, std::nullopt, status::bad_request, ""}},
});

// Bytes of randomness in an fbtrace_id (11 base64url characters, like the platform's).
constexpr std::size_t kTraceIdBytes = 8;

}  // namespace

const GraphErrorSpec& graph_error_spec(GraphError error) noexcept {
  for (const Row& row : kTable) {
    if (row.error == error) return row.spec;
  }
  fatal("graph_error_spec: a GraphError without a table row");
}

std::string graph_error_message(const GraphFailure& failure) {
  const std::string_view text = graph_error_spec(failure.error).message;
  std::string message;
  auto next = failure.arguments.begin();
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text.compare(i, 2, "{}") == 0) {
      if (next != failure.arguments.end()) message += *next++;
      ++i;
    } else {
      message += text[i];
    }
  }
  return message;
}

http::Response graph_error_response(const GraphFailure& failure) {
  const GraphErrorSpec& spec = graph_error_spec(failure.error);
  const std::string message = graph_error_message(failure);
  boost::json::object body;
  body["message"] = message;
  body["type"] = spec.type;
  body["code"] = spec.code;
  if (spec.subcode) body["error_subcode"] = *spec.subcode;
  body["fbtrace_id"] = core::secure_random_token(kTraceIdBytes);
  http::Response response(spec.status);
  response.set_body(boost::json::serialize(boost::json::object{{"error", std::move(body)}}));
  set_graph_content_type(response);
  if (!spec.www_authenticate.empty()) {
    // The header is a list of quoted strings: keep quotes and control characters out of it.
    std::string quoted_message = message;
    std::erase_if(quoted_message, [](char c) { return c == '"' || c == '\\' || static_cast<unsigned char>(c) < 0x20; });
    response.set_header(boost::beast::http::field::www_authenticate,
                        "OAuth \"Facebook Platform\" \"" + std::string(spec.www_authenticate) + "\" \"" +
                            quoted_message + "\"");
  }
  return response;
}

void set_graph_content_type(http::Response& response) {
  response.set_header(boost::beast::http::field::content_type, "application/json; charset=UTF-8");
}

}  // namespace wik::emulator
