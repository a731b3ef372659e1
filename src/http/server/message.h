// Request and Response: what a route handler receives and returns.
//
// A Request is built by the server after the request head and body were read within the limits:
// its target has been parsed and percent-decoded with Boost.URL (an invalid target never reaches a
// handler; it is answered 400), the route's named segments are bound, and the query string is
// decoded. Bodies are decoded on demand: form() for application/x-www-form-urlencoded, json() for
// application/json; both report bad input as wik::Error (kUnsupported for the wrong media type,
// kMalformed for bad encoding) which the server answers through the error table.
//
// A Response is a status, headers and a body. The server sets Content-Length, Connection,
// X-Request-Id and the HTTP version; handlers set the rest. A handler may instead return
// Response::no_answer(): the server then closes the connection without writing anything (for
// emulating peers that hang up, e.g. injected faults). Neither type is thread-safe; a handler
// owns its Request for the duration of the call.
#pragma once

#include <wik/result.h>

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/json/fwd.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "http/error_status.h"

namespace wik::http {

// An ordered list of decoded name/value pairs (path parameters, query, form fields). Names may
// repeat; find() returns the first.
class Params {
 public:
  using Entry = std::pair<std::string, std::string>;

  Params() = default;
  explicit Params(std::vector<Entry> entries) : entries_(std::move(entries)) {}

  // Returns the first value named `name`, or nullopt.
  std::optional<std::string_view> find(std::string_view name) const;
  // Returns every value named `name`, in order.
  std::vector<std::string_view> find_all(std::string_view name) const;
  void add(std::string name, std::string value) { entries_.emplace_back(std::move(name), std::move(value)); }

  const std::vector<Entry>& entries() const noexcept { return entries_; }
  std::size_t size() const noexcept { return entries_.size(); }
  bool empty() const noexcept { return entries_.empty(); }
  auto begin() const noexcept { return entries_.begin(); }
  auto end() const noexcept { return entries_.end(); }

 private:
  std::vector<Entry> entries_;
};

// A request target split and decoded: "/a%20b/c?x=1" → segments {"a b", "c"}, query {x=1}.
struct Target {
  std::string path;                   // decoded path, e.g. "/a b/c"
  std::vector<std::string> segments;  // decoded path segments; "/" has none
  Params query;
};

// Returns the decoded target, or kMalformed for anything that is not an origin-form target
// ("/path?query") with valid percent-encoding.
Result<Target> parse_target(std::string_view target);

// Returns the decoded fields of an application/x-www-form-urlencoded text ("a=1&b=x+y"), or
// kMalformed for invalid percent-encoding.
Result<Params> parse_form(std::string_view text);

class Request {
 public:
  using Message = boost::beast::http::request<boost::beast::http::string_body>;

  Request(Message message, Target target, std::string route, Params path_params, std::string request_id,
          std::string peer_address = {})
      : message_(std::move(message)),
        target_(std::move(target)),
        route_(std::move(route)),
        path_params_(std::move(path_params)),
        request_id_(std::move(request_id)),
        peer_address_(std::move(peer_address)) {}

  boost::beast::http::verb method() const { return message_.method(); }
  std::string_view method_name() const { return message_.method_string(); }
  // Returns the raw request target as received ("/api/items/7?x=1").
  std::string_view raw_target() const { return message_.target(); }
  // Returns the decoded path ("/api/items/7").
  const std::string& path() const noexcept { return target_.path; }
  // Returns the matched route pattern ("/api/items/{id}").
  const std::string& route() const noexcept { return route_; }
  // Returns the value bound to the named segment `name` of the route, or "" if the route has none.
  std::string_view param(std::string_view name) const { return path_params_.find(name).value_or(""); }
  const Params& params() const noexcept { return path_params_; }
  // Returns the first query value named `name`, or nullopt.
  std::optional<std::string_view> query(std::string_view name) const { return target_.query.find(name); }
  const Params& query_params() const noexcept { return target_.query; }
  // Returns the value of header `name` (case-insensitive), or nullopt.
  std::optional<std::string_view> header(std::string_view name) const;
  const std::string& body() const noexcept { return message_.body(); }
  // Returns the id logged with this request and echoed in X-Request-Id.
  const std::string& request_id() const noexcept { return request_id_; }
  const Message& message() const noexcept { return message_; }
  // Returns the IP address of the connection's peer ("203.0.113.7", "2001:db8::1"; an IPv4-mapped
  // IPv6 address in its IPv4 form), or "" when unknown. Behind a proxy this is the proxy's address:
  // nothing here reads X-Forwarded-For, which any client can send.
  const std::string& peer_address() const noexcept { return peer_address_; }

  // Returns the decoded form fields of an application/x-www-form-urlencoded body: kUnsupported
  // for another media type, kMalformed for invalid percent-encoding.
  Result<Params> form() const;
  // Returns the parsed JSON body: kUnsupported unless the media type is application/json (or
  // a +json type), kMalformed for invalid JSON.
  Result<boost::json::value> json() const;

 private:
  Message message_;
  Target target_;
  std::string route_;
  Params path_params_;
  std::string request_id_;
  std::string peer_address_;
};

class Response {
 public:
  using Message = boost::beast::http::response<boost::beast::http::string_body>;

  explicit Response(boost::beast::http::status status = boost::beast::http::status::ok);

  // Returns a text/plain; charset=utf-8 response.
  static Response text(std::string body, boost::beast::http::status status = boost::beast::http::status::ok);
  // Returns an application/json response with `value` serialized.
  static Response json(const boost::json::value& value,
                       boost::beast::http::status status = boost::beast::http::status::ok);
  // Returns the instruction to close the connection without answering the request.
  static Response no_answer();

  boost::beast::http::status status() const { return message_.result(); }
  // Sets header `name` to `value`, replacing any previous value.
  Response& set_header(boost::beast::http::field name, std::string_view value);
  Response& set_header(std::string_view name, std::string_view value);
  std::optional<std::string_view> header(std::string_view name) const;
  Response& set_body(std::string body);
  const std::string& body() const noexcept { return message_.body(); }
  // Returns false for Response::no_answer(): nothing is sent and the connection is closed.
  bool answers() const noexcept { return answers_; }

  Message& message() noexcept { return message_; }
  const Message& message() const noexcept { return message_; }

 private:
  Message message_;
  bool answers_ = true;
};

// Returns the response for `error` arising at `origin`: the table's status and the JSON error body.
// The only way the server builds an error response.
Response error_response(const Error& error, ErrorOrigin origin = ErrorOrigin::kHandler);

}  // namespace wik::http
