// LoginThrottle: limits failed sign-in attempts per key (a lower-cased email), in memory.
//
// After max_failures failed attempts within `window`, the key is refused until the oldest of them
// is older than `window`. Unknown and known emails are counted alike, so the throttle reveals
// nothing about which accounts exist. State lives in this process only (a restart forgets it; each
// replica counts on its own) and holds at most max_keys keys, forgetting stale ones first.
// Thread-safe; borrows the Clock, which must outlive it.
#pragma once

#include <chrono>
#include <cstddef>
#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <string_view>

#include "core/clock.h"

namespace wik::install {

struct LoginLimits {
  std::size_t max_failures = 5;                           // REQUIRES: > 0
  std::chrono::seconds window = std::chrono::minutes(15);  // REQUIRES: > 0
  std::size_t max_keys = 100000;                           // REQUIRES: > 0
};

class LoginThrottle {
 public:
  LoginThrottle(const core::Clock& clock, LoginLimits limits) : clock_(clock), limits_(limits) {}

  // Returns how long `key` must wait before its next attempt (zero when it may try now).
  std::chrono::seconds wait_for(std::string_view key);
  // Records a failed attempt of `key`.
  void record_failure(std::string_view key);
  // Forgets the failures of `key` (after a successful sign-in).
  void reset(std::string_view key);

 private:
  using TimePoint = std::chrono::system_clock::time_point;
  void forget_stale(std::deque<TimePoint>& failures, TimePoint now) const;

  const core::Clock& clock_;
  const LoginLimits limits_;
  std::mutex mutex_;
  std::map<std::string, std::deque<TimePoint>, std::less<>> failures_;
};

}  // namespace wik::install
