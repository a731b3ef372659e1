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
// dead letter). A handler receives a Context (context.h) bound to the event's community:
// everything it can reach — the Graph API as that community, replies, the app's own rows
// (data.h) — belongs to that community only. Admin pages (admin.h) run behind the vendor's own
// sign-in and reach a community only by naming it.
// Register handlers, schema, tables and pages before start()/run(). start()/stop() are for
// embedding and tests.
#pragma once

#include <wik/account_link.h>
#include <wik/admin.h>
#include <wik/bot.h>
#include <wik/config.h>
#include <wik/context.h>
#include <wik/events.h>
#include <wik/link_preview.h>
#include <wik/reply.h>
#include <wik/result.h>
#include <wik/settings.h>

#include <boost/asio/awaitable.hpp>
#include <boost/beast/http/verb.hpp>
#include <boost/json/value.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace wik {

template <class Event>
using Handler = std::function<boost::asio::awaitable<Result<void>>(Context&, const Event&)>;

class App {
 public:
  explicit App(Config config);
  ~App();
  App(const App&) = delete;
  App& operator=(const App&) = delete;

  App& on_message(Handler<Message> handler);
  // The name people see on the sign-in, install and admin pages (default "This app").
  App& name(std::string display_name);

  App& on_postback(Handler<Postback> handler);
  App& on_mention(Handler<Mention> handler);
  App& on_group_post(Handler<GroupPost> handler);
  App& on_comment(Handler<Comment> handler);
  // Answers Workplace's link previews and collections for links to the app's content (needs the
  // link_unfurling permission and a `link` subscription; link_preview.h). The handler runs while
  // Workplace waits, within the webhooks' link deadline (3 s): a failure, a timeout or an answer
  // that breaks the rules answers "no preview". Its Context is the viewer's community and person;
  // replies are not possible there. Answers are kept for `cache_for` per community, viewer and
  // link, and a repeat within it is answered without the handler (0: no cache).
  App& on_link_preview(LinkPreviewHandler handler, std::chrono::seconds cache_for = std::chrono::seconds(60));
  // After an install or reinstall is recorded (e.g. to greet, or set up the community's data).
  App& on_install(Handler<Install> handler);
  // After an uninstall revoked the install; the context can no longer call the Graph API and
  // the community's data is being purged.
  App& on_uninstall(Handler<Uninstall> handler);

  // Gives the bot the platform's review-guideline manners (include/wik/bot.h): greeting, help,
  // messenger profile at install, texts in each person's language.
  App& bot(Bot bot);

  // Adds the app's own schema: statements separated by ';' in the common subset of SQLite and
  // PostgreSQL SQL, written to be re-run at every start (CREATE TABLE IF NOT EXISTS ...).
  App& schema(std::string statements);
  // Registers an application table holding community rows (`community_column` names the column),
  // so a deauthorization purges its rows too. The table must exist when the app starts (schema()).
  App& register_table(std::string table, std::string community_column);
  // Declares a setting each community's admins can set on its admin page (settings.h), read by
  // handlers with Context::setting(). REQUIRES (fatal otherwise): the name is [a-z0-9_], 1-64
  // characters, and not yet declared; max_length is 1 or more; the default is a valid value.
  App& community_setting(CommunitySetting setting);
  // Adds a page behind the vendor's admin sign-in at `path` (which must start with "/admin/"),
  // listed as `title` in the admin pages' navigation; GET shows it, POST sends its forms.
  App& admin_page(std::string path, std::string title, AdminHandler handler);
  // Sets how account-link URLs are made (Context::account_link_url, docs/identities.md); the
  // default lasts 15 minutes. REQUIRES (fatal otherwise): a lifetime of 1 minute to 24 hours.
  App& account_links(AccountLinkOptions options);

  // Declares a permission the handlers use through Context::graph() beyond what their events need
  // (for example "read_user_email" to read people's emails), so check_manifest() counts it as used.
  App& uses_permission(std::string permission);
  // Checks the app manifest at `app_toml` (docs/manifest.md) with the platform's review rules and
  // with what this app needs: a requested permission that no registered handler, the Bot or
  // uses_permission() needs is a warning ("request only what you need"). Returns one line per
  // finding, errors first ("error: tagline: ...", "warning: permissions[3]: ..."); empty when the
  // manifest is ready for review. kNotFound or kConfig when the file cannot be read or parsed.
  // Call it after registering the handlers, e.g. from a --check-manifest option of your binary.
  Result<std::vector<std::string>> check_manifest(const std::string& app_toml) const;

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
