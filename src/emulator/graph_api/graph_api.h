// GraphApi: the emulated Graph host — /oauth/access_token and the Graph endpoints an integration
// uses (PROTOCOL.md §2–§4, §7, §9–§11), with the platform's error bodies.
//
// Every path is accepted with or without a /vN.N prefix. Install-token calls require a valid
// appsecret_proof and appsecret_time (300 s past, 60 s future) and are confined to the install's
// community and granted permissions; app-token calls ("{app_id}|{app_secret}") reach only
// /app/subscriptions and /{app_id}. Tokens come from access_token (query, form or JSON body) or
// Authorization: Bearer/OAuth. Parameters merge from query, form, multipart and JSON bodies.
// Every response carries X-App-Usage; faults and rate limits apply per endpoint (faults.h).
// Ids shown are app-scoped. Thread-safe.
#pragma once

#include <memory>
#include <string>

#include "emulator/graph_api/faults.h"
#include "emulator/state/platform_state.h"
#include "emulator/webhook_delivery/webhook_delivery.h"
#include "http/server/router.h"

namespace wik::emulator {

struct GraphApiOptions {
  // "http://127.0.0.1:{port}": base of paging `next`/`previous` links; empty: "http://" and the
  // request's Host header (for servers whose port is known only once they listen).
  std::string graph_url;
  std::string web_url;    // base of permalink_url and link fields
};

class GraphApi {
 public:
  GraphApi(PlatformState& state, WebhookDelivery& delivery, GraphFaults& faults, RateLimits& limits,
           GraphApiOptions options);
  // Registers every Graph route. REQUIRES: called before the server starts.
  void add_routes(http::Router& router);

 private:
  class Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace wik::emulator
