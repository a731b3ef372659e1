#include "webhooks/dispatcher.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>

#include "core/secure_random.h"
#include "http/offload.h"

namespace wik::webhooks {
namespace {

namespace asio = boost::asio;
using namespace boost::asio::experimental::awaitable_operators;

// Store calls wait at most this long for the pool (they are short; the bound only keeps a wedged
// database from freezing the loop forever).
constexpr std::chrono::minutes kStoreCallDeadline{1};

// co_spawn (under ||) needs a default-constructible result; Result is not.
asio::awaitable<std::optional<Result<Replies>>> run_handler(EventHandler handler, store::ClaimedEvent event) {
  co_return co_await handler(event);
}

// Counts the handlers of one batch still running and wakes the batch when the last one ends.
struct BatchLatch {
  explicit BatchLatch(const asio::any_io_executor& executor, std::size_t count) : done(executor), remaining(count) {
    done.expires_at(asio::steady_timer::time_point::max());
  }
  void arrive() {
    if (--remaining == 0) done.expires_at(asio::steady_timer::time_point::min());
  }
  asio::steady_timer done;
  std::size_t remaining;
};

}  // namespace

Dispatcher::Dispatcher(store::Store& store, EventHandler handler, const core::Clock& clock,
                       http::MetricsRegistry& metrics, DispatcherOptions options)
    : store_(store),
      handler_(std::move(handler)),
      clock_(clock),
      metrics_(metrics),
      options_(std::move(options)),
      pool_(std::max<std::size_t>(1, options_.store_threads)) {
  if (options_.worker.empty()) options_.worker = "worker-" + core::secure_random_token(6);
}

Dispatcher::~Dispatcher() {
  stop();
  pool_.join();
}

std::chrono::system_clock::time_point Dispatcher::retry_at(std::int64_t attempts) const {
  return clock_.now() + backoff(options_.retry_base, options_.retry_max, attempts);
}

asio::awaitable<void> Dispatcher::handle(store::ClaimedEvent event) {
  asio::steady_timer deadline(co_await asio::this_coro::executor, options_.handler_timeout);
  auto first = co_await (run_handler(handler_, event) || deadline.async_wait(asio::as_tuple(asio::use_awaitable)));
  std::optional<Error> failure;
  if (first.index() == 1) {
    failure = Error(ErrorCode::kTimeout, "the handler did not finish within its timeout");
  } else if (!std::get<0>(first) || !std::get<0>(first)->ok()) {
    failure = std::get<0>(first) ? std::get<0>(first)->error() : Error(ErrorCode::kInternal, "the handler failed");
  }

  std::string outcome = "handled";
  if (!failure) {
    Replies replies = std::move(std::get<0>(first)->value());
    const bool any_replies = !replies.empty();
    std::function<Result<void>()> complete = [this, event, replies = std::move(replies)] {
      return store_.complete_inbox_event(event, replies);
    };
    auto completed = co_await http::run_blocking<Result<void>>(pool_, std::move(complete), kStoreCallDeadline);
    if (!completed || !completed->ok()) {
      outcome = "lost_claim";
    } else if (any_replies && replies_queued_) {
      replies_queued_();
    }
  } else {
    // A malformed event fails the same way every time: it becomes a dead letter at once.
    const std::optional<std::chrono::system_clock::time_point> when =
        failure->code() == ErrorCode::kMalformed ? std::nullopt : std::optional(retry_at(event.attempts));
    const std::string reason = failure->reason();
    std::function<Result<store::FailOutcome>()> fail = [this, event, reason, when] {
      return store_.fail_inbox_event(event, reason, when);
    };
    auto failed = co_await http::run_blocking<Result<store::FailOutcome>>(pool_, std::move(fail), kStoreCallDeadline);
    outcome = !failed || !failed->ok()                          ? "lost_claim"
              : failed->value() == store::FailOutcome::kDeadLettered ? "dead_lettered"
                                                                     : "retry_scheduled";
    spdlog::warn("webhooks: handler failed for an event of community {} (attempt {}): {}", event.community_id,
                 event.attempts + 1, reason);
  }
  metrics_.counter("webhook_dispatch_total", "Inbox events dispatched to handlers, by outcome.",
                   {{"outcome", outcome}})
      .inc();
}

asio::awaitable<Result<std::size_t>> Dispatcher::run_once() {
  std::function<Result<std::vector<store::ClaimedEvent>>()> claim = [this] {
    return store_.claim_inbox_events(options_.worker, options_.batch, options_.lease);
  };
  auto claimed = co_await http::run_blocking<Result<std::vector<store::ClaimedEvent>>>(pool_, std::move(claim),
                                                                                        kStoreCallDeadline);
  if (!claimed) co_return Error(ErrorCode::kTimeout, "claiming inbox events timed out");
  if (!claimed->ok()) co_return claimed->error();
  auto& events = claimed->value();
  if (events.empty()) co_return std::size_t{0};

  const auto executor = co_await asio::this_coro::executor;
  auto latch = std::make_shared<BatchLatch>(executor, events.size());
  for (auto& event : events) {
    asio::co_spawn(executor, handle(std::move(event)), [latch](std::exception_ptr e) {
      if (e) spdlog::error("webhooks: a handler threw; its event will be retried after its lease");
      latch->arrive();
    });
  }
  co_await latch->done.async_wait(asio::as_tuple(asio::use_awaitable));
  co_return events.size();
}

asio::awaitable<void> Dispatcher::loop(Dispatcher* self) {
  while (!self->stopping_) {
    auto handled = co_await self->run_once();
    if (!handled.ok()) spdlog::error("webhooks: dispatching failed: {}", handled.error().reason());
    if (handled.ok() && *handled > 0) continue;
    co_await self->wake_.wait(self->options_.idle_poll);
  }
}

void Dispatcher::start(const asio::any_io_executor& executor) {
  wake_.bind(executor);
  asio::co_spawn(executor, loop(this), [](std::exception_ptr e) {
    if (e) spdlog::critical("webhooks: the dispatcher loop stopped on an exception");
  });
}

void Dispatcher::notify() { wake_.notify(); }

void Dispatcher::stop() {
  stopping_ = true;
  notify();
}

}  // namespace wik::webhooks
