#include "http/raw_connection.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <utility>

namespace wik::http::testing {

RawConnection::~RawConnection() { close(); }

RawConnection::RawConnection(RawConnection&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)), pending_(std::move(other.pending_)) {}

RawConnection& RawConnection::operator=(RawConnection&& other) noexcept {
  if (this != &other) {
    close();
    fd_ = std::exchange(other.fd_, -1);
    pending_ = std::move(other.pending_);
  }
  return *this;
}

bool RawConnection::connect(std::uint16_t port) {
  close();
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0) return false;
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd_, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
    close();
    return false;
  }
  int one = 1;
  ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return true;
}

bool RawConnection::send(std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

long RawConnection::read_some(std::chrono::milliseconds timeout) {
  pollfd poll_fd{fd_, POLLIN, 0};
  const int ready = ::poll(&poll_fd, 1, static_cast<int>(timeout.count()));
  if (ready <= 0) return -1;
  char chunk[16384];
  const ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
  if (n < 0) return errno == ECONNRESET ? 0 : -1;
  pending_.append(chunk, static_cast<std::size_t>(n));
  return static_cast<long>(n);
}

std::optional<RawResponse> RawConnection::read_response(std::chrono::milliseconds timeout, bool head_request) {
  if (fd_ < 0) return std::nullopt;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  boost::beast::http::response_parser<boost::beast::http::string_body> parser;
  parser.eager(true);
  parser.body_limit(64 * 1024 * 1024);
  if (head_request) parser.skip(true);
  for (;;) {
    while (!pending_.empty() && !parser.is_done()) {
      boost::system::error_code ec;
      const std::size_t used = parser.put(boost::asio::buffer(pending_), ec);
      pending_.erase(0, used);
      if (ec == boost::beast::http::error::need_more) break;
      if (ec) return std::nullopt;
      if (used == 0) break;
    }
    if (parser.is_done()) break;
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return std::nullopt;
    const long n = read_some(left);
    if (n == 0) {
      if (!parser.got_some()) return std::nullopt;  // closed before any byte of a response
      boost::system::error_code ec;
      parser.put_eof(ec);
      if (ec || !parser.is_done()) return std::nullopt;
      break;
    }
    if (n < 0) return std::nullopt;
  }
  auto message = parser.release();
  RawResponse response;
  response.status = message.result_int();
  response.keep_alive = message.keep_alive();
  for (const auto& field : message) response.headers.insert(field.name_string(), field.value());
  response.body = std::move(message.body());
  return response;
}

bool RawConnection::wait_closed(std::chrono::milliseconds timeout) {
  if (fd_ < 0) return true;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    const long n = read_some(left);
    if (n == 0) return true;
    if (n < 0) return false;
    pending_.clear();
  }
}

std::optional<RawResponse> RawConnection::round_trip(std::string_view request, std::chrono::milliseconds timeout) {
  if (!send(request)) return std::nullopt;
  return read_response(timeout, request.starts_with("HEAD "));
}

void RawConnection::close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  pending_.clear();
}

std::string get_request(std::string_view target, std::string_view extra_headers) {
  std::string request = "GET ";
  request += target;
  request += " HTTP/1.1\r\nHost: 127.0.0.1\r\n";
  request += extra_headers;
  request += "\r\n";
  return request;
}

std::uint64_t raise_open_file_limit(std::uint64_t wanted) {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return 0;
  if (limit.rlim_cur < wanted) {
    limit.rlim_cur = limit.rlim_max == RLIM_INFINITY ? wanted : std::min<rlim_t>(wanted, limit.rlim_max);
    ::setrlimit(RLIMIT_NOFILE, &limit);
    ::getrlimit(RLIMIT_NOFILE, &limit);
  }
  return limit.rlim_cur;
}

namespace {

// Closes every descriptor from 3 up but `keep_a` and `keep_b` (both >= 3).
void close_all_but(int keep_a, int keep_b) {
  const auto [low, high] = std::minmax(keep_a, keep_b);
  if (low > 3) ::close_range(3, static_cast<unsigned>(low) - 1, 0);
  if (high > low + 1) ::close_range(static_cast<unsigned>(low) + 1, static_cast<unsigned>(high) - 1, 0);
  ::close_range(static_cast<unsigned>(high) + 1, ~0U, 0);
}

// The child's work (system calls only, as after a fork of a threaded process): connects `count`
// clients, writes how many it holds to `ready`, then waits until `release` is closed and exits.
[[noreturn]] void hold_idle_connections(std::uint16_t port, std::size_t count, int ready, int release) {
  close_all_but(ready, release);
  raise_open_file_limit(count + 16);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::uint64_t held = 0;
  while (held < count) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0 || ::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) break;
    ++held;
  }
  if (::write(ready, &held, sizeof held) != sizeof held) ::_exit(1);
  char byte = 0;
  while (::read(release, &byte, 1) < 0 && errno == EINTR) {
  }
  ::_exit(0);  // the kernel closes every client at once
}

}  // namespace

IdleConnections::IdleConnections(std::uint16_t port, std::size_t count) {
  int ready[2];
  int release[2];
  if (::pipe2(ready, O_CLOEXEC) != 0) return;
  if (::pipe2(release, O_CLOEXEC) != 0) {
    ::close(ready[0]);
    ::close(ready[1]);
    return;
  }
  child_ = ::fork();
  if (child_ == 0) hold_idle_connections(port, count, ready[1], release[0]);
  ::close(ready[1]);
  ::close(release[0]);
  ready_ = ready[0];
  release_ = release[1];
}

IdleConnections::~IdleConnections() {
  drop();
  if (ready_ >= 0) ::close(ready_);
}

std::optional<std::size_t> IdleConnections::wait_connected(std::chrono::milliseconds timeout) {
  if (child_ <= 0) return std::size_t{0};
  pollfd ready{.fd = ready_, .events = POLLIN, .revents = 0};
  if (::poll(&ready, 1, static_cast<int>(timeout.count())) != 1) return std::nullopt;
  std::uint64_t held = 0;
  if (::read(ready_, &held, sizeof held) != sizeof held) return std::size_t{0};  // the child died
  return static_cast<std::size_t>(held);
}

void IdleConnections::drop() {
  if (release_ >= 0) ::close(std::exchange(release_, -1));
  if (child_ > 0) {
    while (::waitpid(child_, nullptr, 0) < 0 && errno == EINTR) {
    }
    child_ = -1;
  }
}

}  // namespace wik::http::testing
