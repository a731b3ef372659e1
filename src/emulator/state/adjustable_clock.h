// AdjustableClock: the emulator's platform clock — another clock plus an offset that only moves
// forward. The control API advances it so tests can see a code expire or a webhook retry fall due
// without waiting; everything time-based in the emulator reads this clock. Thread-safe; borrows the
// base clock, which must outlive it.
#pragma once

#include <atomic>
#include <chrono>

#include "core/clock.h"

namespace wik::emulator {

class AdjustableClock final : public core::Clock {
 public:
  using Duration = std::chrono::system_clock::duration;

  explicit AdjustableClock(const core::Clock& base) : base_(base) {}

  // wik::core::Clock
  std::chrono::system_clock::time_point now() const override;

  // Moves the clock forward by `by`. REQUIRES: by >= 0 (the platform clock never goes back).
  void advance(Duration by);
  // Returns how far the clock has been moved in total.
  Duration offset() const noexcept { return Duration(offset_.load()); }

 private:
  const core::Clock& base_;
  std::atomic<Duration::rep> offset_{0};
};

}  // namespace wik::emulator
