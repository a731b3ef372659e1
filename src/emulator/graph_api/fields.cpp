#include "emulator/graph_api/fields.h"

#include <boost/url/encode.hpp>
#include <boost/url/rfc/unreserved_chars.hpp>

#include <algorithm>
#include <cctype>

#include "core/base64url.h"
#include "core/decimal.h"

namespace wik::emulator {
namespace {

namespace json = boost::json;

// Bounds on a selection: longer or deeper ones are refused, not parsed.
constexpr std::size_t kMaxSelectionLength = 4096;
constexpr int kMaxSelectionDepth = 6;
// Page sizes (PROTOCOL.md §11.3; taaskly asks for 5000).
constexpr std::size_t kDefaultPageSize = 25;
constexpr std::size_t kMaxPageSize = 5000;
constexpr std::string_view kCursorPrefix = "wik-cursor:";

bool is_name_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_'; }

class SelectionParser {
 public:
  explicit SelectionParser(std::string_view text) : text_(text) {}

  Checked<std::vector<FieldSpec>> parse() {
    auto list = parse_list(0);
    if (failure_of(list) != nullptr) return list;
    skip_space();
    if (pos_ != text_.size()) return error("unexpected '" + std::string(1, text_[pos_]) + "'");
    return list;
  }

 private:
  Checked<std::vector<FieldSpec>> parse_list(int depth) {
    if (depth > kMaxSelectionDepth) return error("fields are nested too deeply");
    std::vector<FieldSpec> list;
    for (;;) {
      skip_space();
      if (pos_ == text_.size() || text_[pos_] == '}') {
        if (!list.empty()) return error("a field name is missing");
        return list;
      }
      auto item = parse_item(depth);
      if (const auto* failed = failure_of(item)) return *failed;
      list.push_back(std::move(std::get<FieldSpec>(item)));
      skip_space();
      if (pos_ < text_.size() && text_[pos_] == ',') {
        ++pos_;
        continue;
      }
      return list;
    }
  }

  Checked<FieldSpec> parse_item(int depth) {
    FieldSpec spec;
    spec.name = read_name();
    if (spec.name.empty()) return error("a field name is missing");
    for (;;) {
      skip_space();
      if (pos_ < text_.size() && text_[pos_] == '.') {
        ++pos_;
        if (auto failed = parse_modifier(spec)) return *failed;
      } else if (pos_ < text_.size() && text_[pos_] == '{') {
        if (!spec.children.empty()) return error("two selections for field " + spec.name);
        ++pos_;
        auto children = parse_list(depth + 1);
        if (const auto* failed = failure_of(children)) return *failed;
        spec.children = std::move(std::get<std::vector<FieldSpec>>(children));
        skip_space();
        if (pos_ == text_.size() || text_[pos_] != '}') return error("a '}' is missing");
        ++pos_;
        if (spec.children.empty()) return error("empty selection for field " + spec.name);
      } else {
        return spec;
      }
    }
  }

  std::optional<GraphFailure> parse_modifier(FieldSpec& spec) {
    const std::string modifier = read_name();
    skip_space();
    if (modifier.empty() || pos_ == text_.size() || text_[pos_] != '(') return error("a modifier is malformed");
    const auto close = text_.find(')', pos_);
    if (close == std::string_view::npos) return error("a ')' is missing");
    const std::string_view argument = text_.substr(pos_ + 1, close - pos_ - 1);
    pos_ = close + 1;
    if (modifier == "limit") {
      const auto limit = core::parse_unsigned_decimal(argument);
      if (!limit || *limit > static_cast<std::int64_t>(kMaxPageSize)) return error("limit must be 0 to 5000");
      spec.limit = static_cast<std::size_t>(*limit);
    } else if (modifier == "as") {
      if (argument.empty() || !std::all_of(argument.begin(), argument.end(), is_name_char)) {
        return error("an alias must be a name");
      }
      spec.alias = std::string(argument);
    }
    // Other modifiers (.order(), .summary(), .since() …) are accepted and have no effect here.
    return std::nullopt;
  }

  std::string read_name() {
    const std::size_t start = pos_;
    while (pos_ < text_.size() && is_name_char(text_[pos_])) ++pos_;
    return std::string(text_.substr(start, pos_ - start));
  }

  void skip_space() {
    while (pos_ < text_.size() && std::isspace(static_cast<unsigned char>(text_[pos_])) != 0) ++pos_;
  }

  static GraphFailure error(std::string what) { return invalid_parameter("Syntax error in fields: " + what); }

