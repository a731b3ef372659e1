#include "support/fault_proxy.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address_v4.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/write.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <exception>
#include <iostream>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <thread>
#include <utility>

#include "http/io.h"

namespace wik::testing {
namespace {

namespace asio = boost::asio;
using namespace asio::experimental::awaitable_operators;
using http::io::Acceptor;
using http::io::Socket;
using http::io::Timer;
using Milliseconds = std::chrono::milliseconds;

constexpr std::size_t kChunkBytes = 16 * 1024;

struct ToxicEntry {
  std::uint64_t id = 0;
  Toxic toxic;
};

std::size_t index_of(Direction direction) { return direction == Direction::kUpstream ? 0 : 1; }

// One proxied connection: the client's socket, the upstream's, and what its toxics decided. Lives
// in the frame of the coroutine serving it; its two pumps and its deadline watcher borrow it.
struct Link {
  explicit Link(Socket&& accepted)
      : client(std::move(accepted)),
        server(client.get_executor()),
        deadline(client.get_executor()),
        waits{Timer(client.get_executor()), Timer(client.get_executor())} {
    deadline.expires_at(Timer::time_point::max());
  }

  Socket client;
  Socket server;
  Timer deadline;                // timeout / reset_peer with a delay: when the link is cut
  bool deadline_resets = false;  // what the deadline does: reset or close
  bool deadline_armed = false;
  std::array<Timer, 2> waits;  // each direction's pauses (latency, slicer, bandwidth, slow_close)
  std::map<std::uint64_t, bool> applies;  // per toxic id: drawn to apply to this link
  bool upstream_received = false;         // the upstream has been sent bytes of the client's
  int directions_done = 0;                // pumps that ended
  bool closed = false;
};

}  // namespace

Toxic Toxic::latency(Milliseconds latency, Milliseconds jitter) {
  return {.kind = Kind::kLatency, .delay = latency, .jitter = jitter};
}
Toxic Toxic::down() { return {.kind = Kind::kDown}; }
Toxic Toxic::bandwidth(std::size_t rate_bytes_per_second) {
  return {.kind = Kind::kBandwidth, .rate_bytes_per_second = std::max<std::size_t>(rate_bytes_per_second, 1)};
}
Toxic Toxic::slow_close(Milliseconds delay) { return {.kind = Kind::kSlowClose, .delay = delay}; }
Toxic Toxic::timeout(Milliseconds delay) { return {.kind = Kind::kTimeout, .delay = delay}; }
Toxic Toxic::reset_peer(Milliseconds delay) { return {.kind = Kind::kResetPeer, .delay = delay}; }
Toxic Toxic::slicer(std::size_t average_size, std::size_t size_variation, Milliseconds delay) {
  return {.kind = Kind::kSlicer,
          .delay = delay,
          .average_size = std::max<std::size_t>(average_size, 1),
          .size_variation = std::min(size_variation, std::max<std::size_t>(average_size, 1) - 1)};
}
Toxic Toxic::limit_data(std::size_t bytes) { return {.kind = Kind::kLimitData, .bytes = bytes}; }

Toxic Toxic::on(Direction where, double probability) const {
  Toxic copy = *this;
  copy.direction = where;
  copy.toxicity = std::clamp(probability, 0.0, 1.0);
  return copy;
}

std::string_view toxic_name(Toxic::Kind kind) {
  switch (kind) {
    case Toxic::Kind::kLatency: return "latency";
    case Toxic::Kind::kDown: return "down";
    case Toxic::Kind::kBandwidth: return "bandwidth";
    case Toxic::Kind::kSlowClose: return "slow_close";
    case Toxic::Kind::kTimeout: return "timeout";
    case Toxic::Kind::kResetPeer: return "reset_peer";
    case Toxic::Kind::kSlicer: return "slicer";
    case Toxic::Kind::kLimitData: return "limit_data";
  }
  return "unknown";
}

class FaultProxy::Impl {
 public:
  Impl(std::uint16_t upstream_port, std::uint64_t seed)
      : acceptor_(io_), upstream_port_(upstream_port), random_(seed != 0 ? seed : std::random_device{}()) {}

