// The fault proxy's own test (support/fault_proxy.h): each toxic does what it promises, in the
// direction it is set for, with the toxicity it is given, and can be removed from live
// connections. A blocking echo server on loopback is the upstream and plain POSIX sockets are the
// client, so the test sees byte-exactly what crosses the proxy, and how each connection ends.
// Timing bounds are generous lower bounds (a toxic adds at least its delay); nothing asserts speed.
#include "support/fault_proxy.h"

#include <gtest/gtest.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "support/result_matchers.h"

namespace wik::testing {
namespace {

using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

int loopback_socket(std::uint16_t port, bool listen) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(port);
  const int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  const auto* raw = reinterpret_cast<const sockaddr*>(&address);
  const bool ready = listen ? ::bind(fd, raw, sizeof address) == 0 && ::listen(fd, 64) == 0
                            : ::connect(fd, raw, sizeof address) == 0;
  if (!ready) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// Echoes every byte back on each connection until the client closes; a connection whose bytes
// contain "quit" is closed by the server after the echo. Records what it received.
class EchoServer {
 public:
  EchoServer() : listener_(loopback_socket(0, true)) {
    sockaddr_in address{};
    socklen_t length = sizeof address;
    ::getsockname(listener_, reinterpret_cast<sockaddr*>(&address), &length);
    port_ = ntohs(address.sin_port);
    acceptor_ = std::thread([this] { accept_loop(); });
  }
  ~EchoServer() {
    ::shutdown(listener_, SHUT_RDWR);
    ::close(listener_);
    acceptor_.join();
    const std::lock_guard lock(mutex_);
    for (std::thread& connection : connections_) connection.join();
  }

  std::uint16_t port() const { return port_; }
  int accepted() const { return accepted_; }
  std::string received() const {
    const std::lock_guard lock(mutex_);
    return received_;
  }
  // Returns what was received once it is at least `size` bytes, or after 5 s: the server's
  // threads may read after the client saw the proxy close.
  std::string received_at_least(std::size_t size) const {
    const auto limit = Clock::now() + std::chrono::seconds(5);
    while (received().size() < size && Clock::now() < limit) std::this_thread::sleep_for(milliseconds(5));
    return received();
  }
  std::vector<std::size_t> read_sizes() const {
    const std::lock_guard lock(mutex_);
    return read_sizes_;
  }

 private:
  void accept_loop() {
    for (;;) {
      const int fd = ::accept(listener_, nullptr, nullptr);
      if (fd < 0) return;
      ++accepted_;
      const std::lock_guard lock(mutex_);
      connections_.emplace_back([this, fd] { echo(fd); });
    }
  }

  void echo(int fd) {
    const timeval limit{.tv_sec = 10, .tv_usec = 0};  // every test ends well within this
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit);
    std::string seen;
    char buffer[4096];
    for (;;) {
      const ssize_t read = ::recv(fd, buffer, sizeof buffer, 0);
      if (read <= 0) break;
      {
        const std::lock_guard lock(mutex_);
        received_.append(buffer, static_cast<std::size_t>(read));
        read_sizes_.push_back(static_cast<std::size_t>(read));
      }
      seen.append(buffer, static_cast<std::size_t>(read));
      if (::send(fd, buffer, static_cast<std::size_t>(read), MSG_NOSIGNAL) != read) break;
      if (seen.find("quit") != std::string::npos) break;
    }
    ::close(fd);
  }

  int listener_;
  std::uint16_t port_ = 0;
  std::thread acceptor_;
  std::atomic<int> accepted_{0};
  mutable std::mutex mutex_;
  std::vector<std::thread> connections_;  // guarded by mutex_
  std::string received_;                  // guarded by mutex_
  std::vector<std::size_t> read_sizes_;   // guarded by mutex_
};

// How a client's reading ended.
struct Reading {
  std::string data;
  std::vector<std::size_t> read_sizes;
  bool closed = false;  // orderly close (EOF)
  bool reset = false;   // ECONNRESET
  milliseconds elapsed{0};  // until the last byte, or until the end
};

// A blocking client connection to the proxy.
class TestClient {
 public:
  explicit TestClient(std::uint16_t port) : fd_(loopback_socket(port, false)) {}
  ~TestClient() {
    if (fd_ >= 0) ::close(fd_);
  }
  bool connected() const { return fd_ >= 0; }
  bool send(const std::string& bytes) {
    return ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(bytes.size());
  }
  // Reads until `wanted` bytes arrived, the connection ends, or `limit` passes.
  Reading read(std::size_t wanted, milliseconds limit = milliseconds(5000)) {
    Reading reading;
    const auto started = Clock::now();
    char buffer[65536];
    while (reading.data.size() < wanted) {
      const auto left = limit - std::chrono::duration_cast<milliseconds>(Clock::now() - started);
      if (left <= milliseconds(0)) break;
      const timeval wait{.tv_sec = left.count() / 1000, .tv_usec = (left.count() % 1000) * 1000 + 1};
      ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &wait, sizeof wait);
      const ssize_t read = ::recv(fd_, buffer, sizeof buffer, 0);
      if (read > 0) {
        reading.data.append(buffer, static_cast<std::size_t>(read));
        reading.read_sizes.push_back(static_cast<std::size_t>(read));
      } else if (read == 0) {
        reading.closed = true;
        break;
      } else if (errno == ECONNRESET) {
        reading.reset = true;
        break;
      }
    }
    reading.elapsed = std::chrono::duration_cast<milliseconds>(Clock::now() - started);
    return reading;
  }
  // Reads until the connection ends (or `limit` passes).
  Reading read_to_end(milliseconds limit = milliseconds(5000)) { return read(std::string::npos, limit); }

