#include "webhooks/reply_pacer.h"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <algorithm>

namespace wik::webhooks {

ReplyPacer::ReplyPacer(const core::Clock& clock, BotConfig options) : clock_(clock), options_(options) {
  if (options_.community_budget == 0 || options_.budget_window.count() <= 0 || options_.thread_burst == 0) {
    fatal("ReplyPacer: the community budget, its window and the thread burst must be above 0");
  }
}

std::optional<Deferral> ReplyPacer::admit(std::string_view community_id, std::string_view conversation) {
  const TimePoint now = clock_.now();
  prune(now);
  std::optional<Deferral> held;
  const auto community = sent_.find(community_id);
  if (community != sent_.end()) {
    std::deque<TimePoint>& times = community->second;
    for (auto time = times.rbegin(); time != times.rend() && *time > now; ++time) *time = now;  // the clock stepped back
    while (!times.empty() && times.front() + options_.budget_window <= now) times.pop_front();
    if (times.size() >= options_.community_budget) {
      held = Deferral{.rule = PacingRule::kCommunityBudget, .not_before = times.front() + options_.budget_window};
    }
  }
  const bool spaced = options_.thread_spacing.count() > 0 && !conversation.empty();
  std::pair<std::string, std::string> conversation_key;
  TimePoint next_free = now;
  if (spaced) {
    conversation_key = {std::string(community_id), std::string(conversation)};
    if (const auto found = next_free_.find(conversation_key); found != next_free_.end()) {
      // A clock that stepped back holds the conversation one full burst at most.
      found->second = std::min(found->second, now + burst_span());
      next_free = std::max(found->second, now);
      const TimePoint ready = next_free - (burst_span() - options_.thread_spacing);
      if (ready > now && (!held || ready > held->not_before)) {
        held = Deferral{.rule = PacingRule::kThreadSpacing, .not_before = ready};
      }
    }
  }
  if (held) return held;
  if (community != sent_.end()) {
    community->second.push_back(now);
  } else {
    sent_.emplace(std::string(community_id), std::deque<TimePoint>{now});
  }
  if (spaced) next_free_[std::move(conversation_key)] = next_free + options_.thread_spacing;
  return std::nullopt;
}

void ReplyPacer::prune(TimePoint now) {
  const auto period = std::max<std::chrono::milliseconds>(options_.budget_window, burst_span());
  if (now < next_prune_ && next_prune_ <= now + period) return;  // a clock that stepped back prunes at once
  next_prune_ = now + period;
  std::erase_if(sent_, [&](const auto& entry) {
    return entry.second.empty() || entry.second.back() + options_.budget_window <= now;
  });
  std::erase_if(next_free_, [&](const auto& entry) { return entry.second <= now; });
}

std::string conversation_of(std::string_view body) {
  boost::system::error_code error;
  const boost::json::value parsed = boost::json::parse(body, error);
  if (error || !parsed.is_object()) return {};
  const boost::json::value* recipient = parsed.get_object().if_contains("recipient");
  if (recipient == nullptr || !recipient->is_object()) return {};
  return boost::json::serialize(*recipient);
}

}  // namespace wik::webhooks
