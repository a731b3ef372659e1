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
  const std::pair<double, FaultKind> rates[] = {{faults.error_rate, FaultKind::kError},
                                                {faults.timeout_rate, FaultKind::kTimeout},
                                                {faults.drop_rate, FaultKind::kDrop},
                                                {faults.processed_timeout_rate, FaultKind::kProcessedTimeout},
                                                {faults.processed_drop_rate, FaultKind::kProcessedDrop}};
  if (std::ranges::all_of(rates, [](const auto& rate) { return rate.first <= 0.0; })) return FaultKind::kNone;
  std::lock_guard lock(mutex_);
  double roll = std::uniform_real_distribution<double>(0.0, 1.0)(random_);
  for (const auto& [rate, kind] : rates) {
    if (roll >= rate) {
      roll -= rate;
      continue;
    }
    FaultCounts& counts = counts_[endpoint];
    switch (kind) {
      case FaultKind::kError: ++counts.errors; break;
      case FaultKind::kTimeout: ++counts.timeouts; break;
      case FaultKind::kDrop: ++counts.drops; break;
      case FaultKind::kProcessedTimeout: ++counts.processed_timeouts; break;
      case FaultKind::kProcessedDrop: ++counts.processed_drops; break;
      case FaultKind::kNone: break;
    }
    return kind;
  }
  return FaultKind::kNone;
}

void GraphFaults::count_lost_success(const std::string& endpoint) {
  std::lock_guard lock(mutex_);
  ++counts_[endpoint].lost_successes;
}

std::map<std::string, FaultCounts> GraphFaults::counts() const {
  std::lock_guard lock(mutex_);
  return counts_;
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
  const std::int64_t now = now_ms();
  std::lock_guard lock(mutex_);
  if (settings_.calls == 0) return {};
  const std::int64_t window_ms = std::chrono::duration_cast<std::chrono::milliseconds>(settings_.window).count();
  std::vector<std::int64_t>& calls = calls_[{app_id, community_id}];
  std::erase_if(calls, [&](std::int64_t at) { return at <= now - window_ms; });
  Usage usage;
  if (calls.size() >= settings_.calls) {
    // A refused call is not counted, so the budget has room again once the oldest call leaves the window.
    const std::int64_t oldest = *std::min_element(calls.begin(), calls.end());
    const std::int64_t wait_ms = oldest + window_ms - now;
    usage.throttled = true;
    usage.call_count_percent = 100;
    usage.regain_access_minutes = std::max<std::int64_t>(1, (wait_ms + 59'999) / 60'000);
    return usage;
  }
  calls.push_back(now);
  usage.call_count_percent = static_cast<std::uint32_t>(calls.size() * 100 / settings_.calls);
  return usage;
}

void RateLimits::note_arrival(const Id& app_id, const Id& community_id, const std::string& client) {
  const std::int64_t now = now_ms();
  std::lock_guard lock(mutex_);
  const std::string name = tracked(client);
  BackoffCounts& counts = backoff_counts_[name];
  ++counts.calls;
  const auto window = backoff_until_ms_.find({{app_id, community_id}, name});
  if (window != backoff_until_ms_.end() && now < window->second) ++counts.calls_in_backoff;
}

void RateLimits::note_backoff_told(const Id& app_id, const Id& community_id, const std::string& client,
                                   std::int64_t minutes) {
  const std::int64_t now = now_ms();
  std::lock_guard lock(mutex_);
  const std::string name = tracked(client);
  ++backoff_counts_[name].backoffs_told;
  std::int64_t& until = backoff_until_ms_[{{app_id, community_id}, name}];
  until = std::max(until, now + minutes * 60'000);
}

std::map<std::string, BackoffCounts> RateLimits::backoff_counts() const {
  std::lock_guard lock(mutex_);
  return backoff_counts_;
}

std::int64_t RateLimits::now_ms() const {
  return std::chrono::duration_cast<std::chrono::milliseconds>(clock_.now().time_since_epoch()).count();
}

std::string RateLimits::tracked(const std::string& client) const {
  std::string name = client.substr(0, kMaxClientLabel);
  if (backoff_counts_.contains(name) || backoff_counts_.size() < kMaxTrackedClients) return name;
  return std::string(kOtherClients);
}

}  // namespace wik::emulator
