// ServerState: everything one Server owns while it runs, shared by the listener (server.cpp) and
// the connection coroutines (session.cpp). Private to src/http.
//
// Connection coroutines borrow the state by reference: stop() waits for every one of them (or, past
// its deadline, destroys them with the io_contexts) before the state is destroyed. The io_contexts
// are among the last members, so they are destroyed first.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/executor_work_guard.hpp>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

#include "http/io.h"
#include "http/server/metrics.h"
#include "http/server/options.h"
#include "http/server/readiness.h"
#include "http/server/router.h"
#include "http/server/task_group.h"
#include "http/server/watchdog.h"

namespace boost::asio::ssl {
class context;
}

namespace wik::http {

class ServerState {
 public:
  explicit ServerState(ServerOptions options);
  ~ServerState();

  Result<void> start();
  void stop(std::chrono::milliseconds grace);

  const ServerOptions& options() const noexcept { return options_; }
  Router& router() noexcept { return router_; }
  MetricsRegistry& metrics() noexcept { return metrics_; }
  ReadinessChecks& readiness() noexcept { return readiness_; }
  std::uint16_t port() const noexcept { return port_; }
  bool running() const noexcept { return running_.load(); }
  bool draining() const noexcept { return draining_.load(std::memory_order_acquire); }
  // Returns the TLS context, or nullptr when serving plain HTTP.
  boost::asio::ssl::context* tls() noexcept { return tls_.get(); }

  // Returns the X-Request-Id for a request that carried `offered` (reused when it is a sane id).
  std::string request_id(std::string_view offered);
  // Counts one answered request in the metrics: `route` is the matched route or nullptr, `label`
  // its pattern or "unmatched".
  void record(const Route* route, std::string_view method, std::string_view label, unsigned status, double seconds);

 private:
  boost::asio::awaitable<void> accept_loop();

  // The metrics of one route, found without locking once the server runs.
  struct RouteStats {
    Histogram* latency = nullptr;
    std::array<std::atomic<Counter*>, 500> by_status{};  // indexed by status - 100; filled on first use
  };

  void spawn_connection(io::Socket socket, std::size_t context, bool reject);
  void add_builtin_routes();
  Counter& requests_counter(std::string_view method, std::string_view label, unsigned status);
  Histogram& latency_histogram(std::string_view label);

  ServerOptions options_;
  Router router_;
  MetricsRegistry metrics_;
  ReadinessChecks readiness_;
  TaskGroup tasks_;
  std::unique_ptr<boost::asio::ssl::context> tls_;
  Gauge& open_connections_;
  Counter& accepted_connections_;
  Counter& rejected_connections_;
  std::atomic<std::size_t> connections_{0};  // served connections, counted from accept
  std::atomic<std::size_t> rejecting_{0};    // connections being answered 503
  std::atomic<bool> running_{false};
  std::atomic<bool> draining_{false};
  std::mutex lifecycle_mutex_;
  bool started_ = false;
  bool stopped_ = false;
  std::uint16_t port_ = 0;
  std::string request_id_prefix_;
  std::atomic<std::uint64_t> request_count_{0};
  std::unordered_map<const Route*, std::unique_ptr<RouteStats>> route_stats_;  // read-only once running
  std::vector<std::thread> threads_;
  // One io_context per I/O thread, each run by that thread alone; connections are spread over
  // them in turn. (One shared io_context made every completion contend on its lock.)
  std::vector<std::unique_ptr<boost::asio::io_context>> io_contexts_;
  std::vector<std::unique_ptr<Watchdog>> watchdogs_;  // one per io_context
  std::vector<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> work_;
  std::size_t next_context_ = 0;  // touched only by the accept loop
  std::optional<io::Acceptor> acceptor_;
};

}  // namespace wik::http
