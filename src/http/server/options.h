// ServerOptions: every setting, limit and deadline of the HTTP server, in one place.
//
// Defaults suit a service behind a reverse proxy on one machine. Each limit is enforced per
// connection and answered with its own status (see docs/http.md): a breach never stalls or crashes
// other connections.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

namespace wik::http {

struct TlsFiles {
  std::string certificate_chain_file;  // PEM: the server certificate, then any intermediates
  std::string private_key_file;        // PEM, unencrypted
};

struct ServerOptions {
  // The address to listen on. Default: loopback only. Use "0.0.0.0" or "::" to listen on all interfaces.
  std::string address = "127.0.0.1";
  // The TCP port. 0 picks a free port; read it with Server::port() after start().
  std::uint16_t port = 8080;
  // I/O threads. 0 (the default) means one per CPU core (std::thread::hardware_concurrency()).
  std::size_t io_threads = 0;

  // The largest request line plus headers, in bytes. Larger: 431, connection closed.
  std::size_t max_header_bytes = 8 * 1024;
  // The largest request body, in bytes, unless the route sets RouteOptions::max_body_bytes.
  // Larger: 413, connection closed.
  std::size_t max_body_bytes = 1024 * 1024;
  // The time allowed to receive a whole request (head and body) once its first byte has arrived.
  // Exceeded (a slow or stalled client): 408, connection closed. REQUIRES: > 0.
  std::chrono::milliseconds request_timeout = std::chrono::seconds(10);
  // How long an open connection may wait for the first byte of its next request before it is
  // closed without a response. REQUIRES: > 0.
  std::chrono::milliseconds idle_timeout = std::chrono::seconds(30);
  // The time allowed to write one response. Exceeded: connection closed. REQUIRES: > 0.
  std::chrono::milliseconds write_timeout = std::chrono::seconds(10);
  // Connections served at once. Further connections get 503 and are closed. REQUIRES: > 0.
  std::size_t max_connections = 10000;
  // Requests served on one connection before it is closed (0: no limit).
  std::size_t max_requests_per_connection = 0;

  // The longest Server::stop() lets in-flight requests run before cancelling them, unless
  // stop() is given another deadline.
  std::chrono::milliseconds shutdown_grace = std::chrono::seconds(10);

  // Serve HTTPS with these files instead of plain HTTP. Default: plain HTTP (TLS is normally
  // terminated by a proxy).
  std::optional<TlsFiles> tls;

  // Write one access log line per request to spdlog's default logger, at info level.
  bool access_log = true;
  // Serve /healthz, /readyz and /metrics.
  bool builtin_routes = true;
  // What this server is ("kit", "emulator-graph", ...): the label of its responses in the
  // secret scan's capture (core/output_capture.h). Empty: "unnamed".
  std::string name;
};

}  // namespace wik::http
