// await_completion and run_blocking (http/offload.h): a value that comes in time is returned, one
// that comes late is dropped without harm, and the waiting coroutine never blocks its thread.
#include "http/offload.h"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include <atomic>
#include <chrono>
#include <future>
#include <thread>

namespace wik::http {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;

// Runs `work` on `io` until it finishes and returns its value.
std::optional<int> run(asio::io_context& io, asio::awaitable<std::optional<int>> work) {
  std::future<std::optional<int>> value = asio::co_spawn(io, std::move(work), asio::use_future);
  io.restart();
  io.run();
  return value.get();
}

TEST(AwaitCompletionTest, ReturnsTheValueAnotherThreadCompletesWith) {
  asio::io_context io;
  std::thread completer;
  std::function<void(Completion<int>)> start = [&](Completion<int> complete) {
    completer = std::thread([complete = std::move(complete)]() mutable {
      std::this_thread::sleep_for(20ms);
      complete(42);
    });
  };
  EXPECT_EQ(run(io, await_completion<int>(std::move(start), 10s)), 42);
  completer.join();
}

TEST(AwaitCompletionTest, AValueCompletedAtOnceIsNotLost) {
  asio::io_context io;
  std::function<void(Completion<int>)> start = [](Completion<int> complete) { complete(7); };
  EXPECT_EQ(run(io, await_completion<int>(std::move(start), 10s)), 7);
}

TEST(AwaitCompletionTest, GivesUpAtTheDeadlineAndALateValueIsDropped) {
  asio::io_context io;
  Completion<int> late;
  std::function<void(Completion<int>)> start = [&](Completion<int> complete) { late = std::move(complete); };
  const auto began = std::chrono::steady_clock::now();
  EXPECT_EQ(run(io, await_completion<int>(std::move(start), 50ms)), std::nullopt);
  EXPECT_GE(std::chrono::steady_clock::now() - began, 50ms);
  late(1);  // the waiter is gone: its wake-up runs on the io_context and finds nothing to do
  io.restart();
  EXPECT_EQ(io.run(), 1u);
}

TEST(RunBlockingTest, RunsTheWorkOnThePoolWhileTheIoThreadStaysFree) {
  asio::io_context io;
  asio::thread_pool pool(1);
  std::atomic<bool> release{false};
  std::atomic<std::thread::id> worker;
  std::function<int()> work = [&] {
    worker = std::this_thread::get_id();
    while (!release) std::this_thread::sleep_for(1ms);
    return 5;
  };
  asio::steady_timer other(io, 10ms);  // the I/O thread serves other work meanwhile
  other.async_wait([&](boost::system::error_code) { release = true; });
  EXPECT_EQ(run(io, run_blocking<int>(pool, std::move(work), 10s)), 5);
  EXPECT_NE(worker.load(), std::this_thread::get_id());
  pool.join();
}

}  // namespace
}  // namespace wik::http
