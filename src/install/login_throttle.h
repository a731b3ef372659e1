// LoginThrottle: limits failed sign-in attempts per key (a lower-cased email, or a client_key()
// of the address they come from), in memory.
//
// After max_failures failed attempts within `window`, the key is refused until the oldest of them
// is older than `window`. Unknown and known emails are counted alike, so the throttle reveals
// nothing about which accounts exist. State lives in this process only (a restart forgets it; each
// replica counts on its own) and holds at most max_keys keys: when full, stale keys are forgotten
// first, then the key whose latest failure is oldest, so memory stays bounded whatever the number
// of emails or addresses an attacker uses.
// Thread-safe; borrows the Clock, which must outlive it.
#pragma once

#include <chrono>
#include <cstddef>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"

namespace wik::install {

struct LoginLimits {
  std::size_t max_failures = 5;                           // per email within `window`; REQUIRES: > 0
  std::size_t max_failures_per_address = 20;              // per client address within `window`; REQUIRES: > 0
  std::chrono::seconds window = std::chrono::minutes(15);  // REQUIRES: > 0
  std::size_t max_keys = 100000;                           // per throttle (emails, addresses); REQUIRES: > 0
};

// Returns the key a client address is throttled under: an IPv4 address as it is, an IPv6 address by
// its /64 prefix ("2001:db8:1:2::/64": one host commonly holds a whole /64), an IPv4-mapped IPv6
// address as IPv4. Text that is not an IP address is returned as it is.
std::string client_key(std::string_view address);

// Returns the address of the client that sent a request through `trusted_proxy_hops` reverse
// proxies: with no proxy, `peer` (the socket's peer); else the entry `trusted_proxy_hops` from
// the right of the X-Forwarded-For list `forwarded_for` (the header lines in order, joined as
// one comma-separated list), because entries further left were written by the client itself and
// prove nothing. With fewer entries than hops, the leftmost entry; with none, `peer`.
std::string client_address(std::string_view peer, const std::vector<std::string_view>& forwarded_for,
                           std::size_t trusted_proxy_hops);

class LoginThrottle {
 public:
  // REQUIRES: max_failures, window and max_keys > 0.
  LoginThrottle(const core::Clock& clock, std::size_t max_failures, std::chrono::seconds window,
                std::size_t max_keys);

  // Returns how long `key` must wait before its next attempt (zero when it may try now).
  std::chrono::seconds wait_for(std::string_view key);
  // Records a failed attempt of `key`.
  void record_failure(std::string_view key);
  // Forgets the failures of `key` (after a successful sign-in).
  void reset(std::string_view key);

 private:
  using TimePoint = std::chrono::system_clock::time_point;
  void forget_stale(std::vector<TimePoint>& failures, TimePoint now) const;
  // Makes room for one more key: forgets stale keys, then the one whose latest failure is oldest.
  void evict(TimePoint now);

  const core::Clock& clock_;
  const std::size_t max_failures_;
  const std::chrono::seconds window_;
  const std::size_t max_keys_;
  std::mutex mutex_;
  std::map<std::string, std::vector<TimePoint>, std::less<>> failures_;  // per key, oldest first
};

}  // namespace wik::install
