// ShutdownOnSignal: wires SIGTERM and SIGINT to Server::stop() for a service's main().
//
//   wik::http::ShutdownOnSignal shutdown(server);   // handlers installed from here on
//   shutdown.wait();                                // blocks; then the server has stopped
//   return 0;
//
// The handlers are installed by the constructor (the default action no longer applies while the
// object lives) and removed by the destructor. wait() returns once a signal arrived and stop() has
// finished draining. Construct and use from one thread.
#pragma once

#include <chrono>
#include <memory>
#include <optional>

#include "http/server/server.h"

namespace wik::http {

class ShutdownOnSignal {
 public:
  // Installs the handlers. `grace` overrides ServerOptions::shutdown_grace for the stop.
  explicit ShutdownOnSignal(Server& server, std::optional<std::chrono::milliseconds> grace = std::nullopt);
  ~ShutdownOnSignal();
  ShutdownOnSignal(const ShutdownOnSignal&) = delete;
  ShutdownOnSignal& operator=(const ShutdownOnSignal&) = delete;

  // Blocks until SIGTERM or SIGINT arrives, stops the server, and returns the signal number.
  int wait();

 private:
  struct Signals;
  Server& server_;
  std::optional<std::chrono::milliseconds> grace_;
  std::unique_ptr<Signals> signals_;
};

}  // namespace wik::http
