// How the store keeps times: BIGINT milliseconds since the Unix epoch, in both engines.
#pragma once

#include "store/records.h"

#include <chrono>
#include <cstdint>

namespace wik::store {

inline std::int64_t to_ms(TimePoint time) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(time.time_since_epoch()).count();
}

inline TimePoint from_ms(std::int64_t ms) {
  return TimePoint(std::chrono::duration_cast<TimePoint::duration>(std::chrono::milliseconds(ms)));
}

}  // namespace wik::store
