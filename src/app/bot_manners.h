// BotManners: the review-guideline defaults of include/wik/bot.h, run by the App around the app's
// chat handlers: the greeting on first contact and on Get Started, in-product help on the help words
// and the Help payload, the messenger profile at install, the menu every such answer carries, and
// the acknowledgement of an action the app's handler left unanswered.
//
// Who has been greeted is kept per community in the app table kPeopleTable (created by kSchema and
// registered like the app's own tables, so an uninstall purges it). Thread-safe: const after
// construction; every call works through the Context it is given.
#pragma once

#include <wik/bot.h>
#include <wik/context.h>
#include <wik/events.h>

#include <boost/asio/awaitable.hpp>

#include <string>

#include "app/events.h"

namespace wik::app {

class BotManners {
 public:
  static constexpr const char* kPeopleTable = "wik_bot_people";
  static constexpr const char* kSchema =
      "CREATE TABLE IF NOT EXISTS wik_bot_people (community_id TEXT NOT NULL, person_id TEXT NOT NULL,"
      " first_seen_ms BIGINT NOT NULL, PRIMARY KEY (community_id, person_id))";

  explicit BotManners(Bot bot) : bot_(std::move(bot)) {}
  const Bot& bot() const noexcept { return bot_; }

  // Answers what the kit answers itself before the app's handler runs: returns true when the
  // message is fully handled (help), false when the handler should run (after the greeting, for
  // a person writing for the first time).
  boost::asio::awaitable<Result<bool>> before_message(Context& context, const Message& message) const;
  // The same for a postback: Get Started and Help are the kit's.
  boost::asio::awaitable<Result<bool>> before_postback(Context& context, const Postback& postback) const;
  // Whether `event` is an action the kit acknowledges when the app's handler replied nothing: a
  // postback, or a message sent by a quick reply (and Bot::acknowledge_actions is set).
  bool acknowledges(const DecodedEvent& event) const noexcept;
  // Answers "Done." (wik.ack) in the context's language.
  boost::asio::awaitable<Result<void>> acknowledge(Context& context) const;
  // Sets the Get Started button and the greeting in every language of the catalogs.
  boost::asio::awaitable<Result<void>> set_profile(Context& context) const;

  // Returns `text` with the Help quick reply and the menu's, titled in the context's language.
  Reply with_menu(const Context& context, std::string text) const;

 private:
  boost::asio::awaitable<Result<void>> greet(Context& context, const std::string& person) const;
  boost::asio::awaitable<Result<void>> help(Context& context) const;
  bool is_help_word(const Context& context, std::string_view text) const;

  const Bot bot_;
};

}  // namespace wik::app
