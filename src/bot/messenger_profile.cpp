#include <wik/messenger_profile.h>

#include <boost/json/array.hpp>

#include <algorithm>
#include <cctype>

#include "bot/limit_checks.h"

namespace wik {
namespace {

bool is_lower(char c) { return std::islower(static_cast<unsigned char>(c)) != 0; }
bool is_upper(char c) { return std::isupper(static_cast<unsigned char>(c)) != 0; }

// Returns true for "default" and for a language_COUNTRY locale such as "fr_FR" or "fil_PH".
bool is_locale(std::string_view locale) {
  if (locale == MessengerProfile::kDefaultLocale) return true;
  const std::size_t underscore = locale.find('_');
  if (underscore != 2 && underscore != 3) return false;
  const std::string_view language = locale.substr(0, underscore);
  const std::string_view country = locale.substr(underscore + 1);
  return std::all_of(language.begin(), language.end(), is_lower) && country.size() == 2 &&
         std::all_of(country.begin(), country.end(), is_upper);
}

}  // namespace

MessengerProfile& MessengerProfile::get_started(std::string payload) {
  get_started_ = std::move(payload);
  return *this;
}

MessengerProfile& MessengerProfile::greeting(std::string locale, std::string text) {
  const auto same = std::find_if(greetings_.begin(), greetings_.end(),
                                 [&locale](const Greeting& greeting) { return greeting.locale == locale; });
  if (same != greetings_.end()) {
    same->text = std::move(text);
  } else {
    greetings_.push_back({std::move(locale), std::move(text)});
  }
  return *this;
}

Result<boost::json::object> MessengerProfile::body() const {
  if (!get_started_ && greetings_.empty()) {
    return Error(ErrorCode::kInvalidArgument, "a messenger profile needs a get_started payload or a greeting");
  }
  boost::json::object body;
  if (get_started_) {
    if (auto checked = bot::check_length("the get_started payload", *get_started_, kMaxGetStartedPayload); !checked) {
      return checked.error();
    }
    body["get_started"] = {{"payload", *get_started_}};
  }
  if (greetings_.empty()) return body;
  const bool has_default = std::any_of(greetings_.begin(), greetings_.end(),
                                       [](const Greeting& greeting) { return greeting.locale == kDefaultLocale; });
  if (!has_default) {
    return Error(ErrorCode::kInvalidArgument, "the greetings need one for the \"default\" locale");
  }
  boost::json::array greetings;
  for (const Greeting& greeting : greetings_) {
    if (!is_locale(greeting.locale)) {
      return Error(ErrorCode::kInvalidArgument, "the greeting locale \"" + greeting.locale.substr(0, 32) +
                                                    "\" is neither \"default\" nor a locale such as fr_FR");
    }
    if (auto checked = bot::check_length("the greeting for locale " + greeting.locale, greeting.text, kMaxGreeting); !checked) {
      return checked.error();
    }
    greetings.push_back({{"locale", greeting.locale}, {"text", greeting.text}});
  }
  body["greeting"] = std::move(greetings);
  return body;
}

}  // namespace wik
