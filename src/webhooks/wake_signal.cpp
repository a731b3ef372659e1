#include "webhooks/wake_signal.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>

namespace wik::webhooks {

namespace asio = boost::asio;

void WakeSignal::bind(const asio::any_io_executor& executor) {
  const std::lock_guard lock(mutex_);
  timer_ = std::make_shared<asio::steady_timer>(executor);
}

void WakeSignal::notify() {
  std::shared_ptr<asio::steady_timer> timer;
  {
    const std::lock_guard lock(mutex_);
    timer = timer_;
  }
  notified_ = true;
  if (!timer) return;
  // Timers are not thread-safe: the wake-up runs on the timer's own executor.
  asio::post(timer->get_executor(), [timer] { timer->expires_at(asio::steady_timer::time_point::min()); });
}

asio::awaitable<void> WakeSignal::wait(std::chrono::milliseconds idle) {
  if (notified_.exchange(false)) co_return;  // work arrived while the loop was busy
  std::shared_ptr<asio::steady_timer> timer;
  {
    const std::lock_guard lock(mutex_);
    timer = timer_;
  }
  timer->expires_after(idle);
  co_await timer->async_wait(asio::as_tuple(asio::use_awaitable));
  notified_ = false;
}

std::chrono::milliseconds backoff(std::chrono::milliseconds base, std::chrono::milliseconds max, std::int64_t attempts) {
  auto delay = base;
  for (std::int64_t i = 0; i < attempts && delay < max; ++i) delay *= 2;
  return std::min(delay, max);
}

std::chrono::milliseconds ThrottleStreaks::next_wait(const std::string& community) {
  return backoff(base_, max_, streaks_[community]++);
}

}  // namespace wik::webhooks
