#include "graph/retry_policy.h"

#include <algorithm>
#include <cstdint>
#include <cstring>

namespace wik::graph {

bool is_retryable(const Error& error, bool idempotent, bool platform_answered) {
  const bool transient = error.code() == ErrorCode::kUnavailable || error.code() == ErrorCode::kTimeout;
  if (!transient) return false;
  return idempotent || (platform_answered && error.code() == ErrorCode::kUnavailable);
}

std::chrono::milliseconds retry_delay(const RetryPolicy& policy, int retry, core::RandomSource& random) {
  const int doublings = std::clamp(retry - 1, 0, 20);
  const auto ceiling = std::min<std::int64_t>(policy.max_delay.count(), policy.base_delay.count() << doublings);
  if (ceiling <= 0) return std::chrono::milliseconds(0);
  const auto bytes = random.bytes(sizeof(std::uint64_t));
  std::uint64_t draw = 0;
  std::memcpy(&draw, bytes.data(), std::min(bytes.size(), sizeof draw));
  return std::chrono::milliseconds(static_cast<std::int64_t>(draw % (static_cast<std::uint64_t>(ceiling) + 1)));
}

void RetryBudget::on_first_attempt() {
  const std::lock_guard lock(mutex_);
  balance_ = std::min(balance_ + ratio_, std::max(cap_, balance_));
}

bool RetryBudget::try_spend() {
  const std::lock_guard lock(mutex_);
  if (balance_ < 1.0) return false;
  balance_ -= 1.0;
  return true;
}

}  // namespace wik::graph
