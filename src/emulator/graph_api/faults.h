// GraphFaults and RateLimits: the misbehaviour the emulated Graph API can be told to show, so the
// kit's retry, back-off and throttling code is tested against something real (PROTOCOL.md §11).
//
// Faults are set per endpoint (the Graph route pattern after the version prefix, e.g.
// "/me/messages" or "/{id}/feed", or "*" for every endpoint) through the control API. Each Graph
// request draws once: with error_rate it gets the platform's transient error (code 2, HTTP 500),
// with timeout_rate it is held for `hang` and then its connection is closed without an answer,
// with drop_rate its connection is closed at once; `latency` is added before any answer. Those
// three lose the request: it is never processed. A timeout or a lost connection can as well come
// after the platform did the work, and a client cannot tell which happened: with
// processed_timeout_rate and processed_drop_rate the request is processed (a message is sent, a
// post is made) and then its answer is lost the same two ways. Every fault drawn is counted per
// endpoint, and so are the lost answers of calls that succeeded: each is an effect the caller
// cannot know happened, so a caller that retries it makes it twice.
//
// RateLimits is a per-(app, community) budget of calls in a rolling window. Every Graph response
// carries X-App-Usage (percentages of that budget); a call over budget gets code 4 (app-token calls)
// or 613 (install-token calls) with X-Business-Use-Case-Usage naming estimated_time_to_regain_access
// in minutes, and no call inside the window succeeds until the budget has room again.
// It also keeps the back-off windows it told: a throttling answer that reached its client tells
// that client (the request's User-Agent) to make no call for the (app, community) for the minutes
// it names; a call of that client arriving inside such a window is counted (calls_in_backoff), so a
// test can check that a client respects what it is told.
//
// Both are thread-safe. Random draws come from a seedable generator so tests are reproducible.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <string_view>
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
  double processed_timeout_rate = 0.0;  // processed, then held for `hang` and closed unanswered
  double processed_drop_rate = 0.0;     // processed, then closed unanswered at once
};

enum class FaultKind { kNone, kError, kTimeout, kDrop, kProcessedTimeout, kProcessedDrop };

// The faults drawn for one endpoint since the start.
struct FaultCounts {
  std::uint64_t errors = 0;
  std::uint64_t timeouts = 0;            // request lost: held, then closed
  std::uint64_t drops = 0;               // request lost: closed at once
  std::uint64_t processed_timeouts = 0;  // answer lost: processed, held, then closed
  std::uint64_t processed_drops = 0;     // answer lost: processed, then closed at once
  std::uint64_t lost_successes = 0;      // answers lost of calls that succeeded (2xx): effects the caller did not see
};

class GraphFaults {
 public:
  explicit GraphFaults(std::uint64_t seed = 1);
  void set(const std::string& endpoint, EndpointFaults faults);  // "*" for every endpoint
  void clear();
  // Returns the faults that apply to `endpoint` (its own, else "*", else none).
  EndpointFaults for_endpoint(const std::string& endpoint) const;
  // Draws the fault for one request to `endpoint`, and counts it.
  FaultKind draw(const std::string& endpoint);
  // Counts a lost answer (a processed_* fault) of a call to `endpoint` that succeeded.
  void count_lost_success(const std::string& endpoint);
  // Returns the counts per endpoint that drew a fault (clear() keeps them).
  std::map<std::string, FaultCounts> counts() const;

 private:
  mutable std::mutex mutex_;
  std::map<std::string, EndpointFaults> faults_;
  std::map<std::string, FaultCounts> counts_;
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

// What one client was told and did, across every (app, community).
struct BackoffCounts {
  std::uint64_t calls = 0;             // calls that arrived (before any fault or check)
  std::uint64_t backoffs_told = 0;     // throttling answers that reached the client
  std::uint64_t calls_in_backoff = 0;  // calls that arrived inside a window told to the client
};

class RateLimits {
 public:
  explicit RateLimits(const core::Clock& clock);
  // Sets the budget and forgets the calls counted against it (not the back-off windows told).
  void configure(RateLimitSettings settings);
  RateLimitSettings settings() const;
  // Counts one call of `app_id` in `community_id` ("" for app-token calls) and returns the usage after it.
  Usage count_call(const Id& app_id, const Id& community_id);

  // Records a call of `client` for (`app_id`, `community_id`) as it arrives, whatever then becomes of
  // it: counted in calls_in_backoff when a window told to that client for that key is still open.
  void note_arrival(const Id& app_id, const Id& community_id, const std::string& client);
  // Records that a throttling answer naming `minutes` reached `client`: its window runs from now.
  void note_backoff_told(const Id& app_id, const Id& community_id, const std::string& client,
                         std::int64_t minutes);
  // Returns the counts per client. The first kMaxTrackedClients clients are counted apart (their
  // User-Agent cut to kMaxClientLabel bytes); later ones together, as kOtherClients.
  std::map<std::string, BackoffCounts> backoff_counts() const;

  static constexpr std::size_t kMaxTrackedClients = 64;
  static constexpr std::size_t kMaxClientLabel = 128;
  static constexpr std::string_view kOtherClients = "(other clients)";

 private:
  using Key = std::pair<Id, Id>;
  std::int64_t now_ms() const;
  // Returns the name `client` is counted under. REQUIRES: mutex_ held.
  std::string tracked(const std::string& client) const;
  const core::Clock& clock_;
  mutable std::mutex mutex_;
  RateLimitSettings settings_;
  std::map<Key, std::vector<std::int64_t>> calls_;  // call times (ms) per key, in window
  std::map<std::pair<Key, std::string>, std::int64_t> backoff_until_ms_;  // per (key, client): end of the latest window told
  std::map<std::string, BackoffCounts> backoff_counts_;
};

}  // namespace wik::emulator
