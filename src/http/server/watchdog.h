// Watchdog: the deadlines of every connection on one io_context, enforced by one periodic sweep
// instead of a timer per I/O operation. Private to src/http.
//
// A connection's coroutine owns a Watchdog::Deadline registered with its io_context's Watchdog.
// It arms the deadline before each phase (idle wait, request read, response write) and disarms it
// after. Every `tick` the watchdog cancels the socket of each connection whose deadline passed
// (socket.cancel(): pending operations complete with operation_aborted, the socket stays open, so
// the server can still answer 408). Deadline::expired() tells a timeout from other cancellation.
// Deadlines are therefore precise to one tick. The io_context must be run by exactly one thread;
// all members are then used from that thread only, and need no locking.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/intrusive/list.hpp>

#include <chrono>

#include "http/io.h"

namespace wik::http {

class Watchdog {
 public:
  using Clock = std::chrono::steady_clock;

  class Deadline : public boost::intrusive::list_base_hook<boost::intrusive::link_mode<boost::intrusive::auto_unlink>> {
   public:
    // Registers `socket`'s deadline (initially disarmed) with `watchdog`. Both must outlive it.
    Deadline(Watchdog& watchdog, io::Socket& socket) : socket_(socket) {
      watchdog.deadlines_.push_back(*this);
    }
    Deadline(const Deadline&) = delete;
    Deadline& operator=(const Deadline&) = delete;

    // Sets the deadline `timeout` from now, or at `at`, and clears expired().
    void arm(std::chrono::milliseconds timeout) { arm_at(Clock::now() + timeout); }
    void arm_at(Clock::time_point at) {
      at_ = at;
      expired_ = false;
    }
    void disarm() {
      at_ = Clock::time_point::max();
      expired_ = false;
    }
    // Returns true once the armed deadline has passed (and the socket's operations were cancelled).
    bool expired() const noexcept { return expired_; }

   private:
    friend class Watchdog;
    io::Socket& socket_;
    Clock::time_point at_ = Clock::time_point::max();
    bool expired_ = false;
  };

  Watchdog(boost::asio::io_context& context, std::chrono::milliseconds tick) : timer_(context), tick_(tick) {}
  Watchdog(const Watchdog&) = delete;
  Watchdog& operator=(const Watchdog&) = delete;

  // Starts the periodic sweep. Call once, before the io_context runs or from its thread.
  void start() { schedule(); }
  // Stops the sweep (from any thread: posts to the io_context).
  void stop() {
    boost::asio::post(timer_.get_executor(), [this] {
      stopped_ = true;
      timer_.cancel();
    });
  }

 private:
  void schedule() {
    timer_.expires_after(tick_);
    timer_.async_wait([this](const boost::system::error_code& ec) {
      if (ec || stopped_) return;
      sweep();
      schedule();
    });
  }

  void sweep() {
    const auto now = Clock::now();
    // Cancels again on every tick while the deadline stays passed: an operation started after the
    // first cancellation (say, the next read of a composed operation) is cut off too.
    for (Deadline& deadline : deadlines_) {
      if (deadline.at_ <= now) {
        deadline.expired_ = true;
        boost::system::error_code ignored;
        deadline.socket_.cancel(ignored);
      }
    }
  }

  boost::asio::steady_timer timer_;
  std::chrono::milliseconds tick_;
  bool stopped_ = false;
  boost::intrusive::list<Deadline, boost::intrusive::constant_time_size<false>> deadlines_;
};

}  // namespace wik::http
