#include "http/server/readiness.h"

namespace wik::http {

void ReadinessChecks::add(std::string name, Check check) {
  if (!check) fatal("readiness check is empty: " + name);
  const std::lock_guard lock(mutex_);
  checks_.emplace_back(std::move(name), std::move(check));
}

std::vector<ReadinessChecks::Outcome> ReadinessChecks::run() const {
  std::vector<std::pair<std::string, Check>> checks;
  {
    const std::lock_guard lock(mutex_);
    checks = checks_;
  }
  std::vector<Outcome> outcomes;
  outcomes.reserve(checks.size());
  for (const auto& [name, check] : checks) outcomes.push_back({name, check()});
  return outcomes;
}

}  // namespace wik::http
