#include "emulator/graph_api/faults.h"

#include <algorithm>

namespace wik::emulator {

GraphFaults::GraphFaults(std::uint64_t seed) : random_(seed) {}

void GraphFaults::set(const std::string& endpoint, EndpointFaults faults) {
  std::lock_guard lock(mutex_);
  faults_[endpoint] = faults;
}

void GraphFaults::clear() {
  std::lock_guard lock(mutex_);
  faults_.clear();
}

EndpointFaults GraphFaults::for_endpoint(const std::string& endpoint) const {
  std::lock_guard lock(mutex_);
  if (auto it = faults_.find(endpoint); it != faults_.end()) return it->second;
  if (auto it = faults_.find("*"); it != faults_.end()) return it->second;
  return {};
}

FaultKind GraphFaults::draw(const std::string& endpoint) {
  const EndpointFaults faults = for_endpoint(endpoint);
  if (faults.error_rate <= 0.0 && faults.timeout_rate <= 0.0 && faults.drop_rate <= 0.0) return FaultKind::kNone;
  double roll = 0.0;
  {
    std::lock_guard lock(mutex_);
    roll = std::uniform_real_distribution<double>(0.0, 1.0)(random_);
  }
  if (roll < faults.error_rate) return FaultKind::kError;
  roll -= faults.error_rate;
  if (roll < faults.timeout_rate) return FaultKind::kTimeout;
  roll -= faults.timeout_rate;
  if (roll < faults.drop_rate) return FaultKind::kDrop;
  return FaultKind::kNone;
}

RateLimits::RateLimits(const core::Clock& clock) : clock_(clock) {}

void RateLimits::configure(RateLimitSettings settings) {
  std::lock_guard lock(mutex_);
  settings_ = settings;
  calls_.clear();
}

RateLimitSettings RateLimits::settings() const {
  std::lock_guard lock(mutex_);
  return settings_;
}

Usage RateLimits::count_call(const Id& app_id, const Id& community_id) {
  const std::int64_t now_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(clock_.now().time_since_epoch()).count();
  std::lock_guard lock(mutex_);
  if (settings_.calls == 0) return {};
  const std::int64_t window_ms = std::chrono::duration_cast<std::chrono::milliseconds>(settings_.window).count();
  std::vector<std::int64_t>& calls = calls_[{app_id, community_id}];
  std::erase_if(calls, [&](std::int64_t at) { return at <= now_ms - window_ms; });
  Usage usage;
  if (calls.size() >= settings_.calls) {
    // A refused call is not counted, so the budget has room again once the oldest call leaves the window.
    const std::int64_t oldest = *std::min_element(calls.begin(), calls.end());
    const std::int64_t wait_ms = oldest + window_ms - now_ms;
    usage.throttled = true;
    usage.call_count_percent = 100;
    usage.regain_access_minutes = std::max<std::int64_t>(1, (wait_ms + 59'999) / 60'000);
    return usage;
  }
  calls.push_back(now_ms);
  usage.call_count_percent = static_cast<std::uint32_t>(calls.size() * 100 / settings_.calls);
  return usage;
}

}  // namespace wik::emulator