  Result<void> listen() {
    boost::system::error_code ec;
    const asio::ip::tcp::endpoint endpoint(asio::ip::address_v4::loopback(), 0);
    acceptor_.open(endpoint.protocol(), ec);
    if (!ec) acceptor_.bind(endpoint, ec);
    if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) return Error(ErrorCode::kUnavailable, "the fault proxy cannot listen", ec.message());
    port_ = acceptor_.local_endpoint().port();
    asio::co_spawn(io_, accept_loop(), [](std::exception_ptr e) { report(e); });
    thread_ = std::thread([this] { io_.run(); });
    return ok_result();
  }

  std::uint16_t port() const noexcept { return port_; }
  void set_upstream(std::uint16_t port) { upstream_port_ = port; }

  void add_toxic(const Toxic& toxic) {
    const std::lock_guard lock(mutex_);
    toxics_.push_back({next_id_++, toxic});
  }
  void clear_toxics() {
    const std::lock_guard lock(mutex_);
    toxics_.clear();
  }
  FaultProxyStats stats() const {
    return {.connections = connections_, .toxic_applications = applications_, .cut_after_request = cuts_};
  }

  void stop() {
    if (!thread_.joinable()) return;
    asio::post(io_, [this] {
      stopping_ = true;
      boost::system::error_code ignored;
      acceptor_.close(ignored);
      for (Link* link : live_) close(*link, false);
    });
    thread_.join();
  }

