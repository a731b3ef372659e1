// MessengerProfile: how a bot introduces itself in Work Chat (PROTOCOL.md §9.3): the payload of
// its Get Started button and its greeting per locale, rendered as the JSON body of
// POST /me/messenger_profile and checked against the platform's limits first.
//
//   auto profile = wik::MessengerProfile()
//                      .get_started("GET_STARTED")
//                      .greeting("default", "Hi! I file expenses.")
//                      .greeting("fr_FR", "Bonjour !");
//   // body() → {"get_started":{"payload":"GET_STARTED"},
//   //           "greeting":[{"locale":"default","text":"Hi! I file expenses."},{"locale":"fr_FR","text":"Bonjour !"}]}
//
// Limits, in characters (code points of valid UTF-8): greeting text 1–160, get_started payload
// 1–1,000. Greetings need one for the "default" locale; other locales are written like fr_FR.
// Pressing Get Started sends the payload to the bot as a postback. A plain value type;
// thread-compatible.
#pragma once

#include <wik/result.h>

#include <boost/json/object.hpp>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace wik {

class MessengerProfile {
 public:
  static constexpr std::size_t kMaxGreeting = 160;
  static constexpr std::size_t kMaxGetStartedPayload = 1000;
  static constexpr std::string_view kDefaultLocale = "default";

  // Sets the payload the Get Started button sends.
  MessengerProfile& get_started(std::string payload);
  // Sets the greeting shown to people of `locale` ("default", or a locale such as "fr_FR") before
  // they first write; a second greeting for the same locale replaces the first.
  MessengerProfile& greeting(std::string locale, std::string text);

  // Returns the body of POST /me/messenger_profile (greetings in the order their locales were first
  // set), or kInvalidArgument naming the limit that is exceeded, an ill-formed locale, a missing
  // "default" greeting, or an empty profile.
  Result<boost::json::object> body() const;

 private:
  struct Greeting {
    std::string locale;
    std::string text;
  };
  std::optional<std::string> get_started_;
  std::vector<Greeting> greetings_;
};

}  // namespace wik
