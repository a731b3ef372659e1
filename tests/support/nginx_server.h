// NginxServer: a real nginx (the Debian package, /usr/sbin/nginx or $WIK_NGINX) as the load
// balancer of a test: it listens on 127.0.0.1 (a free port unless told) and proxies every request round
// robin to upstream servers on 127.0.0.1, with nginx's defaults for retries (proxy_next_upstream
// "error timeout": a request goes to another upstream only when nothing of it reached the first,
// never a POST once sent). Each answer carries the upstream that served it in X-Upstream, and the
// access log records, per request, every upstream tried and the bytes sent to each, so a test can
// prove which replica served what and that nginx sent no request twice.
//
// Everything nginx writes (configuration, pid, logs, temporary files) stays in a temporary
// directory of its own. The destructor stops nginx (SIGTERM, then SIGKILL after 10 s) and reaps
// it; should the test process die first, the kernel kills nginx's master. Not thread-safe; use it
// from the test's thread.
#pragma once

#include <wik/result.h>

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "support/temp_dir.h"

namespace wik::testing {

struct NginxOptions {
  std::vector<std::uint16_t> upstreams;  // ports on 127.0.0.1. REQUIRES: not empty
  std::uint16_t port = 0;                // where nginx listens on 127.0.0.1; 0: a free port
  int worker_processes = 1;
  std::chrono::milliseconds start_timeout{10000};  // until nginx listens
};

// One request as nginx's access log recorded it.
struct ProxiedRequest {
  unsigned status = 0;                    // the status nginx answered
  std::string method;
  std::string target;
  std::vector<std::string> upstreams;     // every upstream tried, in order ("127.0.0.1:8080")
  std::vector<std::uint64_t> bytes_sent;  // bytes sent to each of them

  // Returns true when an upstream that got bytes of the request was not the last tried: nginx sent
  // the request again to another upstream.
  bool resent() const;
};

class NginxServer {
 public:
  // Starts nginx and waits until it listens; kUnavailable with its error log in the detail when
  // it exits or does not listen in time.
  static Result<std::unique_ptr<NginxServer>> start(const NginxOptions& options);
  ~NginxServer();
  NginxServer(const NginxServer&) = delete;
  NginxServer& operator=(const NginxServer&) = delete;

  std::uint16_t port() const noexcept { return port_; }
  // "http://127.0.0.1:{port}"
  std::string url() const;
  // Returns the requests the access log holds so far, in the order nginx finished them.
  std::vector<ProxiedRequest> access_log() const;

 private:
  NginxServer() = default;
  void stop();

  TempDir dir_;
  std::uint16_t port_ = 0;
  pid_t pid_ = 0;
};

// Returns a loopback port nothing listens on right now.
std::uint16_t free_loopback_port();

}  // namespace wik::testing
