// Catalog files: what a <locale>.json name, a message key and a file's contents must look like, and
// the parser that turns one file's text into key → pattern while collecting every problem it finds.
// Pure functions: no ICU (patterns are checked by i18n/message.h), no I/O.
#pragma once

#include <wik/result.h>

#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace wik::i18n {

// One thing wrong with a catalog, with the file (and key, when it is about one) it is in.
struct Problem {
  ErrorCode code;
  std::string file;
  std::string key;  // empty when the problem is with the whole file
  std::string what;

  friend bool operator==(const Problem&, const Problem&) = default;
};

// Returns an Error whose reason is `summary` followed by every distinct problem, sorted by file and
// key, one a line as "<file>: <key>: <what>"; its code is the first listed problem's.
// REQUIRES: !problems.empty().
Error to_error(std::string_view summary, std::vector<Problem> problems);

// Returns whether `name` is a locale name catalogs are filed under: a lower-case language, an
// optional script and an optional region, joined by '_' ("fr", "fr_CA", "zh_Hant_TW", "es_419").
bool is_locale_name(std::string_view name) noexcept;

// Returns whether `key` is a message key: one or more of [a-z0-9_.].
bool is_message_key(std::string_view key) noexcept;

// Returns `locale` followed by its ancestors, most specific first: "zh_Hant_TW" → {"zh_Hant_TW",
// "zh_Hant", "zh"}. A catalog inherits the keys it lacks from these, in this order.
std::vector<std::string> locale_chain(std::string_view locale);

using Patterns = std::map<std::string, std::string, std::less<>>;

// Returns the message key → pattern entries of catalog text `json`, read from `file`. Appends a
// problem for text that is not one JSON object (kMalformed) and for each key that is not a message
// key or whose value is not a string (kInvalidArgument), and leaves those entries out. When a key
// appears twice, the last one counts.
Patterns parse_catalog(std::string_view file, std::string_view json, std::vector<Problem>& problems);

}  // namespace wik::i18n
