#include "graph/graph_error.h"

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

namespace wik::graph {
namespace {

std::string string_field(const boost::json::object& object, std::string_view name) {
  const auto* value = object.if_contains(name);
  return value != nullptr && value->is_string() ? std::string(value->as_string()) : std::string();
}

std::optional<int> int_field(const boost::json::object& object, std::string_view name) {
  const auto* value = object.if_contains(name);
  if (value == nullptr) return std::nullopt;
  if (value->is_int64() && value->as_int64() >= 0 && value->as_int64() <= 1'000'000'000) {
    return static_cast<int>(value->as_int64());
  }
  return std::nullopt;
}

ErrorCode code_for(unsigned status, int code, std::optional<int> subcode) {
  if (code == 190 || code == 102) return ErrorCode::kUnauthenticated;
  if (is_throttling_code(code)) return ErrorCode::kRateLimited;
  if (code == 1 || code == 2 || code == 1200) return ErrorCode::kUnavailable;
  if (code == 10 || (code >= 200 && code <= 299) || code == 368) return ErrorCode::kPermissionDenied;
  if ((code == 100 && subcode == 33) || code == 803) return ErrorCode::kNotFound;
  if (code != 0) return ErrorCode::kInvalidArgument;
  if (status == 429) return ErrorCode::kRateLimited;
  if (status == 401) return ErrorCode::kUnauthenticated;
  if (status == 403) return ErrorCode::kPermissionDenied;
  if (status == 404) return ErrorCode::kNotFound;
  if (status >= 500) return ErrorCode::kUnavailable;
  return ErrorCode::kInvalidArgument;
}

}  // namespace

bool is_throttling_code(int code) noexcept {
  return code == 4 || code == 17 || code == 32 || code == 613 || (code >= 80000 && code <= 80014);
}

std::optional<GraphErrorBody> parse_graph_error(std::string_view body) {
  boost::system::error_code ec;
  const auto parsed = boost::json::parse(body, ec);
  if (ec || !parsed.is_object()) return std::nullopt;
  const auto* error = parsed.as_object().if_contains("error");
  if (error == nullptr || !error->is_object()) return std::nullopt;
  const auto& object = error->as_object();
  GraphErrorBody result;
  result.code = int_field(object, "code").value_or(0);
  result.subcode = int_field(object, "error_subcode");
  result.type = string_field(object, "type");
  result.message = string_field(object, "message");
  result.fbtrace_id = string_field(object, "fbtrace_id");
  return result;
}

Error graph_error(unsigned status, const std::optional<GraphErrorBody>& body) {
  if (!body) {
    return Error(code_for(status, 0, std::nullopt), "graph call failed with HTTP " + std::to_string(status));
  }
  std::string reason = "graph error " + std::to_string(body->code);
  if (body->subcode) reason += "/" + std::to_string(*body->subcode);
  return Error(code_for(status, body->code, body->subcode), reason,
               body->type + ": " + body->message + " (fbtrace_id " + body->fbtrace_id + ", HTTP " +
                   std::to_string(status) + ")");
}

}  // namespace wik::graph
