// GraphCall: one Graph request as the endpoints see it, after the version prefix is stripped, the
// parameters of query, form, multipart and JSON body are merged, and the token is checked.
// Also the small vocabulary every endpoint file shares: Reply (a JSON answer or a named platform
// error), parameter readers that turn bad input into GraphFailure, permission checks, and the
// services an endpoint may use. Private to graph_api/.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "emulator/graph_api/graph_api.h"
#include "emulator/graph_api/graph_error.h"
#include "http/server/message.h"

namespace wik::emulator {

// What an endpoint answers: the JSON body of a 200, or a named platform error.
using Reply = std::variant<boost::json::value, GraphFailure>;

// A value or a named platform error, for the helpers endpoints compose.
template <class T>
using Checked = std::variant<T, GraphFailure>;

// Returns the failure held by `checked`, or nullptr when it holds a value.
template <class T>
const GraphFailure* failure_of(const Checked<T>& checked) {
  return std::get_if<GraphFailure>(&checked);
}

// Returns kInvalidParameter with `what` as its message.
GraphFailure invalid_parameter(std::string what);

// The caller, as identified by the token.
struct Caller {
  enum class Kind { kNone, kApp, kInstall };
  Kind kind = Kind::kNone;
  App app;                        // kApp and kInstall
  std::optional<Install> install;  // kInstall

  bool has_permission(std::string_view code) const;
};

// Parameters merged from the query, then the body (later values replace earlier ones). Query and
// form values are strings; bracket keys (a[0]=x, a[b]=y, a[]=z) become arrays and objects.
class GraphParams {
 public:
  GraphParams() = default;
  explicit GraphParams(boost::json::object values) : values_(std::move(values)) {}

  const boost::json::object& values() const noexcept { return values_; }
  bool has(std::string_view name) const { return values_.contains(name); }
  // Returns the parameter as text (numbers and booleans as JSON text), or nullopt when absent or
  // not a scalar.
  std::optional<std::string> text(std::string_view name) const;
  // Returns the parameter as a JSON object: given as an object (JSON body, bracket keys) or as a
  // string holding a JSON object (query and form). Absent: nullopt; anything else: a failure.
  Checked<std::optional<boost::json::object>> object(std::string_view name) const;
  // Returns the parameter as a list of strings: an array, a JSON array in a string, or a comma list.
  Checked<std::vector<std::string>> list(std::string_view name) const;

 private:
  boost::json::object values_;
};

// Returns the merged parameters of `request`, or a failure for a body that cannot be read (wrong
// media type, invalid JSON, form or multipart encoding).
Checked<GraphParams> read_params(const http::Request& request);

struct GraphServices {
  PlatformState& state;
  WebhookDelivery& delivery;
  GraphApiOptions options;
};

struct GraphCall {
  const http::Request& request;
  std::string method;                 // "get" | "post" | "delete"
  std::string version;                // "/v3.2", or "" when the path had none
  std::vector<std::string> segments;  // path segments after the version ("company" read as "community")
  GraphParams params;
  Caller caller;

  const Install& install() const { return *caller.install; }
  // Returns the request path after the version ("/community/members").
  std::string path() const;
};

// Returns kPermissionRequired naming the first of `codes` unless the install holds one of them.
std::optional<GraphFailure> require_any_permission(const GraphCall& call, std::vector<std::string_view> codes);

// Returns the unsupported-request error (code 100, subcode 33) for `object_id` and the call's method.
GraphFailure unsupported(const GraphCall& call, std::string_view object_id);

// Formats Unix seconds the way Graph does: "2018-08-04T22:58:29+0000".
std::string graph_time(std::int64_t unix_seconds);

// Counts Unicode characters of UTF-8 text (invalid bytes count one each).
std::size_t utf8_length(std::string_view text);

}  // namespace wik::emulator
