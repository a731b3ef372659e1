// Client: the HTTP/1.1 client wik uses to call other services (the Graph API, webhooks targets).
//
//   auto client = wik::http::Client::create({.ca_file = "/etc/wik/ca.pem"});
//   if (!client.ok()) return client.error();
//   wik::Result<wik::http::ClientResponse> response =
//       co_await (*client)->request({.method = verb::get, .url = "https://graph.example/me"});
//
// HTTPS verifies the peer's certificate chain and host name by default (system trust store, or
// ClientOptions::ca_file); plain http:// URLs are refused (kConfig) unless allow_plain_http is set,
// e.g. for a local emulator. Connections are kept alive in a per-host pool, bounded in size and idle
// age. Every request is bounded by connect, read and total timeouts, and by the response size.
// Redirects are returned as responses unless max_redirects > 0.
//
// Failures are values: kTimeout (a deadline passed), kUnavailable (cannot resolve, connect or talk
// to the peer; the TLS handshake or certificate check failed; the request was cancelled), kTooLarge
// (response over a limit), kInvalidArgument (a bad URL or header), kConfig (plain http not allowed).
// Cancellation: the request honours the per-operation cancellation of the coroutine awaiting it
// (a bound cancellation slot, or `||` with a timer); a cancelled request fails with kUnavailable.
//
// Thread-safety: request() may be awaited concurrently from any executors. The Client must outlive
// every request. Idle connections are pooled per execution context (a socket belongs to the reactor
// of the io_context it was made on) and reused only by requests running on that context; when an
// io_context shuts down, its idle connections are closed, so the Client may outlive it.
#pragma once

#include <wik/result.h>

#include <boost/asio/awaitable.hpp>
#include <boost/beast/http/fields.hpp>
#include <boost/beast/http/verb.hpp>

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace wik::http {

struct ClientOptions {
  // The time allowed to resolve the host, connect and complete the TLS handshake.
  std::chrono::milliseconds connect_timeout = std::chrono::seconds(5);
  // The time allowed for the whole response (head and body) to arrive once the request is written.
  std::chrono::milliseconds read_timeout = std::chrono::seconds(30);
  // The time allowed for everything: connecting, writing, reading and following redirects.
  std::chrono::milliseconds total_timeout = std::chrono::seconds(60);
  // The largest response body accepted; larger: kTooLarge.
  std::size_t max_response_body_bytes = 8 * 1024 * 1024;
  // The largest response status line plus headers accepted; larger: kTooLarge.
  std::size_t max_response_header_bytes = 16 * 1024;
  // Idle keep-alive connections kept per scheme, host and port (0: no reuse).
  std::size_t max_idle_connections_per_host = 8;
  // An idle pooled connection older than this is closed instead of reused.
  std::chrono::milliseconds idle_timeout = std::chrono::seconds(30);
  // Verify the server's certificate chain and host name. Turning this off is for tests only.
  bool verify_peer = true;
  // A PEM file of trusted CA certificates; empty: the system's default trust store.
  std::string ca_file;
  // Allow plain http:// URLs (for the local emulator). Default: https only.
  bool allow_plain_http = false;
  // Redirects followed (301, 302, 303, 307, 308); 0 returns them as responses. A redirect from
  // https to http is never followed unless allow_plain_http, and Authorization is dropped when a
  // redirect leaves the original host.
  std::size_t max_redirects = 0;
  // The User-Agent header sent unless the request sets one.
  std::string user_agent = "wik";
};

struct ClientRequest {
  boost::beast::http::verb method = boost::beast::http::verb::get;
  std::string url;  // absolute: http(s)://host[:port]/path?query
  boost::beast::http::fields headers;
  std::string body;  // sent with Content-Length when non-empty or when the method has a body
};

struct ClientResponse {
  unsigned status = 0;
  boost::beast::http::fields headers;
  std::string body;
  std::string url;  // the URL that answered (differs from the request's after redirects)

  // Returns the value of header `name` (case-insensitive), or nullopt.
  std::optional<std::string_view> header(std::string_view name) const;
};

class Client {
 public:
  // Returns a client, or kConfig when the TLS context (e.g. ClientOptions::ca_file) cannot be set up.
  static Result<std::unique_ptr<Client>> create(ClientOptions options = {});
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // Sends `request` and returns its response (any status), or an Error as described above.
  boost::asio::awaitable<Result<ClientResponse>> request(ClientRequest request);

  // Closes every idle pooled connection.
  void close_idle();
  // Returns the number of idle pooled connections (all hosts).
  std::size_t idle_connections() const;

  const ClientOptions& options() const noexcept;

 private:
  struct Impl;
  explicit Client(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace wik::http
