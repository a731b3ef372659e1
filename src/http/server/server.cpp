#include "http/server/server.h"

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/json/value.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <exception>
#include <limits>

#include "core/hex.h"
#include "core/secure_random.h"
#include "http/server/server_state.h"
#include "http/server/session.h"
#include "http/tls_context.h"

namespace wik::http {
namespace {

namespace asio = boost::asio;
namespace beast_http = boost::beast::http;

// Connections answered 503 at once; beyond this, excess connections are closed without an answer.
constexpr std::size_t kMaxRejecting = 64;
// How long stop() waits for cancelled coroutines to unwind before abandoning them.
constexpr std::chrono::seconds kCancelWait{2};
// The watchdog's sweep interval: an eighth of the shortest timeout, within these bounds.
constexpr std::chrono::milliseconds kMinWatchdogTick{5};
constexpr std::chrono::milliseconds kMaxWatchdogTick{250};
// Pause after an accept error (such as too many open files) so the loop does not spin.
constexpr std::chrono::milliseconds kAcceptRetryDelay{50};

bool sane_request_id(std::string_view id) {
  if (id.empty() || id.size() > 128) return false;
  return std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
           c == '.' || c == ':';
  });
}

void log_exception(std::exception_ptr e, std::string_view what) {
  if (!e) return;
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& error) {
    spdlog::error("http: {} failed: {}", what, error.what());
  } catch (...) {
    spdlog::error("http: {} failed with an unknown exception", what);
  }
}

asio::awaitable<Result<Response>> healthz() { co_return Response::text("ok\n"); }

asio::awaitable<Result<Response>> readyz(ServerState& state) {
  if (state.draining()) co_return Error(ErrorCode::kUnavailable, "not ready: shutting down");
  boost::json::object checks;
  std::string failing;
  for (const auto& outcome : state.readiness().run()) {
    checks[outcome.name] = outcome.result.ok() ? "ok" : "failing";
    if (!outcome.result.ok()) {
      if (!failing.empty()) failing += ", ";
      failing += outcome.name;
    }
  }
  if (!failing.empty()) co_return Error(ErrorCode::kUnavailable, "not ready: " + failing);
  boost::json::object body;
  body["status"] = "ready";
  body["checks"] = std::move(checks);
  co_return Response::json(body);
}

asio::awaitable<Result<Response>> metrics_text(ServerState& state) {
  Response response(beast_http::status::ok);
  response.set_header(beast_http::field::content_type, "text/plain; version=0.0.4; charset=utf-8");
  response.set_body(state.metrics().render());
  co_return response;
}

}  // namespace

// ServerState

ServerState::ServerState(ServerOptions options)
    : options_(std::move(options)),
      open_connections_(metrics_.gauge("http_open_connections", "Connections being served.")),
      accepted_connections_(metrics_.counter("http_connections_total", "Connections accepted.")),
      rejected_connections_(metrics_.counter("http_rejected_connections_total",
                                             "Connections refused with 503 because max_connections was reached.")) {
  const std::size_t threads =
      std::max<std::size_t>(1, options_.io_threads == 0 ? std::thread::hardware_concurrency() : options_.io_threads);
  for (std::size_t i = 0; i < threads; ++i) io_contexts_.push_back(std::make_unique<asio::io_context>(1));
  request_id_prefix_ = core::to_hex(core::secure_random_bytes(6));
}

ServerState::~ServerState() { stop(std::chrono::milliseconds(0)); }

