#include "emulator/graph_api/graph_call.h"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <algorithm>
#include <cctype>
#include <ctime>
#include <map>

namespace wik::emulator {
namespace {

namespace json = boost::json;

// Bounds on what a body may hold, so hostile input cannot make the emulator build huge trees.
constexpr std::size_t kMaxBracketDepth = 8;
constexpr std::size_t kMaxMultipartParts = 1000;
constexpr std::size_t kMaxArrayIndex = 10000;
constexpr std::size_t kMaxEchoedLength = 64;

std::string lowered(std::string_view text) {
  std::string result(text);
  std::transform(result.begin(), result.end(), result.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return result;
}

// Returns the media type of a Content-Type value, lower-cased, without parameters.
std::string media_type(std::string_view content_type) {
  std::string_view type = content_type.substr(0, content_type.find(';'));
  while (!type.empty() && std::isspace(static_cast<unsigned char>(type.back())) != 0) type.remove_suffix(1);
  while (!type.empty() && std::isspace(static_cast<unsigned char>(type.front())) != 0) type.remove_prefix(1);
  return lowered(type);
}

// Returns the value of parameter `name` of a header value ("multipart/form-data; boundary=x").
std::string header_parameter(std::string_view header, std::string_view name) {
  const std::string lower = lowered(header);
  const std::string key = std::string(name) + "=";
  std::size_t at = lower.find(key);
  while (at != std::string::npos && at > 0 && lower[at - 1] != ';' && lower[at - 1] != ' ') {
    at = lower.find(key, at + 1);
  }
  if (at == std::string::npos) return {};
  std::string_view value = header.substr(at + key.size());
  if (!value.empty() && value.front() == '"') {
    value.remove_prefix(1);
    return std::string(value.substr(0, value.find('"')));
  }
  return std::string(value.substr(0, value.find(';')));
}

// Turns objects whose keys are all array indexes ("0", "1", …) into arrays, recursively.
void normalize_indexes(json::value& value) {
  if (value.is_array()) {
    for (auto& item : value.get_array()) normalize_indexes(item);
    return;
  }
  if (!value.is_object()) return;
  json::object& object = value.get_object();
  for (auto& member : object) normalize_indexes(member.value());
  if (object.empty()) return;
  std::map<std::size_t, json::value> by_index;
  for (auto& member : object) {
    const std::string_view key = member.key();
    if (key.empty() || key.size() > 5 || !std::all_of(key.begin(), key.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      return;
    }
    const auto index = static_cast<std::size_t>(std::stoul(std::string(key)));
    if (index > kMaxArrayIndex) return;
    by_index[index] = member.value();
  }
  json::array array;
  for (auto& [index, item] : by_index) array.push_back(std::move(item));
  value = std::move(array);
}

// Stores `value` under a possibly bracketed key: "a[b][0]" → {"a":{"b":{"0":…}}}, "a[]" appends.
void put_parameter(json::object& root, std::string_view key, std::string value) {
  const std::size_t open = key.find('[');
  if (open == std::string_view::npos || open == 0 || key.back() != ']') {
    root[key] = std::move(value);
    return;
  }
  std::vector<std::string_view> path;
  for (std::size_t at = open; at < key.size();) {
    const std::size_t close = key.find(']', at);
    if (key[at] != '[' || close == std::string_view::npos || path.size() == kMaxBracketDepth) {
      root[key] = std::move(value);  // not a bracket key after all: keep it verbatim
      return;
    }
    path.push_back(key.substr(at + 1, close - at - 1));
    at = close + 1;
  }
  json::value* current = &root[key.substr(0, open)];
  for (const std::string_view step : path) {
    if (step.empty()) {
      if (!current->is_array()) *current = json::array();
      current = &current->get_array().emplace_back(nullptr);
    } else {
      if (!current->is_object()) *current = json::object();
      current = &current->get_object()[step];
    }
  }
  *current = std::move(value);
}

void put_all(json::object& root, const http::Params& params) {
  for (const auto& [name, value] : params) put_parameter(root, name, value);
}

// Reads the named fields of a multipart/form-data body (files are read as their bytes).
Checked<http::Params> parse_multipart(std::string_view body, std::string_view content_type) {
  const std::string boundary = header_parameter(content_type, "boundary");
  if (boundary.empty() || boundary.size() > 200) return invalid_parameter("multipart body without a boundary");
  const std::string delimiter = "--" + boundary;
  http::Params params;
  std::size_t at = body.find(delimiter);
  if (at == std::string_view::npos) return invalid_parameter("malformed multipart body");
  for (std::size_t parts = 0;; ++parts) {
    at += delimiter.size();
    if (body.substr(at, 2) == "--") return params;
    if (parts == kMaxMultipartParts) return invalid_parameter("too many multipart parts");
    if (body.substr(at, 2) != "\r\n") return invalid_parameter("malformed multipart body");
    at += 2;
    const std::size_t head_end = body.find("\r\n\r\n", at);
    const std::size_t next = body.find("\r\n" + delimiter, at);
    if (head_end == std::string_view::npos || next == std::string_view::npos || head_end > next) {
      return invalid_parameter("malformed multipart body");
    }
    const std::string_view head = body.substr(at, head_end - at);
    std::string name;
    for (std::size_t line = 0; line < head.size();) {
      std::size_t line_end = head.find("\r\n", line);
      if (line_end == std::string_view::npos) line_end = head.size();
      const std::string_view header = head.substr(line, line_end - line);
      if (lowered(header.substr(0, 20)) == "content-disposition:") name = header_parameter(header, "name");
      line = line_end + 2;
    }
    if (!name.empty()) params.add(std::move(name), std::string(body.substr(head_end + 4, next - head_end - 4)));
    at = next + 2;
  }
}

std::string shortened(std::string_view text) {
  std::string result(text.substr(0, kMaxEchoedLength));
  std::erase_if(result, [](char c) { return static_cast<unsigned char>(c) < 0x20; });
  return result;
}

}  // namespace

GraphFailure invalid_parameter(std::string what) { return GraphFailure{GraphError::kInvalidParameter, {std::move(what)}}; }

bool Caller::has_permission(std::string_view code) const {
  return install && std::find(install->permissions.begin(), install->permissions.end(), code) != install->permissions.end();
}

std::optional<std::string> GraphParams::text(std::string_view name) const {
  const auto* value = values_.if_contains(name);
  if (value == nullptr) return std::nullopt;
  if (value->is_string()) return std::string(value->get_string());
  if (value->is_number() || value->is_bool()) return json::serialize(*value);
  return std::nullopt;
}

Checked<std::optional<boost::json::object>> GraphParams::object(std::string_view name) const {
  const auto* value = values_.if_contains(name);
  if (value == nullptr) return std::optional<json::object>();
  if (value->is_object()) return std::optional<json::object>(value->get_object());
  if (value->is_string()) {
    boost::system::error_code ec;
    json::value parsed = json::parse(value->get_string(), ec);
    if (!ec && parsed.is_object()) return std::optional<json::object>(std::move(parsed.get_object()));
  }
  return invalid_parameter("param " + std::string(name) + " must be a JSON object");
}

Checked<std::vector<std::string>> GraphParams::list(std::string_view name) const {
  std::vector<std::string> items;
  const auto* value = values_.if_contains(name);
  if (value == nullptr) return items;
  json::value parsed;
  if (value->is_string() && value->get_string().starts_with("[")) {
    boost::system::error_code ec;
    parsed = json::parse(value->get_string(), ec);
    if (ec) return invalid_parameter("param " + std::string(name) + " must be an array or a comma list");
    value = &parsed;
  }
  if (value->is_array()) {
    for (const json::value& item : value->get_array()) {
      if (!item.is_string()) return invalid_parameter("param " + std::string(name) + " must hold strings");
      items.emplace_back(item.get_string());
    }
    return items;
  }
  if (!value->is_string()) return invalid_parameter("param " + std::string(name) + " must be an array or a comma list");
  const std::string_view text = value->get_string();
  // Split at top-level commas only, so "a,b{c,d}" stays two items.
  int depth = 0;
  std::size_t start = 0;
  for (std::size_t i = 0; i <= text.size(); ++i) {
    if (i == text.size() || (text[i] == ',' && depth == 0)) {
      std::string item(text.substr(start, i - start));
      std::erase_if(item, [](char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; });
      if (!item.empty()) items.push_back(std::move(item));
      start = i + 1;
    } else if (text[i] == '{' || text[i] == '(') {
      ++depth;
    } else if ((text[i] == '}' || text[i] == ')') && depth > 0) {
      --depth;
    }
  }
  return items;
}

Checked<GraphParams> read_params(const http::Request& request) {
  json::object values;
  put_all(values, request.query_params());
  json::object json_body;
  const std::string type = media_type(request.header("Content-Type").value_or(""));
  if (!request.body().empty()) {
    if (type == "application/json" || type.ends_with("+json")) {
      boost::system::error_code ec;
      json::value body = json::parse(request.body(), ec);
      if (ec || !body.is_object()) return invalid_parameter("The request body is not a valid JSON object");
      json_body = std::move(body.get_object());
    } else if (type == "application/x-www-form-urlencoded" || type.empty()) {
      auto form = http::parse_form(request.body());
      if (!form.ok()) return invalid_parameter("The request body is not valid form encoding");
      put_all(values, *form);
    } else if (type == "multipart/form-data") {
      auto parts = parse_multipart(request.body(), request.header("Content-Type").value_or(""));
      if (const auto* failed = failure_of(parts)) return *failed;
      put_all(values, std::get<http::Params>(parts));
    } else {
      return invalid_parameter("Unsupported Content-Type: " + shortened(type));
    }
  }
  for (auto& member : values) normalize_indexes(member.value());
  for (auto& member : json_body) values[member.key()] = std::move(member.value());
  return GraphParams(std::move(values));
}

std::string GraphCall::path() const {
  std::string path;
  for (const std::string& segment : segments) path += "/" + segment;
  return path.empty() ? "/" : path;
}

std::optional<GraphFailure> require_any_permission(const GraphCall& call, std::vector<std::string_view> codes) {
  for (const std::string_view code : codes) {
    if (call.caller.has_permission(code)) return std::nullopt;
  }
  return GraphFailure{GraphError::kPermissionRequired, {std::string(codes.front())}};
}

GraphFailure unsupported(const GraphCall& call, std::string_view object_id) {
  return GraphFailure{GraphError::kUnsupportedRequest, {call.method, shortened(object_id)}};
}

std::string graph_time(std::int64_t unix_seconds) {
  const std::time_t time = static_cast<std::time_t>(unix_seconds);
  std::tm utc{};
  gmtime_r(&time, &utc);
  char text[32];
  const std::size_t length = std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S+0000", &utc);
  return std::string(text, length);
}

std::size_t utf8_length(std::string_view text) {
  return static_cast<std::size_t>(
      std::count_if(text.begin(), text.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

}  // namespace wik::emulator
