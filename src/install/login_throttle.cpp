#include "install/login_throttle.h"

namespace wik::install {

std::chrono::seconds LoginThrottle::wait_for(std::string_view key) {
  const std::lock_guard lock(mutex_);
  const auto found = failures_.find(key);
  if (found == failures_.end()) return std::chrono::seconds(0);
  const TimePoint now = clock_.now();
  forget_stale(found->second, now);
  if (found->second.size() < limits_.max_failures) return std::chrono::seconds(0);
  const auto remaining = found->second.front() + limits_.window - now;
  return std::chrono::ceil<std::chrono::seconds>(remaining);
}

void LoginThrottle::record_failure(std::string_view key) {
  const std::lock_guard lock(mutex_);
  const TimePoint now = clock_.now();
  if (failures_.size() >= limits_.max_keys && !failures_.contains(key)) {
    for (auto it = failures_.begin(); it != failures_.end();) {
      forget_stale(it->second, now);
      it = it->second.empty() ? failures_.erase(it) : std::next(it);
    }
    if (failures_.size() >= limits_.max_keys) failures_.erase(failures_.begin());
  }
  auto& failures = failures_[std::string(key)];
  forget_stale(failures, now);
  failures.push_back(now);
  if (failures.size() > limits_.max_failures) failures.pop_front();
}

void LoginThrottle::reset(std::string_view key) {
  const std::lock_guard lock(mutex_);
  if (const auto found = failures_.find(key); found != failures_.end()) failures_.erase(found);
}

void LoginThrottle::forget_stale(std::deque<TimePoint>& failures, TimePoint now) const {
  while (!failures.empty() && failures.front() + limits_.window <= now) failures.pop_front();
}

}  // namespace wik::install
