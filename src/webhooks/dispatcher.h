// Dispatcher: hands stored webhook events to the application's handler, in order per community,
// at least once and — with the inbox's de-duplication — never twice for one platform event.
//
// A loop claims a batch from the inbox (Store::claim_inbox_events: from each community a run of
// its oldest pending events, so with PostgreSQL several processes may dispatch at once without
// reordering a community). The runs of different communities are handled concurrently, the events
// of one run one after another, each under handler_timeout. A handled event's completion — the
// event marked done and the handler's replies queued in the outbox (OutboxSender sends them) — is
// group-committed: one transaction for whatever finished while the previous commit was in flight,
// so an idle dispatcher adds no wait and a busy one commits many events at once. The handler's own
// writes (EventEffects::writes) commit in that transaction too, so they happen exactly when the
// event is marked handled; writes that fail count as a failure of the handler. A failure or a
// timeout schedules a retry after an exponential back-off (retry_base × 2^attempts, capped at
// retry_max) until the store's max_attempts, after which the event becomes a dead letter with its
// last error; a kMalformed failure (an event that can never be handled) becomes one at once. A
// kRateLimited failure (the platform throttles the community's Graph calls) spends no attempt, so
// a long throttle never makes a dead letter: the event waits retry_base × 2^n after its
// community's n-th throttle in a row (Store::defer_inbox_event), counted as "throttled". The
// rest of that community's run is given back unhandled, to wait behind it. An event whose worker
// died (or stopped: a paused process) is claimed again once its lease expires; a handler is never
// started on an event whose lease has run out (the rest of the run is given back instead), and the
// completion of an event another worker has claimed since is refused by the store and counted as
// webhook_stale_completions_total. When the inbox is empty the loop sleeps for
// idle_poll or until notify() (the ingest calls it after storing). The next claim starts when the
// whole batch is handled and committed.
//
// A process killed after a handler ran but before its event's completion committed runs the
// handler again after the lease: its writes and replies commit once, its direct calls (the Graph
// API, the store outside EventEffects) may repeat (docs/webhooks.md says what can). Thread-safe. Store calls run on a thread pool of its own, never on the loop's executor.
// Shut down in this order: stop(), wait_stopped() (a graceful shutdown: the batch in hand is
// finished), stop the loop executor's io_context, destroy the dispatcher, and only then destroy
// that io_context.
#pragma once

#include <wik/result.h>

#include <atomic>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/thread_pool.hpp>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "http/server/metrics.h"
#include "store/store.h"
#include "webhooks/wake_signal.h"

namespace wik::webhooks {

struct DispatcherOptions {
  std::size_t batch = 512;          // most events claimed at once
  std::size_t per_community = 64;   // most events of one community in a batch (handled in turn)
  std::chrono::milliseconds lease = std::chrono::seconds(60);     // a claim's lifetime; > handler_timeout
  std::chrono::milliseconds handler_timeout = std::chrono::seconds(30);
  std::chrono::milliseconds idle_poll = std::chrono::milliseconds(200);
  std::chrono::milliseconds retry_base = std::chrono::seconds(1);
  std::chrono::milliseconds retry_max = std::chrono::hours(1);
  std::size_t store_threads = 2;
  std::string worker;  // this process's name in claims; empty: "<host>:<pid>:<random>"
};

// What a handler leaves to commit with its event's completion: the Send API bodies of its replies
// (queued in the outbox) and its own writes (run in the completion's transaction).
struct EventEffects {
  std::vector<std::string> replies;
  std::vector<store::CompletionWrite> writes;
};
// Handles one event and returns its effects; an Error (or a timeout) makes it retry later and
// discards them. The event is valid for the call.
using EventHandler = std::function<boost::asio::awaitable<Result<EventEffects>>(const store::ClaimedEvent&)>;

class Dispatcher {
 public:
  Dispatcher(store::Store& store, EventHandler handler, const core::Clock& clock, http::MetricsRegistry& metrics,
             DispatcherOptions options = {});
  ~Dispatcher();
  Dispatcher(const Dispatcher&) = delete;
  Dispatcher& operator=(const Dispatcher&) = delete;

  // Claims one batch and handles it to the end (every completion committed); returns how many
  // events it claimed. The loop calls this; tests may too.
  boost::asio::awaitable<Result<std::size_t>> run_once();
  // Starts the loop on `executor`. REQUIRES: called once; the executor is a single-threaded
  // io_context's (or a strand) and its context outlives the dispatcher.
  void start(const boost::asio::any_io_executor& executor);
  // Wakes an idle loop at once (new events were stored).
  void notify();
  // Calls `listener` after an event's replies were queued in the outbox. Set before start().
  void on_replies_queued(std::function<void()> listener) { replies_queued_ = std::move(listener); }
  // Stops claiming; events being handled finish, the rest of their runs is given back. Safe to
  // call more than once.
  void stop();
  // Blocks until the loop started by start() has ended after stop() — the batch in hand handled or
  // given back, and committed — or until `timeout`; returns whether it ended. True when the loop
  // never started. Call from a thread other than the loop's.
  bool wait_stopped(std::chrono::milliseconds timeout);

 private:
  struct Batch;
  static boost::asio::awaitable<void> loop(Dispatcher* self);
  // Handles one community's run in order until it ends or an event fails.
  boost::asio::awaitable<void> handle_run(std::vector<store::ClaimedEvent> run, std::shared_ptr<Batch> batch);
  // Records a failed attempt of `event` (a retry or a dead letter), or a throttled one (a wait).
  boost::asio::awaitable<void> fail(const store::ClaimedEvent& event, const Error& failure);
  // Gives claimed events back unhandled, to be claimed again in order.
  boost::asio::awaitable<void> give_back(std::vector<store::ClaimedEvent> events);
  // Commits the batch's completions as they come, until every run has ended and all are committed.
  boost::asio::awaitable<void> commit_completions(Batch& batch);
  void count(std::string_view outcome, std::size_t events = 1);
  // Counts completions (or failures) the store refused because another worker holds the claim now.
  void count_stale(std::size_t events);
  std::chrono::system_clock::time_point retry_at(std::int64_t attempts) const;

  store::Store& store_;
  EventHandler handler_;
  const core::Clock& clock_;
  http::MetricsRegistry& metrics_;
  DispatcherOptions options_;
  boost::asio::thread_pool pool_;
  std::atomic<bool> stopping_{false};
  std::mutex loop_mutex_;
  std::condition_variable loop_ended_;
  bool loop_running_ = false;  // guarded by loop_mutex_
  WakeSignal wake_;
  std::function<void()> replies_queued_;
  ThrottleStreaks throttles_;  // the loop only
};

}  // namespace wik::webhooks