 private:
  int fd_;
};

class FaultProxyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto proxy = FaultProxy::start(upstream_.port(), 42);
    ASSERT_THAT(proxy, IsOk());
    proxy_ = std::move(*proxy);
  }

  EchoServer upstream_;
  std::unique_ptr<FaultProxy> proxy_;
};

TEST_F(FaultProxyTest, ForwardsBothWaysUnchangedWithoutToxics) {
  std::string payload(100000, 'x');
  for (std::size_t i = 0; i < payload.size(); ++i) payload[i] = static_cast<char>('a' + i % 26);
  TestClient client(proxy_->port());
  ASSERT_TRUE(client.connected());
  ASSERT_TRUE(client.send(payload));
  EXPECT_EQ(client.read(payload.size()).data, payload);
  EXPECT_EQ(upstream_.received(), payload);
  EXPECT_EQ(proxy_->stats().connections, 1);
  EXPECT_EQ(proxy_->stats().toxic_applications, 0);
}

TEST_F(FaultProxyTest, LatencyHoldsEachChunkAtLeastItsLatencyMinusJitter) {
  proxy_->add_toxic(Toxic::latency(milliseconds(300), milliseconds(100)).on(Direction::kDownstream));
  TestClient client(proxy_->port());
  ASSERT_TRUE(client.send("ping"));
  const Reading reading = client.read(4);
  EXPECT_EQ(reading.data, "ping");
  EXPECT_GE(reading.elapsed, milliseconds(200));
  EXPECT_EQ(proxy_->stats().toxic_applications, 1);
}

TEST_F(FaultProxyTest, DownClosesTheConnectionBeforeTheUpstreamIsCalled) {
  proxy_->add_toxic(Toxic::down());
  TestClient client(proxy_->port());
  ASSERT_TRUE(client.connected());
  client.send("ping");
  const Reading reading = client.read_to_end();
  EXPECT_TRUE(reading.closed || reading.reset);
  EXPECT_EQ(reading.data, "");
  EXPECT_EQ(upstream_.accepted(), 0);
  EXPECT_EQ(proxy_->stats().cut_after_request, 0);
}

TEST_F(FaultProxyTest, BandwidthLimitsTheRate) {
  proxy_->add_toxic(Toxic::bandwidth(50000).on(Direction::kDownstream));
  const std::string payload(20000, 'b');
  TestClient client(proxy_->port());
  ASSERT_TRUE(client.send(payload));
  const Reading reading = client.read(payload.size());
  EXPECT_EQ(reading.data, payload);
  EXPECT_GE(reading.elapsed, milliseconds(300)) << "20 kB at 50 kB/s takes 400 ms";
}

TEST_F(FaultProxyTest, SlowCloseDelaysTheClose) {
  proxy_->add_toxic(Toxic::slow_close(milliseconds(400)).on(Direction::kDownstream));
  TestClient client(proxy_->port());
  ASSERT_TRUE(client.send("quit"));
  const Reading reading = client.read_to_end();
  EXPECT_EQ(reading.data, "quit");
  EXPECT_TRUE(reading.closed);
  EXPECT_GE(reading.elapsed, milliseconds(400));
}

TEST_F(FaultProxyTest, TimeoutStallsTheDirectionThenClosesTheConnection) {
  proxy_->add_toxic(Toxic::timeout(milliseconds(400)).on(Direction::kDownstream));
  TestClient client(proxy_->port());
  ASSERT_TRUE(client.send("ping"));
  const Reading reading = client.read_to_end();
  EXPECT_EQ(reading.data, "") << "nothing gets through";
  EXPECT_TRUE(reading.closed || reading.reset);
  EXPECT_GE(reading.elapsed, milliseconds(400));
  EXPECT_EQ(upstream_.received_at_least(4), "ping") << "the other direction still flows";
  EXPECT_EQ(proxy_->stats().cut_after_request, 1);
}

TEST_F(FaultProxyTest, TimeoutOfZeroDropsDataUntilRemovedFromTheLiveConnection) {
  proxy_->add_toxic(Toxic::timeout(milliseconds(0)).on(Direction::kUpstream));
  TestClient client(proxy_->port());
  ASSERT_TRUE(client.send("lost"));
  const Reading stalled = client.read(1, milliseconds(300));
  EXPECT_EQ(stalled.data, "");
  EXPECT_FALSE(stalled.closed || stalled.reset);
  proxy_->clear_toxics();
  ASSERT_TRUE(client.send("healed"));
  EXPECT_EQ(client.read(6).data, "healed");
  EXPECT_EQ(upstream_.received_at_least(6), "healed");
}

