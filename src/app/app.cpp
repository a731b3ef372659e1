#include <wik/app.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/json/parse.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <condition_variable>
#include <mutex>
#include <set>
#include <thread>

#include "admin/admin_pages.h"
#include "app/bot_manners.h"
#include "app/community_context.h"
#include "app/database.h"
#include "app/events.h"
#include "app/graph_access.h"
#include "app/link_previews.h"
#include "app/process_memory.h"
#include "http/offload.h"
#include "config/config.h"
#include "core/clock.h"
#include "core/key_ring.h"
#include "core/secure_random.h"
#include "deauth/deauthorization.h"
#include "deauth/reverify.h"
#include "graph/graph_client.h"
#include "http/client/client.h"
#include "http/server/server.h"
#include "http/server/shutdown.h"
#include "identity/link_pages.h"
#include "install/installer.h"
#include "log/logging.h"
#include "manifest/manifest.h"
#include "manifest/manifest_check.h"
#include "store/store.h"
#include "webhooks/dispatcher.h"
#include "webhooks/outbox_sender.h"
#include "webhooks/ingest.h"

namespace wik {
namespace {

namespace asio = boost::asio;
using boost::beast::http::verb;

constexpr std::chrono::seconds kPurgeInterval{5};
constexpr std::chrono::seconds kStoreDeadline{30};
// How long a stop waits for the dispatcher's batch in hand, from its start (the server's requests
// drain meanwhile, for their own ServerOptions::shutdown_grace of 10 s).
constexpr std::chrono::seconds kDispatchShutdownGrace{10};

Result<void> check_config(const Config& config) {
  if (auto credentials = config::require_app_credentials(config); !credentials.ok()) return credentials;
  if (config.app.verify_token.empty()) {
    return Error(ErrorCode::kConfig, "app.verify_token is not set (set app.verify_token_file or "
                                     "WIK_APP_VERIFY_TOKEN_FILE to a file that holds it, or WIK_APP_VERIFY_TOKEN)");
  }
  if (!config.keys.ring) {
    return Error(ErrorCode::kConfig, "keys.ring is not set: create one with `wik keys generate --out FILE` and "
                                     "set keys.ring_file or WIK_KEYS_RING_FILE (docs/key-ring.md)");
  }
  return ok_result();
}

// Runs `handler` on one event; an event kind without a handler is simply done.
template <class Event>
asio::awaitable<Result<void>> run_handler(const Handler<Event>& handler, Context& context, const Event& event) {
  if (!handler) co_return ok_result();
  co_return co_await handler(context, event);
}

// Runs an install or uninstall hook for the event's community, logging its failure (hooks are not
// retried). At an install, `manners` (when set) first sets the bot's messenger profile.
template <class Event>
asio::awaitable<void> run_hook(const Handler<Event>& handler, app::ContextServices& services, Event event,
                               std::string_view name) {
  app::CommunityContext context(services, event.community_id);
  std::string community_id = event.community_id;
  if constexpr (std::is_same_v<Event, Install>) {
    if (services.manners != nullptr) {
      auto profiled = co_await services.manners->set_profile(context);
      if (!profiled.ok()) spdlog::warn("app: could not set the bot's profile for community {}: {}", community_id, profiled.error().reason());
    }
  }
  if (!handler) co_return;
  auto done = co_await handler(context, event);
  if (!done.ok()) spdlog::warn("app: the {} handler failed for community {}: {}", name, community_id, done.error().reason());
}

// An admin page's view of the communities: installed ones only, reached by naming them.
class KitAdminContext final : public AdminContext {
 public:
  explicit KitAdminContext(app::ContextServices& services) : services_(services) {}

  asio::awaitable<Result<std::vector<InstalledCommunity>>> communities() override {
    std::function<Result<std::vector<store::InstallationSummary>>()> list = [&store = services_.store] {
      return store.list_installations();
    };
    auto installations = co_await http::run_blocking(services_.blocking, std::move(list), kStoreDeadline);
    if (!installations) co_return Error(ErrorCode::kUnavailable, "the database did not answer in time");
    if (!installations->ok()) co_return installations->error();
    std::vector<InstalledCommunity> out;
    for (const store::InstallationSummary& install : **installations) {
      if (install.state == store::InstallState::kActive) out.push_back({install.community_id, install.community_name});
    }
    co_return out;
  }

