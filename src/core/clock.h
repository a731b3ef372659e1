// Clock: the injectable source of wall-clock time. Code that checks expiry (OAuth codes, the
// appsecret_time window, signed_request freshness, back-off) takes a Clock&, so tests can move time
// with a fake clock instead of sleeping. Implementations must be thread-safe.
#pragma once

#include <chrono>
#include <cstdint>

namespace wik::core {

class Clock {
 public:
  virtual ~Clock() = default;
  // Returns the current wall-clock time.
  virtual std::chrono::system_clock::time_point now() const = 0;

  // Returns now() as whole seconds since the Unix epoch (the platform's time unit).
  std::int64_t unix_seconds() const {
    return std::chrono::duration_cast<std::chrono::seconds>(now().time_since_epoch()).count();
  }
};

class SystemClock final : public Clock {
 public:
  // wik::core::Clock
  std::chrono::system_clock::time_point now() const override { return std::chrono::system_clock::now(); }
};

}  // namespace wik::core
