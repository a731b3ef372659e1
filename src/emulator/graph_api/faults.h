// GraphFaults and RateLimits: the misbehaviour the emulated Graph API can be told to show, so the
// kit's retry, back-off and throttling code is tested against something real (PROTOCOL.md §11).
//
// Faults are set per endpoint (the Graph route pattern after the version prefix, e.g.
// "/me/messages" or "/{id}/feed", or "*" for every endpoint) through the control API. Each Graph
// request draws once: with error_rate it gets the platform's transient error (code 2, HTTP 500),
// with timeout_rate it is held for `hang` and then its connection is closed without an answer,
// with drop_rate its connection is closed at once; `latency` is added before any answer.
//
// RateLimits is a per-(app, community) budget of calls in a rolling window. Every Graph response
// carries X-App-Usage (percentages of that budget); a call over budget gets code 4 (app-token calls)
// or 613 (install-token calls) with X-Business-Use-Case-Usage naming estimated_time_to_regain_access
// in minutes, and no call inside the window succeeds until the budget has room again.
//
// Both are thread-safe. Random draws come from a seedable generator so tests are reproducible.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "core/clock.h"
#include "emulator/state/platform_state.h"

namespace wik::emulator {

struct EndpointFaults {
  double error_rate = 0.0;
  double timeout_rate = 0.0;
  double drop_rate = 0.0;
  std::chrono::milliseconds latency{0};
  std::chrono::milliseconds hang = std::chrono::seconds(30);
};

enum class FaultKind { kNone, kError, kTimeout, kDrop };

class GraphFaults {
 public:
  explicit GraphFaults(std::uint64_t seed = 1);
  void set(const std::string& endpoint, EndpointFaults faults);  // "*" for every endpoint
  void clear();
  // Returns the faults that apply to `endpoint` (its own, else "*", else none).
  EndpointFaults for_endpoint(const std::string& endpoint) const;
  // Draws the fault for one request to `endpoint`.
  FaultKind draw(const std::string& endpoint);

 private:
  mutable std::mutex mutex_;
  std::map<std::string, EndpointFaults> faults_;
  std::mt19937_64 random_;
};

struct RateLimitSettings {
  std::uint32_t calls = 0;  // per window and (app, community); 0: unlimited
  std::chrono::seconds window = std::chrono::hours(1);
};

struct Usage {
  std::uint32_t call_count_percent = 0;
  bool throttled = false;
  std::int64_t regain_access_minutes = 0;  // when throttled
};

class RateLimits {
 public:
  explicit RateLimits(const core::Clock& clock);
  void configure(RateLimitSettings settings);
  RateLimitSettings settings() const;
  // Counts one call of `app_id` in `community_id` ("" for app-token calls) and returns the usage after it.
  Usage count_call(const Id& app_id, const Id& community_id);

 private:
  const core::Clock& clock_;
  mutable std::mutex mutex_;
  RateLimitSettings settings_;
  std::map<std::pair<Id, Id>, std::vector<std::int64_t>> calls_;  // call times (ms) per key, in window
};

}  // namespace wik::emulator
