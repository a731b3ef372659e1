#include "graph/rate_limit.h"

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include <algorithm>
#include <cmath>

namespace wik::graph {
namespace {

// Returns the highest numeric figure of a usage object ({"call_count":28,"total_time":25,…}).
int highest_figure(const boost::json::object& usage) {
  int highest = 0;
  for (const auto& [name, value] : usage) {
    if (name == "estimated_time_to_regain_access") continue;
    double figure = 0;
    if (value.is_int64()) figure = static_cast<double>(value.as_int64());
    if (value.is_uint64()) figure = static_cast<double>(value.as_uint64());
    // Boost.JSON reads some numbers ("0e316") as NaN, which no comparison orders: it counts as 0.
    if (value.is_double() && !std::isnan(value.as_double())) figure = value.as_double();
    highest = std::max(highest, static_cast<int>(std::clamp(figure, 0.0, 1000.0)));
  }
  return highest;
}

std::optional<boost::json::value> parse_json(std::optional<std::string_view> text) {
  if (!text || text->size() > 16 * 1024) return std::nullopt;
  boost::system::error_code ec;
  auto value = boost::json::parse(*text, ec);
  if (ec) return std::nullopt;
  return value;
}

}  // namespace

Usage parse_usage(std::optional<std::string_view> app_usage, std::optional<std::string_view> page_usage,
                  std::optional<std::string_view> business_usage) {
  Usage usage;
  for (const auto& header : {app_usage, page_usage}) {
    if (const auto value = parse_json(header); value && value->is_object()) {
      usage.max_percent = std::max(usage.max_percent, highest_figure(value->as_object()));
    }
  }
  const auto business = parse_json(business_usage);
  if (!business || !business->is_object()) return usage;
  for (const auto& [id, entries] : business->as_object()) {
    if (!entries.is_array()) continue;
    for (const auto& entry : entries.as_array()) {
      if (!entry.is_object()) continue;
      usage.max_percent = std::max(usage.max_percent, highest_figure(entry.as_object()));
      const auto* regain = entry.as_object().if_contains("estimated_time_to_regain_access");
      if (regain != nullptr && regain->is_int64() && regain->as_int64() > 0 && regain->as_int64() <= 24 * 60) {
        const std::chrono::seconds seconds = std::chrono::minutes(regain->as_int64());
        usage.regain_access = std::max(usage.regain_access.value_or(std::chrono::seconds(0)), seconds);
      }
    }
  }
  return usage;
}

RateGovernor::RateGovernor(const core::Clock& clock, RateGovernorOptions options)
    : clock_(clock), options_(options) {}

CallPermit RateGovernor::before_call(const std::string& key) const {
  const std::lock_guard lock(mutex_);
  const auto budget = budgets_.find(key);
  if (budget == budgets_.end()) return {};
  CallPermit permit;
  if (budget->second.blocked_until && clock_.now() < *budget->second.blocked_until) {
    permit.blocked_until = budget->second.blocked_until;
    return permit;
  }
  const int over = budget->second.max_percent - options_.slow_down_percent;
  if (over > 0) {
    const int range = std::max(1, 100 - options_.slow_down_percent);
    permit.pace = options_.max_pacing * std::min(over, range) / range;
  }
  return permit;
}

void RateGovernor::after_call(const std::string& key, const Usage& usage, bool throttled) {
  const std::lock_guard lock(mutex_);
  Budget& budget = budgets_[key];
  budget.max_percent = usage.max_percent;
  if (!throttled && usage.max_percent < 100) {
    budget.consecutive_throttles = 0;
    budget.blocked_until.reset();
    return;
  }
  std::chrono::seconds wait = options_.first_backoff;
  for (int i = 0; i < budget.consecutive_throttles && wait < options_.max_backoff; ++i) wait *= 2;
  wait = std::min(wait, options_.max_backoff);
  if (usage.regain_access) wait = *usage.regain_access;
  budget.consecutive_throttles += 1;
  budget.blocked_until = clock_.now() + wait;
}

}  // namespace wik::graph
