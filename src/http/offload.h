// run_blocking: lets a coroutine wait for blocking work (a store call that waits for a durable
// commit) without blocking its I/O thread, and give up waiting after a deadline.
//
// The work runs on the given thread pool. If it finishes within the deadline its value is returned;
// otherwise nullopt is returned at the deadline and the work still runs to its end in the
// background (its value is then dropped): the caller must treat "no answer" as "unknown outcome",
// e.g. answer 503 so the sender retries and de-duplication absorbs a late success.
// The pool must outlive every call, and the caller's executor (its io_context) must outlive the
// pool's work: join the pool before destroying the io_context. Thread-safe.
#pragma once

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>

namespace wik::http {

template <class T>
boost::asio::awaitable<std::optional<T>> run_blocking(boost::asio::thread_pool& pool, std::function<T()> work,
                                                      std::chrono::milliseconds deadline) {
  struct Call {
    explicit Call(const boost::asio::any_io_executor& executor) : done(executor) {}
    boost::asio::steady_timer done;  // expires at the deadline, or at once when the work finishes
    std::mutex mutex;
    std::optional<T> result;
  };
  auto call = std::make_shared<Call>(co_await boost::asio::this_coro::executor);
  call->done.expires_after(deadline);
  boost::asio::post(pool, [call, work = std::move(work)]() mutable {
    T value = work();
    {
      const std::lock_guard lock(call->mutex);
      call->result = std::move(value);
    }
    // expires_at (not cancel): also wakes a wait that has not started yet. The reference moves into
    // the wake-up, so the pool thread never holds the last one: the timer (which belongs to the
    // caller's io_context) is always destroyed on the caller's side.
    const auto executor = call->done.get_executor();
    boost::asio::post(executor, [call = std::move(call)] {
      call->done.expires_at(boost::asio::steady_timer::time_point::min());
    });
  });
  co_await call->done.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
  const std::lock_guard lock(call->mutex);
  co_return std::move(call->result);
}

}  // namespace wik::http