Result<void> ServerState::start() {
  const std::lock_guard lock(lifecycle_mutex_);
  if (started_) fatal("wik::http::Server::start() called twice");
  started_ = true;
  if (options_.request_timeout.count() <= 0 || options_.idle_timeout.count() <= 0 ||
      options_.write_timeout.count() <= 0) {
    return Error(ErrorCode::kConfig, "server timeouts must be positive");
  }
  if (options_.max_connections == 0) return Error(ErrorCode::kConfig, "server max_connections must be positive");
  if (options_.max_header_bytes == 0 || options_.max_header_bytes > std::numeric_limits<std::uint32_t>::max()) {
    return Error(ErrorCode::kConfig, "server max_header_bytes is out of range");
  }
  boost::system::error_code ec;
  const auto address = asio::ip::make_address(options_.address, ec);
  if (ec) return Error(ErrorCode::kConfig, "server address is not an IP address: " + options_.address);
  if (options_.tls) {
    auto context = make_server_tls_context(*options_.tls);
    if (!context.ok()) return context.error();
    tls_ = std::move(context).value();
  }

  const asio::ip::tcp::endpoint endpoint(address, options_.port);
  io::Acceptor acceptor(io_contexts_.front()->get_executor());
  if (acceptor.open(endpoint.protocol(), ec); ec) {
    return Error(ErrorCode::kUnavailable, "cannot open a listening socket", ec.message());
  }
  acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (acceptor.bind(endpoint, ec); ec) {
    return Error(ErrorCode::kUnavailable,
                 "cannot listen on " + options_.address + ":" + std::to_string(options_.port), ec.message());
  }
  if (acceptor.listen(asio::socket_base::max_listen_connections, ec); ec) {
    return Error(ErrorCode::kUnavailable, "cannot listen", ec.message());
  }
  port_ = acceptor.local_endpoint(ec).port();
  acceptor_.emplace(std::move(acceptor));
  if (options_.builtin_routes) add_builtin_routes();
  for (const auto& route : router_.routes()) {
    auto stats = std::make_unique<RouteStats>();
    stats->latency = &latency_histogram(route->pattern);
    route_stats_.emplace(route.get(), std::move(stats));
  }
  const auto shortest = std::min({options_.idle_timeout, options_.request_timeout, options_.write_timeout});
  const auto tick = std::clamp(shortest / 8, kMinWatchdogTick, kMaxWatchdogTick);
  for (auto& context : io_contexts_) {
    watchdogs_.push_back(std::make_unique<Watchdog>(*context, tick));
    watchdogs_.back()->start();
  }

  for (auto& context : io_contexts_) work_.push_back(asio::make_work_guard(*context));
  const auto executor = acceptor_->get_executor();
  const auto ticket = tasks_.join(executor);
  asio::post(executor, [this, ticket] {
    asio::co_spawn(acceptor_->get_executor(), accept_loop(),
                   asio::bind_cancellation_slot(ticket.slot, [this, id = ticket.id](std::exception_ptr e) {
                     log_exception(e, "accept loop");
                     tasks_.leave(id);
                   }));
  });
  for (auto& context : io_contexts_) threads_.emplace_back([&context = *context] { context.run(); });
  running_ = true;
  spdlog::info("http: listening on {}:{} ({}, {} I/O threads)", options_.address, port_,
               tls_ ? "https" : "http", io_contexts_.size());
  return ok_result();
}

void ServerState::stop(std::chrono::milliseconds grace) {
  const std::lock_guard lock(lifecycle_mutex_);
  if (!started_ || stopped_) return;
  stopped_ = true;
  running_ = false;
  draining_.store(true, std::memory_order_release);
  const auto begun = std::chrono::steady_clock::now();
  // Total cancellation: the listener stops, idle connections close, requests in flight go on.
  tasks_.emit(asio::cancellation_type::total);
  if (!tasks_.wait_until_empty(begun + grace)) {
    if (grace.count() > 0) {
      spdlog::warn("http: {} connections still busy after {} ms; cancelling them", tasks_.size(), grace.count());
    }
    tasks_.emit(asio::cancellation_type::terminal);
    if (!tasks_.wait_until_empty(std::chrono::steady_clock::now() + kCancelWait)) {
      spdlog::error("http: {} connections ignored cancellation; abandoning them", tasks_.size());
      for (auto& context : io_contexts_) context->stop();
    }
  }
  for (auto& watchdog : watchdogs_) watchdog->stop();
  work_.clear();
  for (auto& thread : threads_) thread.join();
  threads_.clear();
  spdlog::info("http: stopped");
}

asio::awaitable<void> ServerState::accept_loop() {
  co_await asio::this_coro::throw_if_cancelled(false);
  co_await asio::this_coro::reset_cancellation_state(asio::enable_total_cancellation());
  io::Timer pause(co_await asio::this_coro::executor);
  while (!draining()) {
    // Connections are spread over the io_contexts in turn. Each io_context has one thread, so its
    // executor serialises everything of a connection, as a strand would, without a strand's cost.
    const std::size_t context = next_context_++ % io_contexts_.size();
    auto [ec, socket] = co_await acceptor_->async_accept(io::Executor(io_contexts_[context]->get_executor()));
    if (draining()) break;
    if (ec) {
      if (ec == asio::error::operation_aborted) break;
      spdlog::warn("http: accept failed: {}", ec.message());
      pause.expires_after(kAcceptRetryDelay);
      co_await pause.async_wait();
      continue;
    }
    accepted_connections_.inc();
    socket.set_option(asio::ip::tcp::no_delay(true), ec);
    if (connections_.load() < options_.max_connections) {
      spawn_connection(std::move(socket), context, false);
    } else {
      rejected_connections_.inc();
      if (rejecting_.load() < kMaxRejecting) spawn_connection(std::move(socket), context, true);
    }
  }
  boost::system::error_code ignored;
  acceptor_->close(ignored);
}

