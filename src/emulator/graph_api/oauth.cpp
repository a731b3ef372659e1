#include "emulator/graph_api/oauth.h"

#include <boost/json/object.hpp>

namespace wik::emulator {
namespace {

// Maps PlatformState::exchange_code's errors to the §2.3 rows.
GraphError exchange_error(ErrorCode code) {
  switch (code) {
    case ErrorCode::kNotFound:
      return GraphError::kInvalidApplicationId;
    case ErrorCode::kBadSignature:
      return GraphError::kInvalidClientSecret;
    case ErrorCode::kConflict:
      return GraphError::kCodeUsed;
    case ErrorCode::kExpired:
      return GraphError::kCodeExpired;
    case ErrorCode::kInvalidArgument:
      return GraphError::kRedirectUriMismatch;
    default:
      return GraphError::kInvalidCodeFormat;
  }
}

}  // namespace

Reply exchange_access_token(PlatformState& state, const GraphParams& params) {
  const auto client_id = params.text("client_id");
  if (!client_id || client_id->empty()) return GraphFailure{GraphError::kMissingClientId, {}};
  for (const char* required : {"client_secret", "redirect_uri", "code"}) {
    const auto value = params.text(required);
    if (!value || value->empty()) return GraphFailure{GraphError::kMissingOAuthParameter, {required}};
  }
  auto install = state.exchange_code(*client_id, *params.text("client_secret"), *params.text("code"),
                                     *params.text("redirect_uri"));
  if (!install.ok()) return GraphFailure{exchange_error(install.error().code()), {}};
  return boost::json::value(boost::json::object{{"access_token", install->access_token}, {"token_type", "bearer"}});
}

}  // namespace wik::emulator
