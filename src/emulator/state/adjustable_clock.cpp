#include "emulator/state/adjustable_clock.h"

#include <wik/result.h>

namespace wik::emulator {

std::chrono::system_clock::time_point AdjustableClock::now() const { return base_.now() + offset(); }

void AdjustableClock::advance(Duration by) {
  if (by < Duration::zero()) fatal("AdjustableClock::advance: the platform clock cannot go back");
  offset_ += by.count();
}

}  // namespace wik::emulator
