// WakeSignal: how a worker loop (the dispatcher, the outbox sender) sleeps when it has nothing to
// do, and how other threads wake it at once when there is work (notify()).
//
// wait() returns after `idle`, or at once when notify() came since the previous wait() began —
// so a notification that arrives while the loop is busy is never lost. notify() may be called from
// any thread, before bind() too (it is then remembered), and after the loop's io_context is gone
// (the timer is shared with the posted wake-up, so a late one touches nothing destroyed).
// Also: backoff(), the retry delay both loops use, and ThrottleStreaks, how long both wait out
// the platform's throttling of a community.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>

namespace wik::webhooks {

class WakeSignal {
 public:
  // Makes the timer on `executor` (the loop's). REQUIRES: called once, before wait().
  void bind(const boost::asio::any_io_executor& executor);
  void notify();
  boost::asio::awaitable<void> wait(std::chrono::milliseconds idle);

 private:
  std::atomic<bool> notified_{false};
  std::mutex mutex_;
  std::shared_ptr<boost::asio::steady_timer> timer_;  // guarded by mutex_
};

// The delay before attempt `attempts` + 1: base × 2^attempts, capped at `max`.
std::chrono::milliseconds backoff(std::chrono::milliseconds base, std::chrono::milliseconds max, std::int64_t attempts);

// Throttles in a row per community (the platform throttling its Graph calls) and the wait each one
// earns: backoff(base, max, n - 1) after the n-th. For one loop's executor only (not thread-safe).
class ThrottleStreaks {
 public:
  ThrottleStreaks(std::chrono::milliseconds base, std::chrono::milliseconds max) : base_(base), max_(max) {}
  // Counts a throttle of `community` and returns how long its call waits.
  std::chrono::milliseconds next_wait(const std::string& community);
  // Ends the community's streak: a call of it went through.
  void end(const std::string& community) { streaks_.erase(community); }

 private:
  std::chrono::milliseconds base_;
  std::chrono::milliseconds max_;
  std::map<std::string, std::int64_t> streaks_;
};

}  // namespace wik::webhooks
