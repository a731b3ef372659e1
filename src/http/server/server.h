// Server: the HTTP/1.1 server every wik service runs on (Boost.Beast, C++20 coroutines).
//
//   wik::http::Server server({.port = 8080});
//   server.router().get("/hello", [](wik::http::Request&) -> boost::asio::awaitable<wik::http::Response> {
//     co_return wik::http::Response::text("hello");
//   });
//   if (auto started = server.start(); !started) return 1;
//   wik::http::ShutdownOnSignal shutdown(server);  // shutdown.h: SIGTERM/SIGINT drain the server
//   shutdown.wait();
//
// Each connection is served by one coroutine, which owns the connection's state, on one of N
// io_contexts each run by a single thread (so the connection's executor is its strand); requests
// on a connection are handled in order (keep-alive and pipelining). The limits and
// deadlines of ServerOptions are enforced per connection, and every error response comes from the
// error table (error_status.h). Built-in routes: GET /healthz, /readyz, /metrics. One access log
// line per request goes to spdlog's default logger.
//
// Thread-safety: configure the router, metrics and readiness checks before start(); after it,
// metrics() and readiness() remain safe to use from any thread, router() must not be changed.
// start() and stop() are called from one controlling thread, never from an I/O thread (a handler).
// Destroying a running server stops it with a zero grace period.
#pragma once

#include <wik/result.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>

#include "http/server/metrics.h"
#include "http/server/options.h"
#include "http/server/readiness.h"
#include "http/server/router.h"

namespace wik::http {

class ServerState;

class Server {
 public:
  explicit Server(ServerOptions options = {});
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  Router& router() noexcept;
  MetricsRegistry& metrics() noexcept;
  ReadinessChecks& readiness() noexcept;
  const ServerOptions& options() const noexcept;

  // Binds, listens and starts the I/O threads. Returns kConfig for an invalid option, address or
  // unreadable TLS files and kUnavailable when the address cannot be bound. REQUIRES: called once.
  Result<void> start();

  // Returns the bound port (the chosen one when ServerOptions::port was 0). REQUIRES: start() succeeded.
  std::uint16_t port() const noexcept;

  // Stops the server and blocks until it has stopped: stops accepting, closes idle connections,
  // lets in-flight requests finish (their responses carry Connection: close) until `grace` has passed
  // (default: ServerOptions::shutdown_grace), then cancels what is left and joins the I/O threads.
  // Safe to call more than once, and before start().
  void stop(std::optional<std::chrono::milliseconds> grace = std::nullopt);

  // Returns true between a successful start() and the beginning of stop().
  bool running() const noexcept;

 private:
  std::unique_ptr<ServerState> state_;
};

}  // namespace wik::http
