#include "i18n/message.h"

#include <unicode/fmtable.h>
#include <unicode/locid.h>
#include <unicode/messagepattern.h>
#include <unicode/msgfmt.h>
#include <unicode/timezone.h>
#include <unicode/unistr.h>
#include <unicode/utypes.h>

#include <algorithm>
#include <chrono>
#include <limits>
#include <mutex>
#include <type_traits>
#include <utility>

namespace wik::i18n {
namespace {

// The time zone id a Message's cached formatter uses, and that unknown time zones fall back to.
constexpr std::string_view kUtc = "Etc/UTC";

std::string to_utf8(const icu::UnicodeString& text) {
  std::string out;
  text.toUTF8String(out);
  return out;
}

icu::UnicodeString from_utf8(std::string_view text) {
  return icu::UnicodeString::fromUTF8(icu::StringPiece(text.data(), static_cast<int32_t>(text.size())));
}

// Returns what ICU's `status` means for a catalog author.
std::string_view explain(UErrorCode status) {
  switch (status) {
    case U_UNMATCHED_BRACES: return "a '{' without its '}'";
    case U_DEFAULT_KEYWORD_MISSING: return "a plural or select without an 'other' case";
    case U_DUPLICATE_KEYWORD: return "a plural or select case given twice";
    case U_ARGUMENT_TYPE_MISMATCH: return "one argument used as two different types";
    case U_ILLEGAL_ARGUMENT_ERROR: return "an unknown argument type or style";
    default: return "a syntax error";
  }
}

Error rejected(UErrorCode status, const UParseError& where) {
  std::string what = "ICU rejects the pattern: " + std::string(explain(status));
  // ICU reports 0 when it has no position (a missing 'other', an unmatched brace).
  if (where.offset > 0) what += " near character " + std::to_string(where.offset);
  return Error(ErrorCode::kInvalidArgument, what + " (" + u_errorName(status) + ")");
}

std::vector<std::string> names_in(const icu::MessagePattern& pattern) {
  std::vector<std::string> names;
  for (int32_t i = 0; i < pattern.countParts(); ++i) {
    const icu::MessagePattern::Part& part = pattern.getPart(i);
    if (part.getType() == UMSGPAT_PART_TYPE_ARG_NAME) names.push_back(to_utf8(pattern.getSubstring(part)));
    if (part.getType() == UMSGPAT_PART_TYPE_ARG_NUMBER) names.push_back(std::to_string(part.getValue()));
  }
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  return names;
}

// Returns ICU's canonical id for `time_zone` ("Europe/Paris"), or kUtc when it is not a system id.
std::string canonical_zone(std::string_view time_zone) {
  icu::UnicodeString canonical;
  UBool is_system = false;
  UErrorCode status = U_ZERO_ERROR;
  icu::TimeZone::getCanonicalID(from_utf8(time_zone), canonical, is_system, status);
  return U_SUCCESS(status) && is_system ? to_utf8(canonical) : std::string(kUtc);
}

icu::Formattable to_formattable(const MessageArg& arg) {
  return std::visit(
      [](const auto& value) {
        using T = std::decay_t<decltype(value)>;
        if constexpr (std::is_same_v<T, std::string>) {
          return icu::Formattable(from_utf8(value));  // ICU turns invalid UTF-8 into U+FFFD
        } else if constexpr (std::is_same_v<T, std::chrono::system_clock::time_point>) {
          const UDate millis = std::chrono::duration<double, std::milli>(value.time_since_epoch()).count();
          return icu::Formattable(millis, icu::Formattable::kIsDate);
        } else {
          return icu::Formattable(value);
        }
      },
      arg);
}

}  // namespace

// An ICU MessageFormat and the mutex that serialises its use.
struct Message::Formatter {
  // Returns a formatter of `pattern` for `locale` with dates in time zone `zone` (a canonical id).
  static Result<std::unique_ptr<Formatter>> create(const icu::UnicodeString& pattern, const std::string& locale,
                                                   std::string_view zone) {
    UParseError where{};
    UErrorCode status = U_ZERO_ERROR;
    // The "timezone" keyword is what ICU's date formats inside the message take their zone from,
    // nested ones (in a plural branch) included.
    const icu::Locale zoned((locale + "@timezone=" + std::string(zone)).c_str());
    auto formatter = std::make_unique<Formatter>(pattern, zoned, where, status);
    if (U_FAILURE(status)) return rejected(status, where);
    return formatter;
  }

  Formatter(const icu::UnicodeString& pattern, const icu::Locale& locale, UParseError& where, UErrorCode& status)
      : format(pattern, locale, where, status) {}

  std::optional<std::string> run(const std::vector<icu::UnicodeString>& names,
                                 const std::vector<icu::Formattable>& values) {
    icu::UnicodeString out;
    UErrorCode status = U_ZERO_ERROR;
    {
      const std::lock_guard lock(mutex);
      format.format(names.data(), values.data(), static_cast<int32_t>(names.size()), out, status);
    }
    if (U_FAILURE(status)) return std::nullopt;
    return to_utf8(out);
  }

  std::mutex mutex;
  icu::MessageFormat format;
};

Result<Message> Message::compile(std::string pattern, std::string locale) {
  const icu::UnicodeString text = from_utf8(pattern);
  UParseError where{};
  UErrorCode status = U_ZERO_ERROR;
  const icu::MessagePattern parsed(text, &where, status);
  if (U_FAILURE(status)) return rejected(status, where);
  auto utc = Formatter::create(text, locale, kUtc);
  if (!utc.ok()) return utc.error();
  return Message(std::move(pattern), std::move(locale), names_in(parsed), std::move(utc).value());
}

Message::Message(std::string pattern, std::string locale, std::vector<std::string> argument_names,
                 std::unique_ptr<Formatter> utc)
    : pattern_(std::move(pattern)),
      locale_(std::move(locale)),
      argument_names_(std::move(argument_names)),
      utc_(std::move(utc)) {}

Message::Message(Message&&) noexcept = default;
Message& Message::operator=(Message&&) noexcept = default;
Message::~Message() = default;

std::optional<std::string> Message::format(const MessageArgs& args, std::string_view time_zone) const {
  if (args.size() > static_cast<std::size_t>(std::numeric_limits<int32_t>::max())) return std::nullopt;
  std::vector<icu::UnicodeString> names;
  std::vector<icu::Formattable> values;
  names.reserve(args.size());
  values.reserve(args.size());
  for (const auto& [name, value] : args) {
    names.push_back(from_utf8(name));
    values.push_back(to_formattable(value));
  }
  const std::string zone = time_zone == Catalogs::kDefaultTimeZone ? std::string(kUtc) : canonical_zone(time_zone);
  if (zone == kUtc) return utc_->run(names, values);
  auto zoned = Formatter::create(from_utf8(pattern_), locale_, zone);
  return zoned.ok() ? zoned.value()->run(names, values) : std::nullopt;
}

}  // namespace wik::i18n
