// ControlApi: the emulator's remote control for tests and demos, under /_emulator/ on the web host
// (registered only when EmulatorOptions::control_api is set; docs/emulator.md lists every endpoint
// with a curl example).
//
// JSON in, JSON out. It creates communities, people, groups and group members; registers apps;
// acts as a person through PlatformActions (open a chat, send a message, press a quick reply, a
// postback or Get Started, mark read, post, comment — a mention is a post or comment containing
// @[page_id]); installs and uninstalls apps as an administrator without the browser (answering the
// install with its access token); lists installs; reads what bots sent and the webhook delivery log;
// sets Graph faults, callback faults and rate limits; and advances the platform clock, then runs the
// webhook retries that fell due.
//
// Input is checked field by field: a missing, mistyped, out-of-range or unknown field is answered
// 400 with an error naming it; unknown ids are 404, refusals 403 (through the http error table).
// There is no authentication: the control API exists for loopback tests only. Thread-safe (every
// part it drives is).
#pragma once

#include "emulator/graph_api/faults.h"
#include "emulator/state/adjustable_clock.h"
#include "emulator/state/platform_state.h"
#include "emulator/webhook_delivery/actions.h"
#include "emulator/webhook_delivery/webhook_delivery.h"
#include "http/server/router.h"

namespace wik::emulator {

// The parts the control API drives; each must outlive it.
struct ControlTargets {
  PlatformState& state;
  AdjustableClock& clock;
  PlatformActions& actions;
  WebhookDelivery& delivery;
  GraphFaults& faults;
  RateLimits& limits;
};

class ControlApi {
 public:
  explicit ControlApi(ControlTargets targets) : targets_(targets) {}
  // Registers every /_emulator/ route. REQUIRES: called before the server starts; the ControlApi
  // outlives the server's use of the routes.
  void add_routes(http::Router& router);

 private:
  ControlTargets targets_;
};

}  // namespace wik::emulator
