// FaultProxy: a TCP proxy on 127.0.0.1 that puts Toxiproxy's network faults ("toxics") between a
// client and one upstream server, for tests of how wik behaves on a bad network (H5,
// docs/RELIABILITY.md). Toxiproxy itself is not packaged for Debian, and `tc netem` does not work on
// the test machines.
//
//   auto proxy = FaultProxy::start(server_port);           // listens on 127.0.0.1:<proxy->port()>
//   proxy->add_toxic(Toxic::latency(std::chrono::milliseconds(100)).on(Direction::kDownstream, 0.5));
//   ... point the client at proxy->url() ...
//   proxy->clear_toxics();                                 // heals every connection, live ones too
//
// Each accepted connection gets its own connection to the upstream and forwards bytes both ways.
// A toxic acts on one direction (upstream: client → server bytes, downstream: server → client)
// and applies to a connection with its `toxicity` probability, drawn once per connection and toxic
// from a seeded generator. Toxics may be added and removed while connections are open; a live
// connection follows the current list (a removed toxic stops acting at its next chunk of data).
// The toxics and what they promise:
//   latency     each chunk is held `delay` ± uniform `jitter` before it is written;
//   down        a connection accepted while it acts is reset at once, before the upstream is
//               called; a live one at its next chunk of data (direction does not matter);
//   bandwidth   the direction carries at most `rate_bytes_per_second`;
//   slow_close  when the sending side of the direction closes, the close is passed on `delay` later;
//   timeout     no data gets through; the connection is closed `delay` after the first data the
//               toxic swallowed (0: never closed, data dropped until the toxic is removed);
//   reset_peer  the connection is reset (RST to both sides) `delay` after the first data in the
//               direction (0: at once, that data is not forwarded);
//   slicer      each chunk is written in slices of `average_size` ± uniform `size_variation`
//               bytes, `delay` apart;
//   limit_data  the connection is closed once `bytes` have passed in the direction (the bytes up
//               to the limit are forwarded).
// Counters: connections accepted, toxic applications (connections × toxics drawn to apply), and
// connections a toxic ended (down, timeout, reset_peer, limit_data) after the upstream had been
// sent request bytes — the exchanges whose answer may be lost although the server acted on them.
//
// Thread-safety: every method may be called from any thread while the proxy runs on its own
// thread. stop() (also run by the destructor) closes the listener and every connection and joins
// that thread; it is bounded by nothing but the proxy's own work, which never blocks.
#pragma once

#include <wik/result.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace wik::testing {

enum class Direction {
  kUpstream,    // client → server
  kDownstream,  // server → client
};

struct Toxic {
  enum class Kind { kLatency, kDown, kBandwidth, kSlowClose, kTimeout, kResetPeer, kSlicer, kLimitData };

  Kind kind = Kind::kLatency;
  Direction direction = Direction::kDownstream;
  double toxicity = 1.0;  // the probability that the toxic applies to a connection, in [0, 1]
  std::chrono::milliseconds delay{0};   // latency's latency; slow_close, timeout, reset_peer, slicer (see above)
  std::chrono::milliseconds jitter{0};  // latency
  std::size_t rate_bytes_per_second = 0;
  std::size_t average_size = 0;
  std::size_t size_variation = 0;
  std::size_t bytes = 0;

  static Toxic latency(std::chrono::milliseconds latency, std::chrono::milliseconds jitter = {});
  static Toxic down();
  static Toxic bandwidth(std::size_t rate_bytes_per_second);
  static Toxic slow_close(std::chrono::milliseconds delay);
  static Toxic timeout(std::chrono::milliseconds delay);
  static Toxic reset_peer(std::chrono::milliseconds delay = {});
  static Toxic slicer(std::size_t average_size, std::size_t size_variation, std::chrono::milliseconds delay = {});
  static Toxic limit_data(std::size_t bytes);

  // Returns a copy that acts on `where` with probability `probability`.
  Toxic on(Direction where, double probability = 1.0) const;
};

// Returns Toxiproxy's name of a kind ("latency", "slow_close", …).
std::string_view toxic_name(Toxic::Kind kind);

struct FaultProxyStats {
  std::int64_t connections = 0;         // accepted
  std::int64_t toxic_applications = 0;  // (connection, toxic) pairs drawn to apply
  // Connections a toxic closed or reset after the upstream had received bytes from the client.
  std::int64_t cut_after_request = 0;
};

class FaultProxy {
 public:
  // Listens on 127.0.0.1, any free port, and forwards to 127.0.0.1:`upstream_port`. `seed` seeds
  // the toxicity draws (0: a random seed). kUnavailable when it cannot listen.
  static Result<std::unique_ptr<FaultProxy>> start(std::uint16_t upstream_port, std::uint64_t seed = 0);
  ~FaultProxy();
  FaultProxy(const FaultProxy&) = delete;
  FaultProxy& operator=(const FaultProxy&) = delete;

  std::uint16_t port() const noexcept;
  // "http://127.0.0.1:{port}".
  std::string url() const;
  // Forwards later connections to 127.0.0.1:`upstream_port`.
  void set_upstream(std::uint16_t upstream_port);

  void add_toxic(const Toxic& toxic);
  void clear_toxics();
  FaultProxyStats stats() const;

  // Closes the listener and every connection, and stops the proxy's thread. Idempotent.
  void stop();

 private:
  class Impl;
  explicit FaultProxy(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace wik::testing
