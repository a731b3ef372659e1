#include "i18n/catalog_file.h"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <algorithm>
#include <tuple>

namespace wik::i18n {
namespace {

bool all_in(std::string_view text, char first, char last) {
  return std::all_of(text.begin(), text.end(), [first, last](char c) { return c >= first && c <= last; });
}

std::vector<std::string_view> split(std::string_view text, char separator) {
  std::vector<std::string_view> parts;
  for (std::size_t start = 0;;) {
    const std::size_t end = text.find(separator, start);
    if (end == std::string_view::npos) {
      parts.push_back(text.substr(start));
      return parts;
    }
    parts.push_back(text.substr(start, end - start));
    start = end + 1;
  }
}

std::string_view json_kind(const boost::json::value& value) {
  switch (value.kind()) {
    case boost::json::kind::null: return "null";
    case boost::json::kind::bool_: return "a boolean";
    case boost::json::kind::int64:
    case boost::json::kind::uint64:
    case boost::json::kind::double_: return "a number";
    case boost::json::kind::string: return "a string";
    case boost::json::kind::array: return "an array";
    case boost::json::kind::object: return "an object";
  }
  return "a JSON value";
}

}  // namespace

Error to_error(std::string_view summary, std::vector<Problem> problems) {
  if (problems.empty()) fatal("i18n::to_error called without problems");
  std::sort(problems.begin(), problems.end(), [](const Problem& a, const Problem& b) {
    return std::tie(a.file, a.key, a.what) < std::tie(b.file, b.key, b.what);
  });
  problems.erase(std::unique(problems.begin(), problems.end()), problems.end());
  std::string reason(summary);
  for (const Problem& problem : problems) {
    reason += "\n" + problem.file + ": ";
    if (!problem.key.empty()) reason += problem.key + ": ";
    reason += problem.what;
  }
  return Error(problems.front().code, std::move(reason));
}

bool is_locale_name(std::string_view name) noexcept {
  const std::vector<std::string_view> subtags = split(name, '_');
  const std::string_view language = subtags.front();
  if (language.size() < 2 || language.size() > 3 || !all_in(language, 'a', 'z')) return false;
  std::size_t next = 1;
  const auto is_script = [](std::string_view s) {
    return s.size() == 4 && all_in(s.substr(0, 1), 'A', 'Z') && all_in(s.substr(1), 'a', 'z');
  };
  const auto is_region = [](std::string_view s) {
    return (s.size() == 2 && all_in(s, 'A', 'Z')) || (s.size() == 3 && all_in(s, '0', '9'));
  };
  if (next < subtags.size() && is_script(subtags[next])) ++next;
  if (next < subtags.size() && is_region(subtags[next])) ++next;
  return next == subtags.size();
}

bool is_message_key(std::string_view key) noexcept {
  return !key.empty() && std::all_of(key.begin(), key.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.';
  });
}

std::vector<std::string> locale_chain(std::string_view locale) {
  std::vector<std::string> chain;
  for (std::string current(locale); !current.empty();) {
    chain.push_back(current);
    const std::size_t last = current.rfind('_');
    current.resize(last == std::string::npos ? 0 : last);
  }
  return chain;
}

Patterns parse_catalog(std::string_view file, std::string_view json, std::vector<Problem>& problems) {
  boost::system::error_code error;
  const boost::json::value document = boost::json::parse(json, error);
  if (error) {
    problems.push_back({ErrorCode::kMalformed, std::string(file), {}, "not valid JSON (" + error.message() + ")"});
    return {};
  }
  if (!document.is_object()) {
    problems.push_back(
        {ErrorCode::kMalformed, std::string(file), {}, "not a JSON object but " + std::string(json_kind(document))});
    return {};
  }
  Patterns patterns;
  for (const auto& [key, value] : document.get_object()) {
    if (!is_message_key(key)) {
      // Quoted and escaped, so that whatever the key holds shows plainly on one line.
      const std::string quoted = boost::json::serialize(boost::json::string(key));
      problems.push_back({ErrorCode::kInvalidArgument, std::string(file), quoted,
                          "not a message key (use only a-z, 0-9, '_' and '.')"});
    } else if (!value.is_string()) {
      problems.push_back({ErrorCode::kInvalidArgument, std::string(file), std::string(key),
                          "the value is " + std::string(json_kind(value)) + ", not a string"});
    } else {
      patterns.emplace(std::string(key), std::string(value.get_string()));
    }
  }
  return patterns;
}

}  // namespace wik::i18n
