#include <wik/app.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <spdlog/spdlog.h>

#include <condition_variable>
#include <mutex>
#include <thread>

#include "app/database.h"
#include "app/events.h"
#include "app/graph_access.h"
#include "config/config.h"
#include "core/clock.h"
#include "core/key_ring.h"
#include "core/secure_random.h"
#include "deauth/deauthorization.h"
#include "graph/graph_client.h"
#include "http/client/client.h"
#include "http/server/server.h"
#include "http/server/shutdown.h"
#include "install/installer.h"
#include "log/logging.h"
#include "store/store.h"
#include "webhooks/dispatcher.h"
#include "webhooks/ingest.h"

namespace wik {
namespace {

namespace asio = boost::asio;
using boost::beast::http::verb;

constexpr std::chrono::seconds kPurgeInterval{5};

// The Context of one event: its community's install, reached through the store at the moment of
// use, so a revoked install can no longer be used by a handler that is still running.
class EventContext final : public Context {
 public:
  EventContext(store::Store& store, graph::GraphClient& graph, std::string community_id, std::string recipient_id,
               std::optional<std::string> thread_key)
      : store_(store),
        graph_(graph),
        community_id_(std::move(community_id)),
        recipient_id_(std::move(recipient_id)),
        thread_key_(std::move(thread_key)) {}

  const std::string& community_id() const override { return community_id_; }

  asio::awaitable<Result<void>> reply(const Reply& reply) override {
    auto message = reply.message();
    if (!message.ok()) co_return message.error();
    if (recipient_id_.empty() && !thread_key_) {
      co_return Error(ErrorCode::kInvalidArgument, "this event has no one to reply to");
    }
    boost::json::object recipient;
    if (thread_key_) {
      recipient["thread_key"] = *thread_key_;
    } else {
      recipient["id"] = recipient_id_;
    }
    // Named arguments: g++ 12 destroys some temporaries of a co_await expression twice.
    std::optional<boost::json::value> body =
        boost::json::object{{"recipient", std::move(recipient)}, {"message", std::move(*message)}};
    std::string path = "/me/messages";
    std::vector<std::pair<std::string, std::string>> no_query;
    auto sent = co_await graph(verb::post, std::move(path), std::move(no_query), std::move(body));
    if (!sent.ok()) co_return sent.error();
    co_return ok_result();
  }

  asio::awaitable<Result<boost::json::value>> graph(verb method, std::string path,
                                                    std::vector<std::pair<std::string, std::string>> query,
                                                    std::optional<boost::json::value> body) override {
    auto install = app::install_auth(store_, community_id_);
    if (!install.ok()) co_return install.error();
    graph::GraphRequest request{.method = method, .path = std::move(path), .query = std::move(query),
                                .body = std::move(body)};
    co_return co_await graph_.call(*install, std::move(request));
  }

 private:
  store::Store& store_;
  graph::GraphClient& graph_;
  std::string community_id_;
  std::string recipient_id_;
  std::optional<std::string> thread_key_;
};

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

}  // namespace

class App::Impl {
 public:
  explicit Impl(Config config) : config_(std::move(config)) {}
  ~Impl() { stop(); }

  Result<void> start();
  void stop();
  asio::awaitable<Result<void>> dispatch(const store::ClaimedEvent& event);

  Config config_;
  Handler<Message> on_message;
  Handler<Postback> on_postback;
  Handler<Mention> on_mention;
  Handler<GroupPost> on_group_post;
  Handler<Comment> on_comment;
  std::vector<store::AppTable> tables;

