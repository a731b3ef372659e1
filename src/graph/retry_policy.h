// RetryPolicy and RetryBudget: when a failed Graph call is tried again, and how often overall.
//
// A call is retried only when a new attempt cannot do harm: a transient failure (kUnavailable,
// kTimeout) of a GET or DELETE, and for a POST only when the platform answered with a transient
// error (it says the call did not happen) — a POST that timed out or lost its connection may have
// been applied, and the Graph API has no idempotency key, so it is returned to the caller instead.
// Delays are exponential with full jitter (uniform in [0, min(max_delay, base × 2^attempt)]).
// The budget caps retries at a fraction of first attempts (default 10 %, plus a small reserve), so
// an outage cannot multiply the load on the platform. Thread-safe.
#pragma once

#include <wik/result.h>

#include <chrono>
#include <mutex>

#include "core/secure_random.h"

namespace wik::graph {

struct RetryPolicy {
  int max_attempts = 4;  // first attempt included
  std::chrono::milliseconds base_delay = std::chrono::milliseconds(200);
  std::chrono::milliseconds max_delay = std::chrono::seconds(10);
  double budget_ratio = 0.1;  // retries allowed per first attempt
  double budget_reserve = 10;  // retries allowed before any first attempt has earned budget
};

// Returns true when a call of this kind that failed with `error` may be tried again.
bool is_retryable(const Error& error, bool idempotent, bool platform_answered);

// Returns the delay before retry number `retry` (1 for the first retry), with full jitter.
std::chrono::milliseconds retry_delay(const RetryPolicy& policy, int retry, core::RandomSource& random);

class RetryBudget {
 public:
  explicit RetryBudget(const RetryPolicy& policy) : ratio_(policy.budget_ratio), balance_(policy.budget_reserve),
                                                    cap_(policy.budget_reserve) {}
  // Records a first attempt (earns ratio of a retry).
  void on_first_attempt();
  // Returns true and spends one retry when the budget allows it.
  bool try_spend();

 private:
  std::mutex mutex_;
  double ratio_;
  double balance_;
  double cap_;
};

}  // namespace wik::graph
