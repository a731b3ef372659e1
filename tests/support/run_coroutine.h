// run_coroutine: runs one coroutine that returns a wik::Result to completion on a test's
// io_context and returns its result (or kInternal when it did not finish within `limit`).
// co_spawn needs a default-constructible result type, which Result deliberately is not; this is
// the one place tests work around that.
#pragma once

#include <wik/result.h>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <exception>
#include <memory>
#include <optional>

namespace wik::testing {

namespace detail {
template <class T>
boost::asio::awaitable<void> store_result(boost::asio::awaitable<Result<T>> work,
                                          std::shared_ptr<std::optional<Result<T>>> out) {
  out->emplace(co_await std::move(work));
}
}  // namespace detail

template <class T>
Result<T> run_coroutine(boost::asio::io_context& io, boost::asio::awaitable<Result<T>> work,
                        std::chrono::milliseconds limit = std::chrono::seconds(10)) {
  auto out = std::make_shared<std::optional<Result<T>>>();
  boost::asio::co_spawn(io, detail::store_result(std::move(work), out), [](std::exception_ptr e) {
    if (e) std::rethrow_exception(e);
  });
  io.restart();
  io.run_for(limit);
  if (!*out) return Error(ErrorCode::kInternal, "test: the coroutine did not finish in time");
  return std::move(**out);
}

}  // namespace wik::testing