 private:
  static void report(const std::exception_ptr& e) {
    if (!e) return;
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& error) {
      std::cerr << "fault proxy: " << error.what() << std::endl;
    }
  }

  asio::awaitable<void> accept_loop() {
    for (;;) {
      auto [ec, socket] = co_await acceptor_.async_accept();
      if (!acceptor_.is_open()) co_return;
      if (ec) continue;
      ++connections_;
      asio::co_spawn(io_, serve(std::move(socket)), [](std::exception_ptr e) { report(e); });
    }
  }

  // Returns the toxics that act on `link` in `direction` now (down acts in both), drawing each new
  // toxic's toxicity for this link once.
  std::vector<Toxic> acting(Link& link, Direction direction) {
    std::vector<Toxic> acting;
    const std::lock_guard lock(mutex_);
    for (const ToxicEntry& entry : toxics_) {
      if (entry.toxic.direction != direction && entry.toxic.kind != Toxic::Kind::kDown) continue;
      auto [drawn, fresh] = link.applies.try_emplace(entry.id, false);
      if (fresh) {
        drawn->second = std::uniform_real_distribution<double>(0.0, 1.0)(random_) < entry.toxic.toxicity;
        if (drawn->second) ++applications_;
      }
      if (drawn->second) acting.push_back(entry.toxic);
    }
    return acting;
  }

  std::size_t draw_between(std::size_t low, std::size_t high) {
    const std::lock_guard lock(mutex_);
    return std::uniform_int_distribution<std::size_t>(low, high)(random_);
  }

  // Closes both sides of `link` (with a reset when `reset`) and wakes everything waiting on it.
  void close(Link& link, bool reset) {
    if (link.closed) return;
    link.closed = true;
    boost::system::error_code ignored;
    for (Socket* socket : {&link.client, &link.server}) {
      if (reset && socket->is_open()) socket->set_option(asio::socket_base::linger(true, 0), ignored);
      socket->close(ignored);
    }
    link.deadline.cancel();
    for (Timer& wait : link.waits) wait.cancel();
  }

  // Closes `link` on a toxic's behalf and counts it when the upstream had been sent request bytes.
  void cut(Link& link, bool reset) {
    if (link.closed) return;
    if (link.upstream_received) ++cuts_;
    close(link, reset);
  }

  // Waits `duration` unless the link closes first; returns whether the link is still open.
  asio::awaitable<bool> pause(Link& link, Direction direction, Milliseconds duration) {
    if (duration > Milliseconds(0) && !link.closed) {
      Timer& wait = link.waits[index_of(direction)];
      wait.expires_after(duration);
      co_await wait.async_wait();
    }
    co_return !link.closed;
  }

  // Sets the link to be cut `delay` from now, unless a cut is already set.
  void arm(Link& link, Milliseconds delay, bool reset) {
    if (link.deadline_armed) return;
    link.deadline_armed = true;
    link.deadline_resets = reset;
    link.deadline.expires_after(delay);
  }

  // Cuts the link when its deadline passes; ends when the link closes.
  asio::awaitable<void> watch_deadline(Link& link) {
    while (!link.closed) {
      auto [ec] = co_await link.deadline.async_wait();
      if (!ec && !link.closed) cut(link, link.deadline_resets);
    }
  }

  // Writes `data` to `to` in the slices the slicer and bandwidth toxics ask for; returns whether the
  // link is still open.
  asio::awaitable<bool> write(Link& link, Direction direction, std::string_view data, const Toxic* slicer,
                              std::size_t rate_bytes_per_second) {
    Socket& to = direction == Direction::kUpstream ? link.server : link.client;
    while (!data.empty()) {
      std::size_t size = data.size();
      if (slicer != nullptr) {
        size = draw_between(slicer->average_size - slicer->size_variation,
                            slicer->average_size + slicer->size_variation);
      }
      if (rate_bytes_per_second > 0) size = std::min(size, std::max<std::size_t>(rate_bytes_per_second / 20, 1));
      size = std::min(size, data.size());
      if (rate_bytes_per_second > 0) {
        const auto budget = Milliseconds(static_cast<std::int64_t>(size * 1000 / rate_bytes_per_second));
        if (!co_await pause(link, direction, budget)) co_return false;
      }
      auto [ec, written] = co_await asio::async_write(to, asio::buffer(data.data(), size));
      if (ec) {
        close(link, false);
        co_return false;
      }
      if (direction == Direction::kUpstream) link.upstream_received = true;
      data.remove_prefix(size);
      if (slicer != nullptr && !data.empty() && !co_await pause(link, direction, slicer->delay)) co_return false;
    }
    co_return !link.closed;
  }

  // Forwards one chunk through the toxics acting now; returns whether the link is still open.
  asio::awaitable<bool> forward(Link& link, Direction direction, std::string_view chunk, std::size_t& passed) {
    const std::vector<Toxic> toxics = acting(link, direction);
    std::optional<std::size_t> limit;
    const Toxic* slicer = nullptr;
    std::size_t rate = 0;
    for (const Toxic& toxic : toxics) {
      switch (toxic.kind) {
        case Toxic::Kind::kDown: cut(link, true); co_return false;
        case Toxic::Kind::kResetPeer:
          if (toxic.delay == Milliseconds(0)) {
            cut(link, true);
            co_return false;
          }
          arm(link, toxic.delay, true);
          break;
        case Toxic::Kind::kTimeout:
          if (toxic.delay > Milliseconds(0)) arm(link, toxic.delay, false);
          co_return !link.closed;  // swallowed
        case Toxic::Kind::kLatency: {
          const auto jitter = static_cast<std::size_t>(std::max<std::int64_t>(toxic.jitter.count(), 0));
          const auto drawn = static_cast<std::int64_t>(draw_between(0, 2 * jitter)) - static_cast<std::int64_t>(jitter);
          if (!co_await pause(link, direction, std::max(toxic.delay + Milliseconds(drawn), Milliseconds(0)))) {
            co_return false;
          }
          break;
        }
        case Toxic::Kind::kLimitData: limit = std::min(limit.value_or(toxic.bytes), toxic.bytes); break;
        case Toxic::Kind::kSlicer: slicer = &toxic; break;
        case Toxic::Kind::kBandwidth: rate = toxic.rate_bytes_per_second; break;
        case Toxic::Kind::kSlowClose: break;
      }
    }
    const bool reaches_limit = limit && passed + chunk.size() >= *limit;
    if (reaches_limit) chunk = chunk.substr(0, *limit - std::min(passed, *limit));
    if (!co_await write(link, direction, chunk, slicer, rate)) co_return false;
    passed += chunk.size();
    if (reaches_limit) cut(link, false);
    co_return !link.closed;
  }

  // Carries one direction of `link` until its sender closes or the link is cut.
  asio::awaitable<void> pump(Link& link, Direction direction) {
    Socket& from = direction == Direction::kUpstream ? link.client : link.server;
    Socket& to = direction == Direction::kUpstream ? link.server : link.client;
    std::vector<char> buffer(kChunkBytes);
    std::size_t passed = 0;
    for (;;) {
      auto [ec, read] = co_await from.async_read_some(asio::buffer(buffer));
      if (ec == asio::error::eof && !link.closed) {
        Milliseconds delay{0};
        const std::vector<Toxic> toxics = acting(link, direction);
        for (const Toxic& toxic : toxics) {
          if (toxic.kind == Toxic::Kind::kSlowClose) delay += toxic.delay;
        }
        if (!co_await pause(link, direction, delay)) co_return;
        boost::system::error_code ignored;
        to.shutdown(asio::socket_base::shutdown_send, ignored);
        co_return;
      }
      if (ec) {
        close(link, false);
        co_return;
      }
      if (!co_await forward(link, direction, std::string_view(buffer.data(), read), passed)) co_return;
    }
  }

  // Pumps one direction; the second direction to end closes the link (which ends its watcher).
  asio::awaitable<void> carry(Link& link, Direction direction) {
    co_await pump(link, direction);
    if (++link.directions_done == 2) close(link, false);
  }

  asio::awaitable<void> serve(Socket accepted) {
    if (stopping_) co_return;  // accepted just before stop(): closed with its socket
    Link link(std::move(accepted));
    live_.insert(&link);
    // `down` acts in both directions: drawing the upstream's toxics draws it before the upstream is
    // called.
    const bool refused = std::ranges::any_of(acting(link, Direction::kUpstream),
                                             [](const Toxic& toxic) { return toxic.kind == Toxic::Kind::kDown; });
    if (refused) {
      cut(link, true);
    } else {
      const asio::ip::tcp::endpoint upstream(asio::ip::address_v4::loopback(), upstream_port_);
      auto [ec] = co_await link.server.async_connect(upstream);
      if (ec || link.closed) {
        close(link, true);
      } else {
        boost::system::error_code ignored;
        link.client.set_option(asio::ip::tcp::no_delay(true), ignored);
        link.server.set_option(asio::ip::tcp::no_delay(true), ignored);
        co_await (carry(link, Direction::kUpstream) && carry(link, Direction::kDownstream) && watch_deadline(link));
      }
    }
    live_.erase(&link);
  }

  asio::io_context io_{1};
  Acceptor acceptor_;
  std::uint16_t port_ = 0;
  std::atomic<std::uint16_t> upstream_port_;
  std::thread thread_;
  std::set<Link*> live_;  // the io thread only
  bool stopping_ = false;  // the io thread only
  mutable std::mutex mutex_;
  std::vector<ToxicEntry> toxics_;  // guarded by mutex_
  std::uint64_t next_id_ = 1;       // guarded by mutex_
  std::mt19937_64 random_;          // guarded by mutex_
  std::atomic<std::int64_t> connections_{0};
  std::atomic<std::int64_t> applications_{0};
  std::atomic<std::int64_t> cuts_{0};
};

Result<std::unique_ptr<FaultProxy>> FaultProxy::start(std::uint16_t upstream_port, std::uint64_t seed) {
  auto impl = std::make_unique<Impl>(upstream_port, seed);
  if (auto listening = impl->listen(); !listening.ok()) return listening.error();
  return std::unique_ptr<FaultProxy>(new FaultProxy(std::move(impl)));
}

FaultProxy::FaultProxy(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
FaultProxy::~FaultProxy() { stop(); }

std::uint16_t FaultProxy::port() const noexcept { return impl_->port(); }
std::string FaultProxy::url() const { return "http://127.0.0.1:" + std::to_string(port()); }
void FaultProxy::set_upstream(std::uint16_t upstream_port) { impl_->set_upstream(upstream_port); }
void FaultProxy::add_toxic(const Toxic& toxic) { impl_->add_toxic(toxic); }
void FaultProxy::clear_toxics() { impl_->clear_toxics(); }
FaultProxyStats FaultProxy::stats() const { return impl_->stats(); }
void FaultProxy::stop() { impl_->stop(); }

}  // namespace wik::testing
