// Emulator: the local Workplace platform, assembled (DESIGN.md §1.2, PROTOCOL.md).
//
// Two HTTP servers on loopback, as the platform has two hosts:
//  - the Graph host (graph.workplace.com): /oauth/access_token and the Graph API, with or without a
//    /vN.N version prefix;
//  - the web host (work.workplace.com): the pages a person uses (sign-in, Integrations tab, install
//    dialog, Work Chat, group feeds) and, when enabled, the control API under /_emulator/.
// Both share one PlatformState (persisted to the state file), one WebhookDelivery, the Graph faults
// and rate limits, and an AdjustableClock the control API can move forward.
//
// start() returns once both servers listen; stop() drains them and stops delivery. Apps given in the
// options are registered (replacing same-id apps in the state file) before the servers start.
#pragma once

#include <wik/result.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "emulator/state/platform_state.h"
#include "emulator/webhook_delivery/webhook_delivery.h"

namespace wik::emulator {

struct EmulatorOptions {
  std::string address = "127.0.0.1";
  std::uint16_t graph_port = 8090;  // 0: any free port (tests)
  std::uint16_t web_port = 8091;    // 0: any free port (tests)
  std::filesystem::path state_file;  // empty: memory only
  bool control_api = false;          // the /_emulator/ control API (tests and demos only)
  std::vector<App> apps;             // registered at start
  DeliveryOptions delivery;
  std::size_t io_threads = 2;
};

class Emulator {
 public:
  // Opens the state, registers the apps and starts both servers. kConfig/kUnavailable when a server
  // cannot start, kMalformed for an unreadable state file.
  static Result<std::unique_ptr<Emulator>> start(EmulatorOptions options);
  ~Emulator();

  std::uint16_t graph_port() const noexcept;
  std::uint16_t web_port() const noexcept;
  // "http://127.0.0.1:{port}" of each host.
  std::string graph_url() const;
  std::string web_url() const;
  PlatformState& state() noexcept;

  // Stops both servers (draining in-flight requests), stops webhook delivery and saves the state.
  void stop();

 private:
  class Impl;
  explicit Emulator(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace wik::emulator
