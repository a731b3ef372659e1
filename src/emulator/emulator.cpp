#include "emulator/emulator.h"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <cstdio>
#include <future>
#include <optional>
#include <thread>
#include <vector>

#include "emulator/control_api.h"
#include "emulator/graph_api/faults.h"
#include "emulator/graph_api/graph_api.h"
#include "emulator/pages/pages.h"
#include "emulator/state/adjustable_clock.h"
#include "emulator/webhook_delivery/actions.h"
#include "http/server/server.h"

namespace wik::emulator {
namespace {

// How long stop() lets in-flight requests finish (a request held by a Graph "hang" fault is cut).
constexpr std::chrono::milliseconds kShutdownGrace = std::chrono::seconds(2);
// How long stop() waits for the delivery thread to finish its work before abandoning it.
constexpr std::chrono::seconds kDeliveryDrain{5};

// Returns an acceptor bound (not listening) to a free port of `address`. The servers need their own
// URLs before they start (for paging links and redirects), so port 0 is resolved here rather than
// by the listener; the acceptors are kept until every port is chosen, so two are never the same.
Result<boost::asio::ip::tcp::acceptor> reserve_port(boost::asio::io_context& io, const std::string& address) {
  boost::system::error_code ec;
  const auto ip = boost::asio::ip::make_address(address, ec);
  if (ec) return Error(ErrorCode::kConfig, "not an IP address: " + address);
  boost::asio::ip::tcp::acceptor acceptor(io);
  const boost::asio::ip::tcp::endpoint endpoint(ip, 0);
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (ec) return Error(ErrorCode::kUnavailable, "cannot bind " + address + ": " + ec.message());
  return acceptor;
}

std::string base_url(const std::string& address, std::uint16_t port) {
  const bool ipv6 = address.find(':') != std::string::npos;
  return "http://" + (ipv6 ? "[" + address + "]" : address) + ":" + std::to_string(port);
}

}  // namespace

class Emulator::Impl {
 public:
  explicit Impl(EmulatorOptions options) : options_(std::move(options)), clock_(system_clock_) {}
  ~Impl() { stop(); }

  Result<void> start();
  void stop();

  EmulatorOptions options_;
  core::SystemClock system_clock_;
  AdjustableClock clock_;
  std::unique_ptr<PlatformState> state_;
  // Declared before everything that runs on it, so it is destroyed after them.
  boost::asio::io_context delivery_io_{1};
  std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> delivery_work_;
  std::thread delivery_thread_;
  std::future<void> delivery_done_;
  std::unique_ptr<WebhookDelivery> delivery_;
  std::unique_ptr<PlatformActions> actions_;
  GraphFaults faults_;
  std::unique_ptr<RateLimits> limits_;
  std::unique_ptr<GraphApi> graph_api_;
  std::unique_ptr<Pages> pages_;
  std::unique_ptr<ControlApi> control_api_;
  // Declared last: destroyed (and so stopped) before the handlers their routes call.
  std::unique_ptr<http::Server> graph_server_;
  std::unique_ptr<http::Server> web_server_;
  std::string graph_url_;
  std::string web_url_;
  bool stopped_ = false;
};

Result<void> Emulator::Impl::start() {
  auto state = PlatformState::open({.state_file = options_.state_file}, clock_);
  if (!state) return state.error();
  state_ = std::move(state).value();
  for (App& app : options_.apps) {
    const Id id = app.id;
    if (auto registered = state_->register_app(std::move(app)); !registered) {
      return registered.error().with_context("app " + id);
    }
  }

  std::uint16_t graph_port = options_.graph_port;
  std::uint16_t web_port = options_.web_port;
  {
    boost::asio::io_context reservations_io;
    std::vector<boost::asio::ip::tcp::acceptor> reservations;
    for (std::uint16_t* port : {&graph_port, &web_port}) {
      if (*port != 0) continue;
      auto reserved = reserve_port(reservations_io, options_.address);
      if (!reserved) return reserved.error();
      *port = reserved->local_endpoint().port();
      reservations.push_back(std::move(reserved).value());
    }
  }
  graph_url_ = base_url(options_.address, graph_port);
  web_url_ = base_url(options_.address, web_port);

  delivery_work_.emplace(delivery_io_.get_executor());
  std::promise<void> delivery_finished;
  delivery_done_ = delivery_finished.get_future();
  delivery_thread_ = std::thread([this, finished = std::move(delivery_finished)]() mutable {
    delivery_io_.run();
    finished.set_value();
  });
  delivery_ = std::make_unique<WebhookDelivery>(delivery_io_, *state_, options_.delivery);
  actions_ = std::make_unique<PlatformActions>(*state_, *delivery_);
  limits_ = std::make_unique<RateLimits>(clock_);

  const auto server_options = [this](std::uint16_t port, std::string name) {
    http::ServerOptions server;
    server.name = std::move(name);
    server.address = options_.address;
    server.port = port;
    server.io_threads = options_.io_threads;
    server.shutdown_grace = kShutdownGrace;
    return server;
  };
  graph_server_ = std::make_unique<http::Server>(server_options(graph_port, "emulator-graph"));
  web_server_ = std::make_unique<http::Server>(server_options(web_port, "emulator-web"));
  graph_api_ = std::make_unique<GraphApi>(*state_, *delivery_, faults_, *limits_,
                                          GraphApiOptions{.graph_url = graph_url_, .web_url = web_url_});
  graph_api_->add_routes(graph_server_->router());
  pages_ = std::make_unique<Pages>(*state_, *actions_, PagesOptions{.web_url = web_url_});
  pages_->add_routes(web_server_->router());
  if (options_.control_api) {
    control_api_ = std::make_unique<ControlApi>(ControlTargets{*state_, clock_, *actions_, *delivery_, faults_, *limits_});
    control_api_->add_routes(web_server_->router());
  }

  if (auto started = graph_server_->start(); !started) return started.error().with_context("graph host");
  if (auto started = web_server_->start(); !started) return started.error().with_context("web host");
  return ok_result();
}

void Emulator::Impl::stop() {
  if (stopped_) return;
  stopped_ = true;
  if (graph_server_) graph_server_->stop();
  if (web_server_) web_server_->stop();
  if (delivery_) delivery_->stop();
  delivery_work_.reset();
  if (delivery_thread_.joinable()) {
    if (delivery_done_.wait_for(kDeliveryDrain) != std::future_status::ready) delivery_io_.stop();
    delivery_thread_.join();
  }
  if (state_) {
    if (auto saved = state_->save(); !saved) {
      std::fprintf(stderr, "wik emulator: could not save the state: %s\n", saved.error().reason().c_str());
    }
  }
}

Result<std::unique_ptr<Emulator>> Emulator::start(EmulatorOptions options) {
  auto impl = std::make_unique<Impl>(std::move(options));
  if (auto started = impl->start(); !started) return started.error();
  return std::unique_ptr<Emulator>(new Emulator(std::move(impl)));
}

Emulator::Emulator(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Emulator::~Emulator() = default;

std::uint16_t Emulator::graph_port() const noexcept { return impl_->graph_server_->port(); }

std::uint16_t Emulator::web_port() const noexcept { return impl_->web_server_->port(); }

std::string Emulator::graph_url() const { return impl_->graph_url_; }

std::string Emulator::web_url() const { return impl_->web_url_; }

PlatformState& Emulator::state() noexcept { return *impl_->state_; }

void Emulator::stop() { impl_->stop(); }

}  // namespace wik::emulator
