// await_completion and run_blocking: let a coroutine wait for work done elsewhere (a durable commit,
// a blocking store call) without blocking its I/O thread, and give up waiting after a deadline.
//
// await_completion starts an operation by handing it a completion function, which the operation
// calls once, from any thread, with its value. run_blocking runs blocking work on a thread pool and
// completes with its value. Either returns the value if it comes within the deadline; otherwise
// nullopt at the deadline, and the operation still runs to its end (its value is then dropped): the
// caller must treat "no answer" as "unknown outcome", e.g. answer 503 so the sender retries and
// de-duplication absorbs a late success. The caller's executor (its io_context) must outlive every
// completion: stop the operations (join the pool) before destroying the io_context. Thread-safe.
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

// Called once by an operation with its value.
template <class T>
using Completion = std::function<void(T)>;

template <class T>
boost::asio::awaitable<std::optional<T>> await_completion(std::function<void(Completion<T>)> start,
                                                          std::chrono::milliseconds deadline) {
  struct Call {
    explicit Call(const boost::asio::any_io_executor& executor) : done(executor) {}
    boost::asio::steady_timer done;  // expires at the deadline, or at once when the value comes
    std::mutex mutex;
    std::optional<T> result;
  };
  auto call = std::make_shared<Call>(co_await boost::asio::this_coro::executor);
  call->done.expires_after(deadline);
  start([call](T value) mutable {
    {
      const std::lock_guard lock(call->mutex);
      call->result = std::move(value);
    }
    // expires_at (not cancel): also wakes a wait that has not started yet. The reference moves into
    // the wake-up, so the completing thread never holds the last one: the timer (which belongs to
    // the caller's io_context) is always destroyed on the caller's side.
    const auto executor = call->done.get_executor();
    boost::asio::post(executor, [call = std::move(call)] {
      call->done.expires_at(boost::asio::steady_timer::time_point::min());
    });
  });
  co_await call->done.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
  const std::lock_guard lock(call->mutex);
  co_return std::move(call->result);
}

template <class T>
boost::asio::awaitable<std::optional<T>> run_blocking(boost::asio::thread_pool& pool, std::function<T()> work,
                                                      std::chrono::milliseconds deadline) {
  std::function<void(Completion<T>)> start = [&pool, work = std::move(work)](Completion<T> complete) mutable {
    boost::asio::post(pool, [work = std::move(work), complete = std::move(complete)]() mutable {
      complete(work());
    });
  };
  co_return co_await await_completion<T>(std::move(start), deadline);
}

}  // namespace wik::http
