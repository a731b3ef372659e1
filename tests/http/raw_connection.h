// RawConnection: a blocking loopback TCP client for server tests, on plain POSIX sockets, so a test
// can send arbitrary (malformed, partial, pipelined) bytes and read answers byte-exactly. Every wait
// takes a timeout; nothing blocks unboundedly. Not thread-safe; one per test thread.
#pragma once

#include <boost/beast/http/fields.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace wik::http::testing {

struct RawResponse {
  unsigned status = 0;
  boost::beast::http::fields headers;
  std::string body;
  bool keep_alive = false;
};

class RawConnection {
 public:
  RawConnection() = default;
  ~RawConnection();
  RawConnection(RawConnection&& other) noexcept;
  RawConnection& operator=(RawConnection&& other) noexcept;

  // Connects to 127.0.0.1:`port`. Returns false on failure.
  bool connect(std::uint16_t port);
  bool is_open() const noexcept { return fd_ >= 0; }
  // Sends all of `bytes`. Returns false if the peer is gone.
  bool send(std::string_view bytes);
  // Reads one response within `timeout`; nullopt on timeout, close or unparsable bytes.
  // `head_request` tells the parser the response has no body.
  std::optional<RawResponse> read_response(std::chrono::milliseconds timeout = std::chrono::seconds(5),
                                           bool head_request = false);
  // Returns true if the peer closes (or resets) the connection within `timeout`, discarding any bytes.
  bool wait_closed(std::chrono::milliseconds timeout = std::chrono::seconds(5));
  // Sends a simple request and reads its response.
  std::optional<RawResponse> round_trip(std::string_view request,
                                        std::chrono::milliseconds timeout = std::chrono::seconds(5));
  void close();

 private:
  // Reads whatever arrives within `timeout` into pending_; returns bytes read, 0 on close, -1 on timeout/error.
  long read_some(std::chrono::milliseconds timeout);

  int fd_ = -1;
  std::string pending_;
};

// Returns "GET <target> HTTP/1.1" with Host and the given extra header lines (each ending in \r\n).
std::string get_request(std::string_view target, std::string_view extra_headers = {});

// Raises the soft limit on open files to at least `wanted` (bounded by the hard limit); returns the new soft limit.
std::uint64_t raise_open_file_limit(std::uint64_t wanted);

// Idle loopback connections to a server, held by a child process: the child has a file table of
// its own, so `count` client ends need not fit in the test's process beside the server's `count`
// ends (the hard limit on open files is per process, and may not be raised). The child closes
// every descriptor it inherited, connects its clients one by one without sending a byte, reports
// how many it holds, and exits, dropping them all at once, when told to or when the test's
// process dies. Not thread-safe.
class IdleConnections {
 public:
  // Starts the child connecting `count` clients to 127.0.0.1:`port`.
  IdleConnections(std::uint16_t port, std::size_t count);
  ~IdleConnections();
  IdleConnections(const IdleConnections&) = delete;
  IdleConnections& operator=(const IdleConnections&) = delete;

  // Returns how many clients the child holds once it stopped connecting (all of them, or those
  // before the first that failed), or nullopt while it is still connecting after `timeout`.
  std::optional<std::size_t> wait_connected(std::chrono::milliseconds timeout);
  // Tells the child to drop every client and waits until it has exited.
  void drop();

 private:
  int child_ = -1;
  int ready_ = -1;    // read end: the child writes how many it holds
  int release_ = -1;  // write end: closing it tells the child to drop them
};

}  // namespace wik::http::testing
