// wik::Bot: the platform's review guidelines for Work Chat bots, as defaults an integration gets by
// calling App::bot() (docs/guide.md, "The bot's manners").
//
// With a Bot set, the kit:
//   - greets a person the first time they write (who the bot is, what it does, with the menu's
//     quick replies), and whenever they press Get Started;
//   - answers the help words of the person's language ("help", "aide", "ヘルプ", …: the catalog's
//     wik.help.words) and the Help quick reply with in-product help naming the support contact,
//     without calling the app's handler;
//   - sets the Get Started button and the greeting, in every language the catalogs have, through
//     the messenger profile at each install;
//   - gives handlers Context::text() in the person's language and Context::not_understood(), the
//     friendly answer with quick replies to try again.
// Every text comes from the catalogs (include/wik/i18n.h): the kit's wik.* keys are built in; the
// integration's catalogs add the keys named here. A plain value type.
#pragma once

#include <wik/i18n.h>

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace wik {

struct Bot {
  // The payloads the kit answers itself.
  static constexpr std::string_view kGetStartedPayload = "WIK_GET_STARTED";
  static constexpr std::string_view kHelpPayload = "WIK_HELP";

  Catalogs catalogs = Catalogs::builtin();
  std::string name_key = "bot.name";                   // the bot's name
  std::string what_key = "bot.what";                   // what it does, in one or two sentences
  std::string greeting_key = "bot.profile_greeting";   // the messenger profile's greeting, ≤ 160 characters
  std::string help_key;                                // more help after what the bot does (its commands); "" for none
  std::string support_contact;                         // named in the help text (the manifest's support contact)
  // Quick replies offered with the greeting, the help and not_understood(), after Help:
  // {catalog key of the title, payload}.
  std::vector<std::pair<std::string, std::string>> menu;
  // Every action is acknowledged: a postback button or a quick reply whose handler queued no reply
  // is answered "Done." (the catalogs' wik.ack) in the person's language.
  bool acknowledge_actions = true;
};

}  // namespace wik
