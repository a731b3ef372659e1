// wik::Context: what a handler (or an admin page) can do for one community.
//
// A Context is bound to one community when the kit makes it: the Graph API as that community
// (signed with a fresh appsecret_proof each call), Work Chat messages to its people, and the app's
// own rows of that community (data.h) and its settings (settings.h). Nothing reached through it
// belongs to another community.
// The install is looked up at each use, so a handler still running after an uninstall can no
// longer call the Graph API (kUnauthenticated). Texts come in the language of the person the event
// came from: the kit reads their platform locale before the handler runs. A Context lives as long as the handler call it
// was given to; its methods are called from that handler's coroutine only.
#pragma once

#include <wik/account_link.h>
#include <wik/data.h>
#include <wik/i18n.h>
#include <wik/reply.h>
#include <wik/result.h>
#include <wik/settings.h>

#include <boost/asio/awaitable.hpp>
#include <boost/beast/http/verb.hpp>
#include <boost/json/value.hpp>

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace wik {

class Context {
 public:
  virtual ~Context() = default;
  // The community the context is bound to.
  virtual const std::string& community_id() const = 0;
  // The app's own rows of this community. Each call commits at once: a handler that is retried
  // (after a failure, a timeout or a crash) makes its writes again; see commit_with_event().
  virtual Data& data() = 0;
  // Runs `work` inside the transaction that marks this webhook event handled, so the handler's
  // writes commit exactly when its event does: a handler that fails or is cut off by a crash has
  // written nothing, and one handled once has written once. `work` runs after the handler
  // returned successfully, on the kit's blocking pool, after the earlier events of this community
  // are committed; its statements follow Data's rules ($1 is the community id). It may run more
  // than once (a commit that fails is retried with its event), so it must touch nothing but its
  // DataTransaction and what it owns: capture by value. When `work` fails, nothing of the event
  // is committed and the event is retried like a failed handler (its later events wait behind
  // it). Returns kInvalidArgument when there is no webhook event to commit with (an admin page,
  // an install or uninstall hook).
  virtual Result<void> commit_with_event(std::function<Result<void>(DataTransaction&)> work) = 0;
  // The value of setting `name` (App::community_setting) for this community: what its admins
  // set on the admin pages, or the declared default when they set none. kInvalidArgument when
  // the app declared no setting `name`; kUnavailable when the database did not answer in time.
  virtual boost::asio::awaitable<Result<std::string>> setting(std::string name) = 0;
  // Sends `reply` to whoever caused the event: the person (1:1 chat) or the thread (group chat).
  // kInvalidArgument when the reply breaks a Send API limit, or when there is no one to reply to
  // (an event that did not come from a chat, an admin page); Graph errors otherwise.
  virtual boost::asio::awaitable<Result<void>> reply(const Reply& reply) = 0;
  // Sends `reply` to person `user_id` (app-scoped) of this community.
  virtual boost::asio::awaitable<Result<void>> send(std::string user_id, const Reply& reply) = 0;
  // The platform locale (e.g. "fr_CA") of the person the event came from, read from the Graph
  // API once and cached; "" when unknown or when the event came from no person.
  virtual boost::asio::awaitable<std::string> locale() = 0;
  // Message `key` of the app's catalogs (App::bot) in the language of the person the event came
  // from (the default locale when none, or when the app set no Bot), formatted with `args`.
  virtual std::string text(std::string_view key, const MessageArgs& args = {}) const = 0;
  // Replies with the friendly answer to input the bot does not understand, with quick replies to
  // try again (Help and the Bot's menu).
  virtual boost::asio::awaitable<Result<void>> not_understood() = 0;
  // Calls the Graph API as this community and returns the JSON.
  virtual boost::asio::awaitable<Result<boost::json::value>> graph(
      boost::beast::http::verb method, std::string path, std::vector<std::pair<std::string, std::string>> query = {},
      std::optional<boost::json::value> body = std::nullopt) = 0;

  // ---- Account linking (account_link.h, docs/identities.md)
  // The vendor account linked to the person the event came from, in this community; nullopt when
  // they linked none. kInvalidArgument when the event came from no person (an admin page, an
  // install hook); kUnavailable when the database did not answer in time.
  virtual boost::asio::awaitable<Result<std::optional<LinkedAccount>>> linked_account() = 0;
  // Returns a fresh URL of the kit's link page for the person the event came from, in this
  // community: usable once, for AccountLinkOptions::lifetime (15 minutes unless App::account_links
  // says otherwise), to link an account signed in on the browser that opens it. Records the
  // person's identity first: their app-scoped id, and their email when the install has the
  // read_user_email permission (read from the Graph API as this community). The URL is a
  // credential of that person: send it to them alone (a 1:1 chat, or send() from a group chat),
  // never log it. Errors as linked_account(), plus kNotFound when the app is no longer installed
  // and the Graph API's errors.
  virtual boost::asio::awaitable<Result<std::string>> account_link_url() = 0;
  // Removes the link of the person the event came from, if any. Errors as linked_account().
  virtual boost::asio::awaitable<Result<void>> unlink_account() = 0;
};

}  // namespace wik
