// wik::App: the façade an integration author uses. Register handlers for the platform's events,
// register the app's own tables, and run: wik serves the install flows, the deauthorize callback
// (revoke + purge every registered table), the webhook callback (verified, durable, ordered per
// community) and health, readiness and metrics, all from one Config (docs/guide.md).
//
//   wik::App app(config);
//   app.on_message([](wik::Context& ctx, const wik::Message& message) -> boost::asio::awaitable<wik::Result<void>> {
//     co_return co_await ctx.reply(wik::Reply::text("You said: " + message.text));
//   });
//   return app.run() ? 0 : 1;
//
// Handlers are coroutines returning Result<void>; an Error makes the event retry later (then a
// dead letter). A handler receives a Context bound to the event's community: everything it can
// reach — the Graph API as that community, replies — belongs to that community only.
// Register handlers and tables before start()/run(). start()/stop() are for embedding and tests.
#pragma once

#include <wik/config.h>
#include <wik/events.h>
#include <wik/reply.h>
#include <wik/result.h>

#include <boost/asio/awaitable.hpp>
#include <boost/beast/http/verb.hpp>
#include <boost/json/value.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace wik {

// What a handler can do for the community of the event it handles.
class Context {
 public:
  virtual ~Context() = default;
  // The community the event came from.
  virtual const std::string& community_id() const = 0;
  // Sends `reply` to whoever caused the event: the person (1:1 chat) or the thread (group chat).
  // kInvalidArgument when the reply breaks a Send API limit; Graph errors otherwise.
  virtual boost::asio::awaitable<Result<void>> reply(const Reply& reply) = 0;
  // Calls the Graph API as this community (signed with a fresh appsecret_proof) and returns the JSON.
  virtual boost::asio::awaitable<Result<boost::json::value>> graph(
      boost::beast::http::verb method, std::string path, std::vector<std::pair<std::string, std::string>> query = {},
      std::optional<boost::json::value> body = std::nullopt) = 0;
};

template <class Event>
using Handler = std::function<boost::asio::awaitable<Result<void>>(Context&, const Event&)>;

class App {
 public:
  explicit App(Config config);
  ~App();
  App(const App&) = delete;
  App& operator=(const App&) = delete;

  App& on_message(Handler<Message> handler);
  App& on_postback(Handler<Postback> handler);
  App& on_mention(Handler<Mention> handler);
  App& on_group_post(Handler<GroupPost> handler);
  App& on_comment(Handler<Comment> handler);
  // Registers an application table holding community rows (`community_column` names the column),
  // so a deauthorization purges its rows too. The table must exist when the app starts.
  App& register_table(std::string table, std::string community_column);

  // Sets up logging (config.log, with every configured secret redacted), opens the store, starts
  // serving and returns; kConfig naming what is missing or invalid.
  Result<void> start();
  // The port the server listens on. REQUIRES: start() succeeded.
  std::uint16_t port() const;
  // Stops serving: in-flight requests and handlers finish, then everything is closed.
  void stop();
  // start(), then serve until SIGTERM or SIGINT, then stop(). Returns start()'s error, if any.
  Result<void> run();

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace wik