void ServerState::spawn_connection(io::Socket socket, std::size_t context, bool reject) {
  if (reject) {
    ++rejecting_;
  } else {
    ++connections_;
    open_connections_.inc();
  }
  const auto executor = socket.get_executor();
  const auto ticket = tasks_.join(executor);
  // Spawn from the connection's own executor, so its signal is only ever touched there.
  asio::post(executor, [this, ticket, reject, context, executor, socket = std::move(socket)]() mutable {
    asio::co_spawn(executor, serve_connection(*this, *watchdogs_[context], std::move(socket), reject),
                   asio::bind_cancellation_slot(ticket.slot, [this, reject, id = ticket.id](std::exception_ptr e) {
                     log_exception(e, "connection");
                     if (reject) {
                       --rejecting_;
                     } else {
                       --connections_;
                       open_connections_.dec();
                     }
                     tasks_.leave(id);
                   }));
  });
}

std::string ServerState::request_id(std::string_view offered) {
  if (sane_request_id(offered)) return std::string(offered);
  return fmt::format("{}-{:x}", request_id_prefix_, request_count_.fetch_add(1, std::memory_order_relaxed));
}

Counter& ServerState::requests_counter(std::string_view method, std::string_view label, unsigned status) {
  return metrics_.counter(
      "http_requests_total", "HTTP requests answered, by method, route pattern and status.",
      {{"method", std::string(method)}, {"route", std::string(label)}, {"status", std::to_string(status)}});
}

Histogram& ServerState::latency_histogram(std::string_view label) {
  return metrics_.histogram("http_request_duration_seconds",
                            "Time from the first byte of a request until its response is ready to send.",
                            default_latency_buckets(), {{"route", std::string(label)}});
}

void ServerState::record(const Route* route, std::string_view method, std::string_view label, unsigned status,
                         double seconds) {
  if (route != nullptr && status >= 100 && status < 600 && method == beast_http::to_string(route->method)) {
    if (const auto it = route_stats_.find(route); it != route_stats_.end()) {
      RouteStats& stats = *it->second;
      auto& slot = stats.by_status[status - 100];
      Counter* counter = slot.load(std::memory_order_acquire);
      if (counter == nullptr) {
        counter = &requests_counter(method, label, status);
        slot.store(counter, std::memory_order_release);
      }
      counter->inc();
      stats.latency->observe(seconds);
      return;
    }
  }
  requests_counter(method, label, status).inc();
  latency_histogram(label).observe(seconds);
}

void ServerState::add_builtin_routes() {
  const auto has_get = [this](std::string_view pattern) {
    return std::any_of(router_.routes().begin(), router_.routes().end(), [&](const auto& route) {
      return route->method == beast_http::verb::get && route->pattern == pattern;
    });
  };
  if (!has_get("/healthz")) router_.get("/healthz", Handler([](Request&) { return healthz(); }));
  if (!has_get("/readyz")) router_.get("/readyz", Handler([this](Request&) { return readyz(*this); }));
  if (!has_get("/metrics")) router_.get("/metrics", Handler([this](Request&) { return metrics_text(*this); }));
}

// Server

Server::Server(ServerOptions options) : state_(std::make_unique<ServerState>(std::move(options))) {}
Server::~Server() = default;
Router& Server::router() noexcept { return state_->router(); }
MetricsRegistry& Server::metrics() noexcept { return state_->metrics(); }
ReadinessChecks& Server::readiness() noexcept { return state_->readiness(); }
const ServerOptions& Server::options() const noexcept { return state_->options(); }
Result<void> Server::start() { return state_->start(); }
std::uint16_t Server::port() const noexcept { return state_->port(); }
bool Server::running() const noexcept { return state_->running(); }

void Server::stop(std::optional<std::chrono::milliseconds> grace) {
  state_->stop(grace.value_or(state_->options().shutdown_grace));
}

}  // namespace wik::http
