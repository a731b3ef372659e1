// Dispatcher: hands stored webhook events to the application's handler, in order per community,
// at least once and — with the inbox's de-duplication — never twice for one platform event.
//
// A loop claims a batch from the inbox (Store::claim_inbox_events: only the oldest pending event of
// each community is claimable, so a community's events are handled one after another while
// different communities run concurrently; with PostgreSQL several processes may dispatch at once).
// Each event's handler runs under handler_timeout. Success marks the event done and queues the
// handler's replies in the outbox in the same transaction (OutboxSender sends them); a failure or a
// timeout schedules a retry after an exponential back-off (retry_base × 2^attempts, capped at
// retry_max) until the store's max_attempts, after which the event becomes a dead letter with its
// last error; a kMalformed failure (an event that can never be handled) becomes one at once. An event whose worker died is claimed again once its lease expires. When the inbox is
// empty the loop sleeps for idle_poll or until notify() (the ingest calls it after storing).
//
// Handlers must be idempotent across crashes: a process killed after the handler ran but before
// the event was marked done runs it again after the lease (docs/webhooks.md says what can repeat).
// Thread-safe. Store calls run on a thread pool of its own, never on the loop's executor. Shut down
// in this order: stop(), stop the loop executor's io_context, destroy the dispatcher, and only then
// destroy that io_context.
#pragma once

#include <wik/result.h>

#include <atomic>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/thread_pool.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "http/server/metrics.h"
#include "store/store.h"
#include "webhooks/wake_signal.h"

namespace wik::webhooks {

struct DispatcherOptions {
  std::size_t batch = 64;                                         // events claimed at once
  std::chrono::milliseconds lease = std::chrono::seconds(60);     // a claim's lifetime; > handler_timeout
  std::chrono::milliseconds handler_timeout = std::chrono::seconds(30);
  std::chrono::milliseconds idle_poll = std::chrono::milliseconds(200);
  std::chrono::milliseconds retry_base = std::chrono::seconds(1);
  std::chrono::milliseconds retry_max = std::chrono::hours(1);
  std::size_t store_threads = 2;
  std::string worker;  // this process's name in claims; empty: a random one
};

// The Send API bodies a handler gave as its replies, queued in the outbox with its completion.
using Replies = std::vector<std::string>;
// Handles one event and returns its replies; an Error (or a timeout) makes it retry later and
// discards the replies. The event is valid for the call.
using EventHandler = std::function<boost::asio::awaitable<Result<Replies>>(const store::ClaimedEvent&)>;

class Dispatcher {
 public:
  Dispatcher(store::Store& store, EventHandler handler, const core::Clock& clock, http::MetricsRegistry& metrics,
             DispatcherOptions options = {});
  ~Dispatcher();
  Dispatcher(const Dispatcher&) = delete;
  Dispatcher& operator=(const Dispatcher&) = delete;

  // Claims one batch and handles it to the end; returns how many events it handled (successfully
  // or not). The loop calls this; tests may too.
  boost::asio::awaitable<Result<std::size_t>> run_once();
  // Starts the loop on `executor`. REQUIRES: called once; the executor is a single-threaded
  // io_context's (or a strand) and its context outlives the dispatcher.
  void start(const boost::asio::any_io_executor& executor);
  // Wakes an idle loop at once (new events were stored).
  void notify();
  // Calls `listener` after an event's replies were queued in the outbox. Set before start().
  void on_replies_queued(std::function<void()> listener) { replies_queued_ = std::move(listener); }
  // Stops claiming; events being handled finish. Safe to call more than once.
  void stop();

 private:
  static boost::asio::awaitable<void> loop(Dispatcher* self);
  boost::asio::awaitable<void> handle(store::ClaimedEvent event);
  std::chrono::system_clock::time_point retry_at(std::int64_t attempts) const;

  store::Store& store_;
  EventHandler handler_;
  const core::Clock& clock_;
  http::MetricsRegistry& metrics_;
  DispatcherOptions options_;
  boost::asio::thread_pool pool_;
  std::atomic<bool> stopping_{false};
  WakeSignal wake_;
  std::function<void()> replies_queued_;
};

}  // namespace wik::webhooks