  asio::awaitable<Result<std::unique_ptr<Context>>> community(const std::string& id) override {
    std::function<Result<graph::InstallAuth>()> lookup = [&store = services_.store, id] {
      return app::install_auth(store, id);
    };
    auto install = co_await http::run_blocking(services_.blocking, std::move(lookup), kStoreDeadline);
    if (!install) co_return Error(ErrorCode::kUnavailable, "the database did not answer in time");
    if (!install->ok()) co_return Error(ErrorCode::kNotFound, "the app is not installed in that community");
    co_return std::make_unique<app::CommunityContext>(services_, id);
  }

  asio::awaitable<Result<std::size_t>> message_everyone(const std::string& id, const Reply& reply) override {
    std::function<Result<graph::InstallAuth>()> lookup = [&store = services_.store, id] {
      return app::install_auth(store, id);
    };
    auto install = co_await http::run_blocking(services_.blocking, std::move(lookup), kStoreDeadline);
    if (!install) co_return Error(ErrorCode::kUnavailable, "the database did not answer in time");
    if (!install->ok()) co_return Error(ErrorCode::kNotFound, "the app is not installed in that community");
    graph::GraphRequest members{.method = verb::get, .path = "/community/members", .query = {{"fields", "id"}}, .body = {}};
    auto everyone = co_await services_.graph.get_all(**install, std::move(members));
    if (!everyone.ok()) co_return everyone.error();
    app::CommunityContext context(services_, id);
    std::size_t sent = 0;
    for (const boost::json::value& member : *everyone) {
      const auto* member_id = member.is_object() ? member.as_object().if_contains("id") : nullptr;
      if (member_id == nullptr || !member_id->is_string()) continue;
      std::string person(member_id->as_string());
      auto delivered = co_await context.send(std::move(person), reply);
      if (!delivered.ok()) {
        co_return Error(delivered.error().code(), "stopped after " + std::to_string(sent) + " message(s): " +
                                                      delivered.error().reason());
      }
      ++sent;
    }
    co_return sent;
  }

 private:
  app::ContextServices& services_;
};

asio::awaitable<Result<AdminPage>> run_admin_page(app::ContextServices& services, const AdminHandler& handler,
                                                  const AdminRequest& request) {
  KitAdminContext context(services);
  co_return co_await handler(context, request);
}

}  // namespace

class App::Impl {
 public:
  explicit Impl(Config config) : config_(std::move(config)) {}
  ~Impl() { stop(); }

  Result<void> start();
  void stop();
  // Handles one inbox event; returns the replies and writes its handlers left for its completion.
  asio::awaitable<Result<webhooks::EventEffects>> dispatch(const store::ClaimedEvent& event);
  asio::awaitable<Result<void>> handle(app::CommunityContext& context, const app::DecodedEvent& decoded);
  // Sends one reply from the outbox as its community.
  asio::awaitable<Result<void>> send_reply(const store::OutboxMessage& message);
  // The install part's sign-in and CSRF checks, for the admin pages.
  admin::Gate admin_gate();
  // The install part's sign-in and CSRF checks, for the account-link page.
  identity::Gate link_gate();

  Config config_;
  Handler<Message> on_message;
  Handler<Postback> on_postback;
  Handler<Mention> on_mention;
  Handler<GroupPost> on_group_post;
  Handler<Comment> on_comment;
  Handler<Install> on_install;
  Handler<Uninstall> on_uninstall;
  std::string display_name = "This app";
  std::string schema;
  std::vector<store::AppTable> tables;
  struct Page {
    std::string path;
    std::string title;
    AdminHandler handler;
  };
  std::vector<Page> pages;
  std::vector<CommunitySetting> settings;
  std::set<std::string> used_permissions;  // declared with uses_permission()
  LinkPreviewHandler on_link_preview;
  std::chrono::seconds link_cache_for{0};
  AccountLinkOptions link_options;
  std::optional<app::BotManners> manners_;

