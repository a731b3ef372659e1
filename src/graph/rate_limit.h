// RateGovernor: keeps an integration inside the platform's rate limits (PROTOCOL.md §11.2).
//
// Every Graph response reports usage: X-App-Usage and X-Page-Usage ({"call_count":28,
// "total_time":25,"total_cputime":25}, percentages of the budget) and X-Business-Use-Case-Usage
// ({"<id>":[{"call_count":…,"estimated_time_to_regain_access":M}]}, M in minutes). The governor keeps
// the latest figures per budget key (an install's community id, or "app" for app-token calls) and
// answers, before each call:
//   - blocked until T: a throttling error (or a figure at 100) closed the window; no call is made
//     before T (estimated_time_to_regain_access when given, else an exponential back-off from 60 s
//     that doubles on each consecutive throttle, up to 1 h);
//   - pace: above 80 % of any figure, calls are spaced out linearly up to max_pacing at 100 %;
//   - go.
// Thread-safe; time comes from the injected clock.
#pragma once

#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "core/clock.h"

namespace wik::graph {

struct Usage {
  int max_percent = 0;                                // the highest figure of every usage header
  std::optional<std::chrono::seconds> regain_access;  // from X-Business-Use-Case-Usage
};

// Returns the usage reported by a response's headers (missing or malformed headers count as 0).
Usage parse_usage(std::optional<std::string_view> app_usage, std::optional<std::string_view> page_usage,
                  std::optional<std::string_view> business_usage);

struct RateGovernorOptions {
  int slow_down_percent = 80;
  std::chrono::milliseconds max_pacing = std::chrono::seconds(2);
  std::chrono::seconds first_backoff = std::chrono::seconds(60);
  std::chrono::seconds max_backoff = std::chrono::hours(1);
};

struct CallPermit {
  std::optional<std::chrono::system_clock::time_point> blocked_until;  // set: do not call
  std::chrono::milliseconds pace{0};                                   // wait this long, then call
};

class RateGovernor {
 public:
  explicit RateGovernor(const core::Clock& clock, RateGovernorOptions options = {});

  // Returns what a call under `key` may do now.
  CallPermit before_call(const std::string& key) const;
  // Records the usage a response reported, and whether it was a throttling error.
  void after_call(const std::string& key, const Usage& usage, bool throttled);

 private:
  struct Budget {
    int max_percent = 0;
    std::optional<std::chrono::system_clock::time_point> blocked_until;
    int consecutive_throttles = 0;
  };
  const core::Clock& clock_;
  RateGovernorOptions options_;
  mutable std::mutex mutex_;
  std::map<std::string, Budget, std::less<>> budgets_;
};

}  // namespace wik::graph
