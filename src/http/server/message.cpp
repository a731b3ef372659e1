#include "http/server/message.h"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/parse_query.hpp>
#include <boost/url/params_view.hpp>
#include <boost/url/url_view.hpp>

#include <algorithm>
#include <cctype>

namespace wik::http {
namespace {

namespace beast_http = boost::beast::http;

// Returns the media type of a Content-Type value, lower-cased, without parameters.
std::string media_type(std::string_view content_type) {
  const std::size_t semicolon = content_type.find(';');
  std::string_view type = content_type.substr(0, semicolon);
  while (!type.empty() && (type.back() == ' ' || type.back() == '\t')) type.remove_suffix(1);
  while (!type.empty() && (type.front() == ' ' || type.front() == '\t')) type.remove_prefix(1);
  std::string lower(type);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](char c) { return static_cast<char>(std::tolower(static_cast<unsigned char>(c))); });
  return lower;
}

Params decode_params(const boost::urls::params_view& view) {
  Params params;
  for (const auto& param : view) params.add(param.key, param.value);
  return params;
}

boost::urls::encoding_opts form_encoding() {
  boost::urls::encoding_opts options;
  options.space_as_plus = true;
  return options;
}

}  // namespace

std::optional<std::string_view> Params::find(std::string_view name) const {
  for (const Entry& entry : entries_) {
    if (entry.first == name) return std::string_view(entry.second);
  }
  return std::nullopt;
}

std::vector<std::string_view> Params::find_all(std::string_view name) const {
  std::vector<std::string_view> values;
  for (const Entry& entry : entries_) {
    if (entry.first == name) values.emplace_back(entry.second);
  }
  return values;
}

Result<Target> parse_target(std::string_view target) {
  // Browsers send '[' and ']' unencoded in query strings (permissions[]=message), which RFC 3986
  // reserves for IPv6 hosts and Boost.URL refuses there; they are encoded before parsing.
  std::string bracket_safe;
  if (const auto query = target.find('?');
      query != std::string_view::npos && target.find_first_of("[]", query) != std::string_view::npos) {
    bracket_safe = std::string(target.substr(0, query));
    for (const char c : target.substr(query)) {
      bracket_safe += c == '[' ? "%5B" : c == ']' ? "%5D" : std::string(1, c);
    }
    target = bracket_safe;
  }
  const auto parsed = boost::urls::parse_origin_form(target);
  if (!parsed) return Error(ErrorCode::kMalformed, "invalid request target");
  const boost::urls::url_view& url = *parsed;
  Target result;
  result.path = url.path();
  if (result.path.empty()) result.path.push_back('/');
  for (std::string segment : url.segments()) result.segments.push_back(std::move(segment));
  // "/" parses as one empty segment; a trailing slash keeps its empty last segment.
  if (result.segments.size() == 1 && result.segments.front().empty()) result.segments.clear();
  if (url.has_query()) result.query = decode_params(url.params(form_encoding()));
  return result;
}

Result<Params> parse_form(std::string_view text) {
  // Boost.URL 1.81's parse_query reads its input up to a NUL byte, not to the end of the view
  // (boostorg/url#757): it gets a NUL-terminated copy, and a NUL, never valid in a form, is refused.
  if (text.find('\0') != std::string_view::npos) return Error(ErrorCode::kMalformed, "invalid form encoding");
  const std::string terminated(text);
  if (!boost::urls::parse_query(terminated)) return Error(ErrorCode::kMalformed, "invalid form encoding");
  return decode_params(boost::urls::params_view(terminated, form_encoding()));
}

std::optional<std::string_view> Request::header(std::string_view name) const {
  const auto it = message_.find(name);
  if (it == message_.end()) return std::nullopt;
  return it->value();
}

Result<Params> Request::form() const {
  if (media_type(message_[beast_http::field::content_type]) != "application/x-www-form-urlencoded") {
    return Error(ErrorCode::kUnsupported, "expected an application/x-www-form-urlencoded body");
  }
  return parse_form(message_.body());
}

Result<boost::json::value> Request::json() const {
  const std::string type = media_type(message_[beast_http::field::content_type]);
  if (type != "application/json" && !type.ends_with("+json")) {
    return Error(ErrorCode::kUnsupported, "expected an application/json body");
  }
  boost::system::error_code ec;
  boost::json::value value = boost::json::parse(message_.body(), ec);
  if (ec) return Error(ErrorCode::kMalformed, "invalid JSON body", ec.message());
  return value;
}

Response::Response(beast_http::status status) : message_(status, 11) {}

Response Response::text(std::string body, beast_http::status status) {
  Response response(status);
  response.set_header(beast_http::field::content_type, "text/plain; charset=utf-8");
  response.set_body(std::move(body));
  return response;
}

Response Response::json(const boost::json::value& value, beast_http::status status) {
  Response response(status);
  response.set_header(beast_http::field::content_type, "application/json");
  response.set_body(boost::json::serialize(value));
  return response;
}

Response Response::no_answer() {
  Response response;
  response.answers_ = false;
  return response;
}

Response& Response::set_header(beast_http::field name, std::string_view value) {
  message_.set(name, value);
  return *this;
}

Response& Response::set_header(std::string_view name, std::string_view value) {
  message_.set(name, value);
  return *this;
}

std::optional<std::string_view> Response::header(std::string_view name) const {
  const auto it = message_.find(name);
  if (it == message_.end()) return std::nullopt;
  return it->value();
}

Response& Response::set_body(std::string body) {
  message_.body() = std::move(body);
  return *this;
}

Response error_response(const Error& error, ErrorOrigin origin) {
  Response response(error_status(error.code(), origin).status);
  response.set_header(beast_http::field::content_type, "application/json");
  response.set_body(error_body(error, origin));
  return response;
}

}  // namespace wik::http