  core::SystemClock clock_;
  core::SecureRandomSource random_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<http::Client> http_;
  std::unique_ptr<graph::GraphClient> graph_;
  std::unique_ptr<http::Server> server_;
  std::unique_ptr<install::Installer> installer_;
  std::unique_ptr<deauth::Deauthorizer> deauthorizer_;
  std::unique_ptr<webhooks::WebhookIngest> ingest_;
  std::unique_ptr<webhooks::Dispatcher> dispatcher_;
  std::unique_ptr<asio::io_context> dispatch_io_;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> dispatch_work_;
  std::thread dispatch_thread_;
  std::thread purge_thread_;
  std::mutex purge_mutex_;
  std::condition_variable purge_wake_;
  bool stopping_ = false;  // guarded by purge_mutex_
};

asio::awaitable<Result<void>> App::Impl::dispatch(const store::ClaimedEvent& event) {
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
  EventContext context(*store_, *graph_, event.community_id, recipient, thread_key);
  if (const auto* message = std::get_if<Message>(&*decoded)) co_return co_await run_handler(on_message, context, *message);
  if (const auto* postback = std::get_if<Postback>(&*decoded)) co_return co_await run_handler(on_postback, context, *postback);
  if (const auto* mention = std::get_if<Mention>(&*decoded)) co_return co_await run_handler(on_mention, context, *mention);
  if (const auto* post = std::get_if<GroupPost>(&*decoded)) co_return co_await run_handler(on_group_post, context, *post);
  if (const auto* comment = std::get_if<Comment>(&*decoded)) co_return co_await run_handler(on_comment, context, *comment);
  co_return ok_result();
}

Result<void> App::Impl::start() {
  if (auto checked = check_config(config_); !checked.ok()) return checked;
  log::init_logging(config_.log);
  log::register_config_secrets(config_);
  auto ring = core::KeyRing::parse(config_.keys.ring->expose());
  if (!ring.ok()) return ring.error().with_context("keys.ring");
  auto database = app::open_database(config_);
  if (!database.ok()) return database.error();
  auto store = store::Store::open(std::move(*database), std::move(*ring), clock_);
  if (!store.ok()) return store.error();
  store_ = std::move(*store);
  for (const auto& table : tables) {
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
  server_options.address = config_.server.address;
  server_options.port = config_.server.port;
  server_options.io_threads = config_.server.threads;
  server_ = std::make_unique<http::Server>(server_options);

  auto installer_options = install::installer_options(config_);
  if (!installer_options.ok()) return installer_options.error();
  installer_ = std::make_unique<install::Installer>(*store_, *graph_, clock_, std::move(*installer_options));
  installer_->add_routes(server_->router());
  deauthorizer_ = std::make_unique<deauth::Deauthorizer>(*store_, std::vector<Secret>{config_.app.secret}, clock_);
  deauthorizer_->add_routes(server_->router());

  webhooks::EventHandler handler = [this](const store::ClaimedEvent& event) { return dispatch(event); };
  dispatcher_ = std::make_unique<webhooks::Dispatcher>(*store_, std::move(handler), clock_, server_->metrics());
  ingest_ = std::make_unique<webhooks::WebhookIngest>(
      *store_,
      webhooks::IngestOptions{.verify_token = config_.app.verify_token, .app_secrets = {config_.app.secret}},
      server_->metrics());
  ingest_->on_stored([dispatcher = dispatcher_.get()] { dispatcher->notify(); });
  ingest_->add_routes(server_->router());

  if (auto started = server_->start(); !started.ok()) return started;
  dispatch_io_ = std::make_unique<asio::io_context>(1);
  dispatch_work_.emplace(dispatch_io_->get_executor());
  dispatcher_->start(dispatch_io_->get_executor());
  dispatch_thread_ = std::thread([io = dispatch_io_.get()] { io->run(); });
  purge_thread_ = std::thread([this] {
    deauth::PurgeRunner runner(*store_);
    std::unique_lock lock(purge_mutex_);
    while (!stopping_) {
      lock.unlock();
      if (auto ran = runner.run_pending(); !ran.ok()) spdlog::error("purge: {}", ran.error().reason());
      lock.lock();
      purge_wake_.wait_for(lock, kPurgeInterval, [this] { return stopping_; });
    }
  });
  spdlog::info("wik serve: listening on {}:{}", config_.server.address, server_->port());
  return ok_result();
}

void App::Impl::stop() {
  if (server_) server_->stop();
  if (dispatcher_) dispatcher_->stop();
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
  ingest_.reset();
  dispatcher_.reset();
  installer_.reset();
  deauthorizer_.reset();
  graph_.reset();
  http_.reset();
  dispatch_io_.reset();
  server_.reset();
  store_.reset();
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
App& App::register_table(std::string table, std::string community_column) {
  impl_->tables.push_back({.table = std::move(table), .community_column = std::move(community_column)});
  return *this;
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