  std::string_view text_;
  std::size_t pos_ = 0;
};

json::value narrowed(const json::value& value, const FieldSpec& spec);

// Returns the members of `object` that `specs` name (unknown names of nested objects are skipped,
// as the platform's nested objects have no declared type here).
json::object picked(const json::object& object, const std::vector<FieldSpec>& specs) {
  json::object result;
  for (const FieldSpec& spec : specs) {
    if (const auto* value = object.if_contains(spec.name)) {
      result[spec.alias.empty() ? spec.name : spec.alias] = narrowed(*value, spec);
    }
  }
  return result;
}

// Returns `value` with the spec's limit and nested selection applied.
json::value narrowed(const json::value& value, const FieldSpec& spec) {
  if (!value.is_object()) return value;
  const json::object& object = value.get_object();
  const auto* data = object.if_contains("data");
  if (data != nullptr && data->is_array()) {  // an edge
    json::array items;
    for (const json::value& item : data->get_array()) {
      if (spec.limit && items.size() >= *spec.limit) break;
      items.push_back(!spec.children.empty() && item.is_object() ? json::value(picked(item.get_object(), spec.children))
                                                                 : item);
    }
    json::object edge = object;
    edge["data"] = std::move(items);
    return edge;
  }
  return spec.children.empty() ? value : json::value(picked(object, spec.children));
}

std::string cursor_of(std::size_t index) {
  return core::base64url_encode(std::string(kCursorPrefix) + std::to_string(index));
}

std::optional<std::size_t> index_of(std::string_view cursor) {
  auto decoded = core::base64url_decode(cursor);
  if (!decoded.ok() || !decoded->starts_with(kCursorPrefix)) return std::nullopt;
  const auto index = core::parse_unsigned_decimal(std::string_view(*decoded).substr(kCursorPrefix.size()));
  if (!index) return std::nullopt;
  return static_cast<std::size_t>(*index);
}

// Parameters never copied into paging links: the credentials, and the cursors that are replaced.
bool kept_in_links(std::string_view name) {
  return name != "access_token" && name != "appsecret_proof" && name != "appsecret_time" && name != "after" &&
         name != "before" && name != "limit";
}

std::string encoded(std::string_view text) { return boost::urls::encode(text, boost::urls::unreserved_chars); }

// Returns the Graph host's base URL: the configured one, else http:// and the request's Host.
std::string graph_base(const GraphCall& call, const std::string& base_url) {
  if (!base_url.empty()) return base_url;
  std::string host(call.request.header("Host").value_or("localhost"));
  std::erase_if(host, [](char c) { return !(std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '.' || c == ':' || c == '-' || c == '[' || c == ']'); });
  return "http://" + host;
}

std::string page_link(const GraphCall& call, const std::string& base_url, std::size_t limit, std::string_view cursor_name,
                      const std::string& cursor) {
  std::string url = graph_base(call, base_url) + call.version + call.path() + "?";
  for (const auto& [name, value] : call.request.query_params()) {
    if (kept_in_links(name)) url += encoded(name) + "=" + encoded(value) + "&";
  }
  url += "limit=" + std::to_string(limit) + "&" + std::string(cursor_name) + "=" + cursor;
  return url;
}

}  // namespace

Checked<std::vector<FieldSpec>> parse_fields(std::string_view text) {
  if (text.size() > kMaxSelectionLength) return invalid_parameter("fields is too long");
  return SelectionParser(text).parse();
}

Checked<boost::json::object> select_fields(const Node& node, const std::vector<FieldSpec>& selection) {
  json::object result;
  if (selection.empty()) {
    for (const std::string& name : node.default_fields) {
      if (const auto* value = node.fields.if_contains(name)) result[name] = *value;
    }
    return result;
  }
  for (const FieldSpec& spec : selection) {
    if (node.withheld.contains(spec.name)) continue;
    const auto* value = node.fields.if_contains(spec.name);
    if (value == nullptr) return GraphFailure{GraphError::kNonexistingField, {spec.name, node.type}};
    result[spec.alias.empty() ? spec.name : spec.alias] = narrowed(*value, spec);
  }
  return result;
}

Checked<std::vector<FieldSpec>> requested_fields(const GraphCall& call) {
  auto names = call.params.list("fields");
  if (const auto* failed = failure_of(names)) return *failed;
  std::string joined;
  for (const std::string& name : std::get<std::vector<std::string>>(names)) {
    if (!joined.empty()) joined += ',';
    joined += name;
    if (joined.size() > kMaxSelectionLength) return invalid_parameter("fields is too long");
  }
  return parse_fields(joined);
}

Reply paged_reply(const GraphCall& call, const std::vector<Node>& nodes, const std::string& base_url) {
  auto selection = requested_fields(call);
  if (const auto* failed = failure_of(selection)) return *failed;
  std::size_t limit = kDefaultPageSize;
  if (const auto text = call.params.text("limit")) {
    const auto parsed = core::parse_unsigned_decimal(*text);
    if (!parsed || *parsed == 0) return invalid_parameter("limit must be a positive integer");
    limit = std::min(static_cast<std::size_t>(*parsed), kMaxPageSize);
  }
  std::size_t begin = 0;
  std::size_t end = nodes.size();
  if (const auto after = call.params.text("after")) {
    const auto index = index_of(*after);
    if (!index) return invalid_parameter("Invalid cursor");
    begin = std::min(*index + 1, nodes.size());
    end = std::min(nodes.size(), begin + limit);
  } else if (const auto before = call.params.text("before")) {
    const auto index = index_of(*before);
    if (!index) return invalid_parameter("Invalid cursor");
    end = std::min(*index, nodes.size());
    begin = end > limit ? end - limit : 0;
  } else {
    end = std::min(nodes.size(), limit);
  }
  json::array data;
  for (std::size_t i = begin; i < end; ++i) {
    auto selected = select_fields(nodes[i], std::get<std::vector<FieldSpec>>(selection));
    if (const auto* failed = failure_of(selected)) return *failed;
    data.push_back(std::move(std::get<json::object>(selected)));
  }
  json::object body;
  body["data"] = std::move(data);
  if (begin < end) {
    json::object paging;
    paging["cursors"] = json::object{{"before", cursor_of(begin)}, {"after", cursor_of(end - 1)}};
    if (end < nodes.size()) paging["next"] = page_link(call, base_url, limit, "after", cursor_of(end - 1));
    if (begin > 0) paging["previous"] = page_link(call, base_url, limit, "before", cursor_of(begin));
    body["paging"] = std::move(paging);
  }
  return json::value(std::move(body));
}

}  // namespace wik::emulator
