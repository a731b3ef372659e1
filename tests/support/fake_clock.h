// FakeClock: a Clock that moves only when a test tells it to, so expiry checks run without sleeping.
// Thread-safe.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

#include "core/clock.h"

namespace wik::testing {

class FakeClock final : public core::Clock {
 public:
  using Duration = std::chrono::system_clock::duration;

  explicit FakeClock(std::int64_t unix_seconds = 1764370000) { set_unix_seconds(unix_seconds); }

  // wik::core::Clock
  std::chrono::system_clock::time_point now() const override {
    return std::chrono::system_clock::time_point(Duration(ticks_.load()));
  }

  void advance(Duration by) { ticks_ += by.count(); }
  void set_unix_seconds(std::int64_t unix_seconds) {
    ticks_ = std::chrono::duration_cast<Duration>(std::chrono::seconds(unix_seconds)).count();
  }

 private:
  std::atomic<Duration::rep> ticks_{0};
};

}  // namespace wik::testing
