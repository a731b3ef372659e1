// TaskGroup: the server's record of its running coroutines, for structured cancellation
// (STYLE.md practice 8). Private to src/http.
//
// Each spawned coroutine joins with the executor (strand) it runs on and binds the returned slot to
// its co_spawn; its completion handler leaves. emit() delivers a cancellation type to every member,
// on the member's own executor, so a signal is never touched concurrently. wait_until_empty() lets
// the controlling thread wait, with a deadline, for all members to finish. Thread-safe.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/cancellation_type.hpp>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <unordered_map>

namespace wik::http {

class TaskGroup {
 public:
  struct Ticket {
    std::uint64_t id;
    boost::asio::cancellation_slot slot;
  };

  // Adds a member that runs on `executor`. Bind the slot only from that executor.
  Ticket join(boost::asio::any_io_executor executor);
  // Removes member `id` (called from its completion handler).
  void leave(std::uint64_t id);
  // Posts `type` to every member's signal.
  void emit(boost::asio::cancellation_type type);
  // Blocks until no member remains or `deadline` passes; returns true if none remains.
  bool wait_until_empty(std::chrono::steady_clock::time_point deadline);
  std::size_t size() const;

 private:
  struct Member {
    boost::asio::any_io_executor executor;
    boost::asio::cancellation_signal signal;
  };

  mutable std::mutex mutex_;
  std::condition_variable empty_;
  std::unordered_map<std::uint64_t, std::shared_ptr<Member>> members_;
  std::uint64_t next_id_ = 0;
};

}  // namespace wik::http
