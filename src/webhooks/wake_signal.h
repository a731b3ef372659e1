// WakeSignal: how a worker loop (the dispatcher, the outbox sender) sleeps when it has nothing to
// do, and how other threads wake it at once when there is work (notify()).
//
// wait() returns after `idle`, or at once when notify() came since the previous wait() began —
// so a notification that arrives while the loop is busy is never lost. notify() may be called from
// any thread, before bind() too (it is then remembered), and after the loop's io_context is gone
// (the timer is shared with the posted wake-up, so a late one touches nothing destroyed).
// Also: backoff(), the retry delay both loops use.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>

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

}  // namespace wik::webhooks
