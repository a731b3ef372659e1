// ReplyPacer: decides whether a bot message may leave now, so one busy community cannot spend the
// app's whole rate limit and one conversation is not flooded (docs/webhooks.md, "Pacing").
//
// Two rules, both on the injected clock (wik::BotConfig):
//   - community budget: at most `community_budget` messages to one community in any
//     `budget_window` (a sliding window over the times of the community's recent messages);
//   - thread spacing: one conversation of one community gets a burst of `thread_burst` messages
//     at once, then one per `thread_spacing` (a token bucket, kept as the conversation's next free
//     time: each message admitted moves it one spacing later).
// admit() either counts the message and lets it go, or names the rule that holds it back and the
// earliest time it may go; a message held back is not counted. Every message admitted counts,
// whether or not the platform then takes it: each one is a Graph call.
//
// The state is this process's: with several `wik serve` processes each keeps its own budget.
// It holds only the communities and conversations active within about the last window (or
// spacing); older entries are dropped. A wall clock that steps back never holds a message longer than one window
// (budget) or one spacing (thread). Not thread-safe: one sender's loop owns it.
#pragma once

#include <wik/config.h>

#include <chrono>
#include <cstddef>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "core/clock.h"

namespace wik::webhooks {

// Why a message waits: the pacer's two rules, or the platform throttling the community (the
// sender's own decision on a kRateLimited answer).
enum class PacingRule { kCommunityBudget, kThreadSpacing, kPlatformThrottle };

// Why a message waits, and until when.
struct Deferral {
  PacingRule rule = PacingRule::kCommunityBudget;
  std::chrono::system_clock::time_point not_before;
};

class ReplyPacer {
 public:
  // REQUIRES: options.community_budget, options.budget_window and options.thread_burst above 0
  // (the loader checks them).
  ReplyPacer(const core::Clock& clock, BotConfig options);

  // Returns nullopt, and counts the message, when a message to `conversation` of `community_id` may
  // go now; otherwise when it may and which rule holds it (the later one when both do). An empty
  // `conversation` (one that cannot be told) is held by the community budget alone.
  std::optional<Deferral> admit(std::string_view community_id, std::string_view conversation);

  // Returns how many communities and conversations are remembered.
  std::size_t entries_for_test() const { return sent_.size() + next_free_.size(); }

 private:
  using TimePoint = std::chrono::system_clock::time_point;

  // Forgets what no longer holds anything back at `now`; runs at most once per window.
  void prune(TimePoint now);
  // How long a full burst takes to be free again.
  std::chrono::milliseconds burst_span() const { return options_.thread_spacing * options_.thread_burst; }

  const core::Clock& clock_;
  const BotConfig options_;
  // Per community, the times of its messages within the last window, oldest first.
  std::map<std::string, std::deque<TimePoint>, std::less<>> sent_;
  // Per (community, conversation), when its bucket is full again: one spacing past the last
  // message admitted for each message still in the burst.
  std::map<std::pair<std::string, std::string>, TimePoint> next_free_;
  TimePoint next_prune_{};
};

// Returns the conversation a Send API body is addressed to: its `recipient` object as compact JSON
// (`{"thread_key":"t_1"}`, `{"id":"100"}`), or "" when the body has none.
std::string conversation_of(std::string_view body);

}  // namespace wik::webhooks