  // Runs `handler` for `event` on the dispatcher's thread, if there is a handler.
  template <class Event>
  void spawn_hook(const Handler<Event>& handler, Event event, std::string_view name) {
    const bool kit_work = std::is_same_v<Event, Install> && manners_.has_value();
    if ((!handler && !kit_work) || !dispatch_io_) return;
    asio::co_spawn(*dispatch_io_, run_hook(handler, *services_, std::move(event), name), asio::detached);
  }

  core::SystemClock clock_;
  core::SecureRandomSource random_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<http::Client> http_;
  std::unique_ptr<graph::GraphClient> graph_;
  std::unique_ptr<http::Server> server_;
  std::unique_ptr<install::Installer> installer_;
  std::unique_ptr<deauth::Deauthorizer> deauthorizer_;
  std::unique_ptr<deauth::InstallSweep> sweep_;  // null when app.reverify_interval_hours is 0
  std::unique_ptr<webhooks::WebhookIngest> ingest_;
  std::optional<app::LinkPreviews> link_previews_;  // set when the app answers link previews
  std::unique_ptr<webhooks::Dispatcher> dispatcher_;
  std::unique_ptr<webhooks::OutboxSender> outbox_;
  std::unique_ptr<admin::AdminPages> admin_;
  std::unique_ptr<identity::LinkPages> link_pages_;
  app::AccountLinkSettings account_links_;  // base_url set once the server listens
  std::optional<asio::thread_pool> blocking_;  // store calls of handlers and admin pages
  app::LocaleCache locales_;
  std::optional<app::ContextServices> services_;
  std::unique_ptr<asio::io_context> dispatch_io_;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> dispatch_work_;
  std::thread dispatch_thread_;
  std::thread purge_thread_;
  std::mutex purge_mutex_;
  std::condition_variable purge_wake_;
  bool stopping_ = false;  // guarded by purge_mutex_
};

asio::awaitable<Result<webhooks::EventEffects>> App::Impl::dispatch(const store::ClaimedEvent& event) {
  auto decoded = app::decode_event(event.community_id, event.topic, event.payload);
  if (!decoded.ok()) co_return decoded.error();
  std::string recipient;
  std::optional<std::string> thread_key;
  if (const auto* message = std::get_if<Message>(&*decoded)) {
    recipient = message->sender_id;
    thread_key = message->thread_key;
  } else if (const auto* postback = std::get_if<Postback>(&*decoded)) {
    recipient = postback->sender_id;
    thread_key = postback->thread_key;
  }
  webhooks::EventEffects effects;
  app::CommunityContext context(*services_, event.community_id, std::move(recipient), std::move(thread_key), &effects);
  auto handled = co_await handle(context, *decoded);
  if (!handled.ok()) co_return handled.error();
  if (manners_ && effects.replies.empty() && manners_->acknowledges(*decoded)) {
    auto acknowledged = co_await manners_->acknowledge(context);
    if (!acknowledged.ok()) co_return acknowledged.error();
  }
  co_return effects;
}

asio::awaitable<Result<void>> App::Impl::handle(app::CommunityContext& context, const app::DecodedEvent& decoded) {
  if (manners_) {
    co_await context.locale();
    Result<bool> handled = false;
    if (const auto* message = std::get_if<Message>(&decoded)) handled = co_await manners_->before_message(context, *message);
    if (const auto* postback = std::get_if<Postback>(&decoded)) handled = co_await manners_->before_postback(context, *postback);
    if (!handled.ok()) co_return handled.error();
    if (*handled) co_return ok_result();
  }
  if (const auto* message = std::get_if<Message>(&decoded)) co_return co_await run_handler(on_message, context, *message);
  if (const auto* postback = std::get_if<Postback>(&decoded)) co_return co_await run_handler(on_postback, context, *postback);
  if (const auto* mention = std::get_if<Mention>(&decoded)) co_return co_await run_handler(on_mention, context, *mention);
  if (const auto* post = std::get_if<GroupPost>(&decoded)) co_return co_await run_handler(on_group_post, context, *post);
  if (const auto* comment = std::get_if<Comment>(&decoded)) co_return co_await run_handler(on_comment, context, *comment);
  co_return ok_result();
}

asio::awaitable<Result<void>> App::Impl::send_reply(const store::OutboxMessage& message) {
  boost::system::error_code parse_error;
  std::optional<boost::json::value> body = boost::json::parse(message.body, parse_error);
  if (parse_error) co_return Error(ErrorCode::kMalformed, "an outbox reply is not JSON");
  app::CommunityContext context(*services_, message.community_id);
  std::string path = "/me/messages";
  std::vector<std::pair<std::string, std::string>> no_query;
  auto sent = co_await context.graph(verb::post, std::move(path), std::move(no_query), std::move(body));
  if (!sent.ok()) co_return sent.error();
  co_return ok_result();
}

Result<void> App::Impl::start() {
  app::limit_malloc_arenas();  // before the threads below
  if (auto checked = check_config(config_); !checked.ok()) return checked;
  log::init_logging(config_.log);
  log::register_config_secrets(config_);
  for (const std::string& warning : config::config_warnings(config_, clock_.now())) spdlog::warn("{}", warning);
  auto ring = core::KeyRing::parse(config_.keys.ring->expose());
  if (!ring.ok()) return ring.error().with_context("keys.ring");
  auto database = app::open_database(config_);
  if (!database.ok()) return database.error();
  auto store = store::Store::open(std::move(*database), std::move(*ring), clock_);
  if (!store.ok()) return store.error();
  store_ = std::move(*store);
  // The app's schema and tables, plus the bot manners' own when a Bot is set.
  std::string all_schema = schema;
  std::vector<store::AppTable> all_tables = tables;
  if (manners_) {
    all_schema += all_schema.empty() ? "" : ";\n";
    all_schema += app::BotManners::kSchema;
    all_tables.push_back({.table = app::BotManners::kPeopleTable, .community_column = "community_id"});
  }
  if (!all_schema.empty()) {
    if (auto applied = store_->apply_app_schema(all_schema); !applied.ok()) {
      return applied.error().with_context("schema()");
    }
  }
  for (const auto& table : all_tables) {
    if (auto registered = store_->register_app_table(table); !registered.ok()) {
      return registered.error().with_context("register_table(" + table.table + ")");
    }
  }

  auto client = http::Client::create(app::graph_http_options(config_));
  if (!client.ok()) return client.error();
  http_ = std::move(*client);
  graph_ = std::make_unique<graph::GraphClient>(
      *http_, app::graph_options(config_), graph::AppCredentials{config_.app.id, config_.app.secret}, clock_, random_);

  http::ServerOptions server_options;
  server_options.name = "kit";
  server_options.address = config_.server.address;
  server_options.port = config_.server.port;
  server_options.io_threads = config_.server.threads;
  server_ = std::make_unique<http::Server>(server_options);

  auto installer_options = install::installer_options(config_);
  if (!installer_options.ok()) return installer_options.error();
  blocking_.emplace(2);
  services_.emplace(
      app::ContextServices{*store_, *graph_, *blocking_, locales_, manners_ ? &*manners_ : nullptr, &settings});
  dispatch_io_ = std::make_unique<asio::io_context>(1);
  dispatch_work_.emplace(dispatch_io_->get_executor());

  installer_options->app_name = display_name;
  installer_options->sign_in_returns.emplace_back(identity::kLinkPath);
  installer_ = std::make_unique<install::Installer>(*store_, *graph_, clock_, std::move(*installer_options));
  installer_->on_installed([this](const store::Installation& installation) {
    spawn_hook(on_install, Install{installation.community_id, installation.community_name}, "on_install");
  });
  installer_->add_routes(server_->router());
  deauthorizer_ = std::make_unique<deauth::Deauthorizer>(
      *store_, config::incoming_app_secrets(config_, clock_.now()), clock_,
      deauth::DeauthOptions{.previous_secrets_until = config_.app.previous_secret_until});
  deauthorizer_->on_revoked(
      [this](const std::string& community_id) { spawn_hook(on_uninstall, Uninstall{community_id}, "on_uninstall"); });
  deauthorizer_->add_routes(server_->router());
  if (config_.app.reverify_interval.count() > 0) {
    sweep_ = std::make_unique<deauth::InstallSweep>(*store_, *graph_, *deauthorizer_, random_, server_->metrics(),
                                                    deauth::SweepOptions{.interval = config_.app.reverify_interval});
  }
  admin_ = std::make_unique<admin::AdminPages>(*store_, admin_gate(), display_name, settings);
  for (const Page& page : pages) {
    admin_->add_page(page.path, page.title, [this, &handler = page.handler](const AdminRequest& request) {
      return run_admin_page(*services_, handler, request);
    });
  }
  admin_->add_routes(server_->router());
  link_pages_ = std::make_unique<identity::LinkPages>(*store_, link_gate(), clock_,
                                                      identity::LinkPagesOptions{.app_name = display_name});
  link_pages_->add_routes(server_->router());
  account_links_.path = std::string(identity::kLinkPath);
  account_links_.lifetime = link_options.lifetime;
  services_->account_links = &account_links_;

  webhooks::EventHandler handler = [this](const store::ClaimedEvent& event) { return dispatch(event); };
  dispatcher_ = std::make_unique<webhooks::Dispatcher>(
      *store_, std::move(handler), clock_, server_->metrics(),
      webhooks::DispatcherOptions{.batch = config_.webhooks.dispatch_batch,
                                  .per_community = config_.webhooks.dispatch_per_community,
                                  .lease = config_.webhooks.lease,
                                  // A handler ends within its lease, so that (unless its process
                                  // stops) no other worker claims its event while it runs.
                                  .handler_timeout = std::min<std::chrono::milliseconds>(
                                      webhooks::DispatcherOptions{}.handler_timeout, config_.webhooks.lease),
                                  .store_threads = config_.webhooks.dispatch_store_threads});
  ingest_ = std::make_unique<webhooks::WebhookIngest>(
      *store_,
      webhooks::IngestOptions{.verify_token = config_.app.verify_token,
                              .app_secrets = config::incoming_app_secrets(config_, clock_.now()),
                              .previous_secrets_until = config_.app.previous_secret_until,
                              .clock = &clock_,
                              .store_threads = config_.webhooks.ingest_store_threads},
      server_->metrics());
  ingest_->on_stored([dispatcher = dispatcher_.get()] { dispatcher->notify(); });
  if (on_link_preview) {
    link_previews_.emplace(*services_, on_link_preview, link_cache_for, clock_);
    ingest_->set_link_handler(
        [previews = &*link_previews_](const webhooks::WebhookEvent& event) { return previews->answer(event); });
  }
  webhooks::ReplySender reply_sender = [this](const store::OutboxMessage& message) { return send_reply(message); };
  outbox_ = std::make_unique<webhooks::OutboxSender>(*store_, std::move(reply_sender), clock_, server_->metrics(),
                                                     webhooks::OutboxOptions{.pacing = config_.bot});
  dispatcher_->on_replies_queued([outbox = outbox_.get()] { outbox->notify(); });
  ingest_->add_routes(server_->router());

  if (auto started = server_->start(); !started.ok()) return started;
  account_links_.base_url = app::link_base_url(config_, server_->port());  // before any handler runs
  dispatcher_->start(dispatch_io_->get_executor());
  outbox_->start(dispatch_io_->get_executor());
  if (sweep_) sweep_->start(dispatch_io_->get_executor());
  dispatch_thread_ = std::thread([io = dispatch_io_.get()] { io->run(); });
  purge_thread_ = std::thread([this] {
    deauth::PurgeRunner runner(*store_);
    std::unique_lock lock(purge_mutex_);
    while (!stopping_) {
      lock.unlock();
      if (auto ran = runner.run_pending(); !ran.ok()) spdlog::error("purge: {}", ran.error().reason());
      // Expired sessions, OAuth states and pending installs (whose sealed tokens are destroyed).
      if (auto pruned = store_->prune_expired(); !pruned.ok()) spdlog::error("prune: {}", pruned.error().reason());
      // Handled events past the de-duplication window, so the inbox does not grow without end.
      if (auto forgot = store_->forget_handled_events(config_.webhooks.dedupe_retention); !forgot.ok()) {
        spdlog::error("forgetting handled events: {}", forgot.error().reason());
      }
      // What a burst (a large batch, a purge) freed, so the resident set follows the memory in use.
      app::release_free_memory();
      lock.lock();
      purge_wake_.wait_for(lock, kPurgeInterval, [this] { return stopping_; });
    }
  });
  spdlog::info("wik serve: listening on {}:{}", config_.server.address, server_->port());
  return ok_result();
}

void App::Impl::stop() {
  // Graceful: the dispatcher stops claiming while the server finishes the requests in flight, then
  // the batch in hand gets the rest of kDispatchShutdownGrace to finish; an event whose handler is
  // cut off after that is handled again once its lease runs out.
  const auto give_up_at = std::chrono::steady_clock::now() + kDispatchShutdownGrace;
  if (dispatcher_) dispatcher_->stop();
  if (server_) server_->stop();
  if (dispatcher_ && !dispatcher_->wait_stopped(std::chrono::duration_cast<std::chrono::milliseconds>(
                         std::max(give_up_at - std::chrono::steady_clock::now(), std::chrono::steady_clock::duration{})))) {
    spdlog::warn("webhooks: handlers still running at shutdown; their events run again after their lease");
  }
  if (outbox_) outbox_->stop();
  if (sweep_) sweep_->stop();
  dispatch_work_.reset();
  if (dispatch_io_) dispatch_io_->stop();
  if (dispatch_thread_.joinable()) dispatch_thread_.join();
  {
    const std::lock_guard lock(purge_mutex_);
    stopping_ = true;
  }
  purge_wake_.notify_all();
  if (purge_thread_.joinable()) purge_thread_.join();
  // Order: whatever holds work or connections of an io_context goes before it — the ingest's and
  // dispatcher's pools (webhooks/ingest.h, dispatcher.h) and the HTTP client's pooled connections
  // (http/client/client.h), which belong to the dispatcher's and the server's io_contexts.
  // The blocking pool finishes its work before the io_contexts that wait for it go.
  if (blocking_) blocking_->join();
  ingest_.reset();
  link_previews_.reset();
  dispatcher_.reset();
  outbox_.reset();
  admin_.reset();
  link_pages_.reset();
  installer_.reset();
  sweep_.reset();  // its pool posts to the dispatcher's io_context; it borrows the deauthorizer and Graph client
  deauthorizer_.reset();
  graph_.reset();
  http_.reset();
  dispatch_io_.reset();
  server_.reset();
  services_.reset();
  blocking_.reset();
  store_.reset();
}

identity::Gate App::Impl::link_gate() {
  install::Installer* installer = installer_.get();
  return identity::Gate{
      .signed_in =
          [installer](const http::Request& request) {
            std::vector<store::Account> accounts;
            for (install::SignedInAccount& signed_in : installer->signed_in(request)) {
              accounts.push_back(std::move(signed_in.account));
            }
            return accounts;
          },
      .csrf_token = [installer](const http::Request& request) { return installer->csrf_token(request); },
      .checked_form = [installer](const http::Request& request) { return installer->checked_form(request); },
      .page = [installer](std::string page, std::string_view csrf,
                          boost::beast::http::status status) { return installer->page(std::move(page), csrf, status); },
      .sign_in_path = installer->options().sign_in_path};
}

admin::Gate App::Impl::admin_gate() {
  install::Installer* installer = installer_.get();
  const install::InstallerOptions& options = installer->options();
  return admin::Gate{
      .signed_in =
          [installer](const http::Request& request) {
            std::vector<admin::Visitor> visitors;
            for (const install::SignedInAccount& signed_in : installer->signed_in(request)) {
              visitors.push_back({signed_in.account.email, installer->may_install(signed_in.account)});
            }
            return visitors;
          },
      .csrf_token = [installer](const http::Request& request) { return installer->csrf_token(request); },
      .checked_form = [installer](const http::Request& request) { return installer->checked_form(request); },
      .page = [installer](std::string page, std::string_view csrf,
                          boost::beast::http::status status) { return installer->page(std::move(page), csrf, status); },
      .sign_in_path = options.sign_in_path,
      .sign_out_path = options.sign_out_path,
      .install_path = options.admin_path};
}

App::App(Config config) : impl_(std::make_unique<Impl>(std::move(config))) {}
App::~App() = default;

App& App::on_message(Handler<Message> handler) {
  impl_->on_message = std::move(handler);
  return *this;
}
App& App::on_postback(Handler<Postback> handler) {
  impl_->on_postback = std::move(handler);
  return *this;
}
App& App::on_mention(Handler<Mention> handler) {
  impl_->on_mention = std::move(handler);
  return *this;
}
App& App::on_group_post(Handler<GroupPost> handler) {
  impl_->on_group_post = std::move(handler);
  return *this;
}
App& App::on_comment(Handler<Comment> handler) {
  impl_->on_comment = std::move(handler);
  return *this;
}
App& App::on_install(Handler<Install> handler) {
  impl_->on_install = std::move(handler);
  return *this;
}
App& App::on_uninstall(Handler<Uninstall> handler) {
  impl_->on_uninstall = std::move(handler);
  return *this;
}
App& App::name(std::string display_name) {
  impl_->display_name = std::move(display_name);
  return *this;
}
App& App::bot(Bot bot) {
  impl_->manners_.emplace(std::move(bot));
  return *this;
}
App& App::schema(std::string statements) {
  if (!impl_->schema.empty()) impl_->schema += ";\n";
  impl_->schema += std::move(statements);
  return *this;
}
App& App::admin_page(std::string path, std::string title, AdminHandler handler) {
  impl_->pages.push_back({std::move(path), std::move(title), std::move(handler)});
  return *this;
}
App& App::community_setting(CommunitySetting setting) {
  const bool plain_name = !setting.name.empty() && setting.name.size() <= 64 &&
                          std::ranges::all_of(setting.name, [](char c) {
                            return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
                          });
  if (!plain_name) fatal("community_setting: the name must be 1-64 characters of a-z, 0-9 and _");
  if (std::ranges::any_of(impl_->settings, [&](const CommunitySetting& s) { return s.name == setting.name; })) {
    fatal("community_setting: the setting " + setting.name + " is declared twice");
  }
  if (setting.max_length == 0) fatal("community_setting: max_length must be 1 or more");
  if (admin::setting_value_problem(setting, setting.default_value)) {
    fatal("community_setting: the default of " + setting.name + " is not a value an admin could set");
  }
  impl_->settings.push_back(std::move(setting));
  return *this;
}
App& App::account_links(AccountLinkOptions options) {
  if (options.lifetime < std::chrono::minutes(1) || options.lifetime > std::chrono::hours(24)) {
    fatal("account_links: the lifetime must be 1 minute to 24 hours");
  }
  impl_->link_options = options;
  return *this;
}
App& App::register_table(std::string table, std::string community_column) {
  impl_->tables.push_back({.table = std::move(table), .community_column = std::move(community_column)});
  return *this;
}
App& App::on_link_preview(LinkPreviewHandler handler, std::chrono::seconds cache_for) {
  impl_->on_link_preview = std::move(handler);
  impl_->link_cache_for = cache_for;
  return *this;
}
App& App::uses_permission(std::string permission) {
  impl_->used_permissions.insert(std::move(permission));
  return *this;
}

Result<std::vector<std::string>> App::check_manifest(const std::string& app_toml) const {
  auto manifest = manifest::load_manifest(app_toml);
  if (!manifest) return manifest.error();
  // What the registered handlers need: their events' webhook permissions, and "message" to reply.
  std::set<std::string> needed = impl_->used_permissions;
  if (impl_->on_message || impl_->on_postback || impl_->manners_) needed.insert("message");
  if (impl_->on_mention) needed.insert({"bot_mention", "message"});
  if (impl_->on_group_post || impl_->on_comment) needed.insert("read_group");
  if (impl_->on_link_preview) needed.insert("link_unfurling");
  const auto findings = manifest::check_manifest(*manifest, {.needed_permissions = std::move(needed)});
  std::vector<std::string> lines;
  lines.reserve(findings.size());
  for (const manifest::Finding& finding : findings) lines.push_back(manifest::to_line(finding));
  return lines;
}

Result<void> App::start() { return impl_->start(); }
std::uint16_t App::port() const { return impl_->server_->port(); }
void App::stop() { impl_->stop(); }

Result<void> App::run() {
  if (auto started = start(); !started.ok()) return started;
  {
    http::ShutdownOnSignal shutdown(*impl_->server_);
    shutdown.wait();
  }
  stop();
  return ok_result();
}

}  // namespace wik