TEST_F(FaultProxyTest, ResetPeerResetsTheConnection) {
  proxy_->add_toxic(Toxic::reset_peer().on(Direction::kUpstream));
  TestClient client(proxy_->port());
  ASSERT_TRUE(client.send("ping"));
  const Reading reading = client.read_to_end();
  EXPECT_TRUE(reading.reset);
  EXPECT_EQ(upstream_.received(), "") << "reset at once: the data is not forwarded";
}

TEST_F(FaultProxyTest, ResetPeerWithADelayForwardsUntilTheReset) {
  proxy_->add_toxic(Toxic::reset_peer(milliseconds(300)).on(Direction::kDownstream));
  TestClient client(proxy_->port());
  ASSERT_TRUE(client.send("ping"));
  const Reading reading = client.read_to_end();
  EXPECT_EQ(reading.data, "ping");
  EXPECT_TRUE(reading.reset);
  EXPECT_GE(reading.elapsed, milliseconds(300));
  EXPECT_EQ(proxy_->stats().cut_after_request, 1);
}

TEST_F(FaultProxyTest, SlicerSplitsWritesIntoSmallSlices) {
  proxy_->add_toxic(Toxic::slicer(10, 5, milliseconds(20)).on(Direction::kUpstream));
  const std::string payload(200, 's');
  TestClient client(proxy_->port());
  ASSERT_TRUE(client.send(payload));
  EXPECT_EQ(client.read(payload.size()).data, payload);
  // One write of 200 bytes arrives as one read without the toxic; slices of 5–15 bytes 20 ms apart
  // arrive as many reads (a slow reader may merge a few).
  EXPECT_GE(upstream_.read_sizes().size(), 5u);
}

TEST_F(FaultProxyTest, LimitDataClosesAfterTheLimit) {
  proxy_->add_toxic(Toxic::limit_data(100).on(Direction::kDownstream));
  const std::string payload(1000, 'l');
  TestClient client(proxy_->port());
  ASSERT_TRUE(client.send(payload));
  const Reading reading = client.read_to_end();
  EXPECT_EQ(reading.data, std::string(100, 'l'));
  EXPECT_TRUE(reading.closed);
  EXPECT_EQ(proxy_->stats().cut_after_request, 1);
}

TEST_F(FaultProxyTest, LimitDataUpstreamPassesOnlyTheLimit) {
  proxy_->add_toxic(Toxic::limit_data(50).on(Direction::kUpstream));
  TestClient client(proxy_->port());
  ASSERT_TRUE(client.send(std::string(1000, 'u')));
  const Reading reading = client.read_to_end();
  EXPECT_TRUE(reading.closed || reading.reset);
  EXPECT_EQ(upstream_.received_at_least(50), std::string(50, 'u'));
}

TEST_F(FaultProxyTest, ToxicityIsDrawnPerConnection) {
  proxy_->add_toxic(Toxic::down().on(Direction::kUpstream, 0.5));
  constexpr int kConnections = 40;
  int refused = 0;
  for (int n = 0; n < kConnections; ++n) {
    TestClient client(proxy_->port());
    client.send("ping");  // may fail: a refused connection can be reset before it
    const Reading reading = client.read(4);
    if (reading.data != "ping") ++refused;
  }
  EXPECT_GT(refused, 0);
  EXPECT_LT(refused, kConnections);
  EXPECT_EQ(proxy_->stats().toxic_applications, refused);
  EXPECT_EQ(upstream_.accepted(), kConnections - refused);
  EXPECT_EQ(proxy_->stats().connections, kConnections);
}

TEST_F(FaultProxyTest, ADirectionalToxicCountsOnlyItsDirection) {
  proxy_->add_toxic(Toxic::limit_data(3).on(Direction::kUpstream));
  TestClient client(proxy_->port());
  ASSERT_TRUE(client.send("ab"));
  EXPECT_EQ(client.read(2).data, "ab") << "the echo's bytes do not count against the upstream limit";
  ASSERT_TRUE(client.send("cd"));
  const Reading reading = client.read_to_end();
  EXPECT_EQ(reading.data, "") << "closed as the limit was reached, before the echo of \"c\"";
  EXPECT_TRUE(reading.closed || reading.reset);
  EXPECT_EQ(upstream_.received_at_least(3), "abc");
}

TEST_F(FaultProxyTest, StopClosesLiveConnections) {
  TestClient client(proxy_->port());
  ASSERT_TRUE(client.send("ping"));
  ASSERT_EQ(client.read(4).data, "ping");
  proxy_->stop();
  const Reading reading = client.read_to_end();
  EXPECT_TRUE(reading.closed || reading.reset);
  proxy_->stop();  // idempotent
}

}  // namespace
}  // namespace wik::testing
