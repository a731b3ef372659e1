// wik::Catalogs: the user-facing strings of an integration and of the kit, in every language the
// integration supports, formatted by ICU (plural rules, numbers and dates of each locale).
//
// A catalog is one <locale>.json file: a flat JSON object from message key ([a-z0-9_.]+) to an ICU
// MessageFormat pattern with named arguments. The kit's own strings (keys "wik.…") are built in, in
// en, fr, de, es, pt and ja; an integration's folder adds keys and may override the kit's. A lookup
// falls back from a regional locale to its language and then to the default locale
// (fr_CA → fr → en); a key found nowhere renders visibly as "[[key]]". Dates and times are
// formatted in UTC unless text() is given another time zone.
//
// A Catalogs is immutable once built: copies are cheap and share it, and every method may be called
// from any number of threads at once. Loading rejects bad files, keys and patterns, listing every
// problem; check() is what turns a missing translation into an error, typically in a test.
// docs/i18n.md has the details.
#pragma once

#include <wik/result.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace wik {

// One message argument: an integer or a number (for plural, number or plain {n}), a UTF-8 string
// (invalid sequences render as U+FFFD), or a point in time (for date and time).
using MessageArg = std::variant<std::int64_t, double, std::string, std::chrono::system_clock::time_point>;
// Named message arguments, e.g. {{"count", 3}, {"name", "Ana"}}.
using MessageArgs = std::vector<std::pair<std::string, MessageArg>>;

class Catalogs {
 public:
  // A catalog file larger than this is rejected (kTooLarge).
  static constexpr std::uintmax_t kMaxFileBytes = 1024 * 1024;
  // The time zone text() formats dates and times in unless told otherwise.
  static constexpr std::string_view kDefaultTimeZone = "UTC";

  // Loads every <locale>.json in `folder` on top of the kit's built-in catalogs. The result supports
  // the locales `folder` has files for, plus `default_locale`, which needs a catalog of its own or of
  // its language (a file or a built-in one). Fails listing every problem, each with its file and key:
  // kNotFound (no such folder), kMalformed (a file that is not a JSON object), kTooLarge (a file over
  // kMaxFileBytes), kInvalidArgument (a bad file name, key, value, ICU pattern or default locale);
  // the error's code is that of the first problem listed.
  static Result<Catalogs> load(const std::filesystem::path& folder, std::string default_locale = "en");

  // Returns the kit's built-in catalogs alone: en, fr, de, es, pt and ja, plus `default_locale`.
  // A `default_locale` with no built-in strings of its own or of its language becomes "en".
  static Catalogs builtin(std::string default_locale = "en");

  // Returns message `key` in the supported locale that best matches `locale` (see resolve()), else
  // in that locale's language, else in the default locale (fr_CA → fr → en), formatted with `args`
  // in the conventions of the locale it is found for, dates and times in `time_zone` (an IANA id
  // such as "Europe/Paris"; an unknown id means UTC). Returns "[[key]]" when no catalog has `key` or
  // when `args` do not fit its pattern (a string where plural needs a number); an argument the
  // pattern names but `args` lacks renders as "{name}". Logs nothing.
  std::string text(std::string_view locale, std::string_view key, const MessageArgs& args = {},
                   std::string_view time_zone = kDefaultTimeZone) const;

  // Returns ok when every supported locale has every key of the default locale (its own or its
  // language's: fr_CA inherits from fr), no key the default locale lacks, and the same argument
  // names in each pattern as the default locale. Otherwise kInvalidArgument listing every problem,
  // one a line, as "<file>: <key>: <what>". (Patterns that do not parse never get here: load()
  // rejects them.)
  Result<void> check() const;

  // Returns the supported locales, sorted ("de", "en", "fr", "fr_CA", …).
  std::vector<std::string> locales() const;

  const std::string& default_locale() const noexcept;

  // Returns the supported locale that best matches a platform locale such as "fr_CA", "fr-CA",
  // "pt_BR", "ja_JP" or "en_US.UTF-8", using CLDR's language-matching data (fr_BE → fr, pt_PT →
  // pt_BR when only that is supported), or the default locale when no supported one is close.
  std::string resolve(std::string_view platform_locale) const;

 private:
  struct State;
  explicit Catalogs(std::shared_ptr<const State> state);

  std::shared_ptr<const State> state_;
};

}  // namespace wik
