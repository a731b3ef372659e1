// A minimal wik::http::Server for load tests (bench/http_bench.sh): GET / answers "hello\n".
//
//   wik_http_hello_server [--port N] [--threads N] [--access-log]
//
// Listens on 127.0.0.1 (port 0 by default: a free one), prints "listening on <port>" once ready,
// and exits 0 after draining when it receives SIGTERM or SIGINT. The access log is off unless asked
// for, as it is for the nginx it is compared with.
#include <boost/asio/awaitable.hpp>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "http/server/server.h"
#include "http/server/shutdown.h"

namespace {

boost::asio::awaitable<wik::http::Response> hello(wik::http::Request&) {
  co_return wik::http::Response::text("hello\n");
}

}  // namespace

int main(int argc, char** argv) {
  wik::http::ServerOptions options;
  options.port = 0;
  options.access_log = false;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--port" && i + 1 < argc) {
      options.port = static_cast<std::uint16_t>(std::stoul(argv[++i]));
    } else if (arg == "--threads" && i + 1 < argc) {
      options.io_threads = std::stoul(argv[++i]);
    } else if (arg == "--access-log") {
      options.access_log = true;
    } else {
      std::fprintf(stderr, "usage: %s [--port N] [--threads N] [--access-log]\n", argv[0]);
      return 2;
    }
  }
  spdlog::set_level(spdlog::level::warn);
  wik::http::Server server(options);
  server.router().get("/", hello);
  wik::http::ShutdownOnSignal shutdown(server);
  if (auto started = server.start(); !started.ok()) {
    std::fprintf(stderr, "cannot start: %s\n", started.error().reason().c_str());
    return 1;
  }
  std::printf("listening on %u\n", static_cast<unsigned>(server.port()));
  std::fflush(stdout);
  shutdown.wait();
  return 0;
}
