// OutboxSender: sends the replies handlers queued in the outbox (Store::complete_inbox_event),
// oldest first per community, and deletes each once the platform took it. A batch holds at most
// one reply per community, and its replies go concurrently, `concurrent_sends` round trips at once.
//
// Why an outbox: a reply is queued in the same transaction that marks its event handled, so a
// handler that fails (and is retried) has sent nothing, and an event handled once sends its
// replies once. What can still repeat: the Send API has no idempotency key, so a reply whose send
// the platform made but whose answer was lost (a timeout or dropped connection after the platform
// processed it: kTimeout/kUnavailable here) is sent again by the retry below, and a process that
// dies after the platform accepted a reply and before its row is deleted sends that one reply again
// after the lease (`lease`). That window — one Graph round trip's end to one delete's commit — is
// measured as `outbox_unconfirmed_seconds` (docs/webhooks.md). A send that fails transiently
// (kUnavailable, kTimeout) is retried with back-off until the store's max_attempts; one the
// platform refuses for good (a person who left, a revoked install, a bad body) is dropped and
// counted. A throttled send (kRateLimited) waits like a deferral below, without spending an
// attempt, retry_base × 2^n after the n-th throttle in a row of its community. Before each send
// the ReplyPacer (reply_pacer.h) applies the community budget and the thread spacing: a reply they
// hold back is given back to the store until its time (Store::defer_outbox) — not an attempt, not
// an error — and counted. Thread-safety and shutdown as for the Dispatcher: stop(), stop the
// loop's io_context, destroy the sender, then that io_context.
#pragma once

#include <wik/config.h>
#include <wik/result.h>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/thread_pool.hpp>

#include <atomic>
#include <chrono>
#include <string>
#include <cstddef>
#include <functional>
#include <string_view>

#include "core/clock.h"
#include "http/server/metrics.h"
#include "store/store.h"
#include "webhooks/reply_pacer.h"
#include "webhooks/wake_signal.h"

namespace wik::webhooks {

struct OutboxOptions {
  std::size_t batch = 64;                                      // replies claimed at once
  std::chrono::milliseconds lease = std::chrono::seconds(60);  // a claim's lifetime; > the Graph call's timeout
  std::chrono::milliseconds idle_poll = std::chrono::milliseconds(200);
  std::chrono::milliseconds retry_base = std::chrono::seconds(1);
  std::chrono::milliseconds retry_max = std::chrono::minutes(10);
  std::size_t store_threads = 2;
  // Replies of a batch in flight at once; the Graph client keeps 8 idle connections per host, so
  // more would open connections it then closes.
  std::size_t concurrent_sends = 8;
  BotConfig pacing;  // the community budget and the thread spacing ([bot] in docs/configuration.md)
};

// Sends one reply (the Send API body) as its community. The message is valid for the call.
using ReplySender = std::function<boost::asio::awaitable<Result<void>>(const store::OutboxMessage&)>;

class OutboxSender {
 public:
  OutboxSender(store::Store& store, ReplySender send, const core::Clock& clock, http::MetricsRegistry& metrics,
               OutboxOptions options = {});
  ~OutboxSender();
  OutboxSender(const OutboxSender&) = delete;
  OutboxSender& operator=(const OutboxSender&) = delete;

  // Claims one batch and sends it; returns how many replies it claimed (sent, failed or held back).
  // The loop calls this; tests may.
  boost::asio::awaitable<Result<std::size_t>> run_once();
  // Starts the loop on `executor`. REQUIRES: called once; a single-threaded io_context's executor.
  void start(const boost::asio::any_io_executor& executor);
  // Wakes an idle loop at once (replies were queued).
  void notify() { wake_.notify(); }
  // Stops claiming; sends under way finish. Safe to call more than once.
  void stop();

 private:
  static boost::asio::awaitable<void> loop(OutboxSender* self);
  boost::asio::awaitable<void> send(store::OutboxMessage message);
  boost::asio::awaitable<void> defer(store::OutboxMessage message, Deferral deferral);
  // Sends the batch's replies from `*next` on, one at a time, taking each from the shared `*next`;
  // several run at once on the loop's executor.
  boost::asio::awaitable<void> send_from(std::vector<store::OutboxMessage>* batch, std::size_t* next);
  void count_reply(std::string_view outcome);

  store::Store& store_;
  ReplySender send_;
  const core::Clock& clock_;
  http::MetricsRegistry& metrics_;
  OutboxOptions options_;
  ReplyPacer pacer_;  // used on the loop only
  ThrottleStreaks throttles_;  // the loop only
  boost::asio::thread_pool pool_;
  std::atomic<bool> stopping_{false};
  WakeSignal wake_;
};

}  // namespace wik::webhooks
