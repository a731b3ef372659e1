#include "webhooks/dispatcher.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <spdlog/spdlog.h>

#include <unistd.h>

#include <algorithm>
#include <array>
#include <iterator>
#include <map>
#include <set>
#include <utility>

#include "core/secure_random.h"
#include "http/offload.h"

namespace wik::webhooks {
namespace {

namespace asio = boost::asio;
using namespace boost::asio::experimental::awaitable_operators;

// Store calls wait at most this long for the pool (they are short; the bound only keeps a wedged
// database from freezing the loop forever).
constexpr std::chrono::minutes kStoreCallDeadline{1};

// Returns "<host>:<pid>:<random>": which process holds a claim (the inbox's claimed_by), unique
// even when a pid is reused.
std::string worker_name() {
  std::array<char, 256> host{};
  if (::gethostname(host.data(), host.size() - 1) != 0) host[0] = '\0';
  return std::string(host.data()) + ":" + std::to_string(::getpid()) + ":" + core::secure_random_token(6);
}

// co_spawn (under ||) needs a default-constructible result; Result is not.
asio::awaitable<std::optional<Result<EventEffects>>> run_handler(EventHandler handler, store::ClaimedEvent event) {
  co_return co_await handler(event);
}

}  // namespace

Dispatcher::Dispatcher(store::Store& store, EventHandler handler, const core::Clock& clock,
                       http::MetricsRegistry& metrics, DispatcherOptions options)
    : store_(store),
      handler_(std::move(handler)),
      clock_(clock),
      metrics_(metrics),
      options_(std::move(options)),
      pool_(std::max<std::size_t>(1, options_.store_threads)),
      throttles_(options_.retry_base, options_.retry_max) {
  if (options_.worker.empty()) options_.worker = worker_name();
}

Dispatcher::~Dispatcher() {
  stop();
  pool_.join();
}

std::chrono::system_clock::time_point Dispatcher::retry_at(std::int64_t attempts) const {
  return clock_.now() + backoff(options_.retry_base, options_.retry_max, attempts);
}

// One claimed batch, on the loop's executor: how many runs are still being handled, the handled
// events whose completion waits for the next commit, and the communities whose remaining events
// wait behind an event whose writes failed at its commit.
struct Dispatcher::Batch {
  struct Handled {
    store::ClaimedEvent event;
    EventEffects effects;
  };
  std::size_t runs_left = 0;
  std::vector<Handled> handled;
  std::set<std::string, std::less<>> stopped;
  WakeSignal changed;  // an event was handled or a run ended
};

void Dispatcher::count(std::string_view outcome, std::size_t events) {
  if (events == 0) return;
  metrics_
      .counter("webhook_dispatch_total", "Inbox events dispatched to handlers, by outcome.",
               {{"outcome", std::string(outcome)}})
      .inc(events);
}

void Dispatcher::count_stale(std::size_t events) {
  if (events == 0) return;
  metrics_
      .counter("webhook_stale_completions_total",
               "Handled events whose completion or failure the store refused: their lease had run out and "
               "another worker had claimed them (what the handler left was discarded).")
      .inc(events);
}

asio::awaitable<void> Dispatcher::handle_run(std::vector<store::ClaimedEvent> run, std::shared_ptr<Batch> batch) {
  const std::string community = run.front().community_id;
  std::size_t next = 0;
  // An event whose lease has run out (this process was paused, or a handler before it was slow) may
  // be another worker's by now: it is not started, and the rest of the run is given back with it.
  while (next < run.size() && !stopping_ && !batch->stopped.contains(community) &&
         clock_.now() < run[next].lease_until) {
    store::ClaimedEvent& event = run[next++];
    asio::steady_timer deadline(co_await asio::this_coro::executor, options_.handler_timeout);
    auto first = co_await (run_handler(handler_, event) || deadline.async_wait(asio::as_tuple(asio::use_awaitable)));
    std::optional<Error> failure;
    if (first.index() == 1) {
      failure = Error(ErrorCode::kTimeout, "the handler did not finish within its timeout");
    } else if (!std::get<0>(first) || !std::get<0>(first)->ok()) {
      failure = std::get<0>(first) ? std::get<0>(first)->error() : Error(ErrorCode::kInternal, "the handler failed");
    }
    if (failure) {
      co_await fail(event, *failure);
      break;
    }
    throttles_.end(community);
    batch->handled.push_back({.event = std::move(event), .effects = std::move(std::get<0>(first)->value())});
    batch->changed.notify();
  }
  if (next == run.size()) co_return;
  // The rest of the run waits behind the failed event (or, when stopping, for the next claim).
  co_await give_back({std::make_move_iterator(run.begin() + static_cast<std::ptrdiff_t>(next)),
                      std::make_move_iterator(run.end())});
}

asio::awaitable<void> Dispatcher::give_back(std::vector<store::ClaimedEvent> events) {
  const std::size_t given_back = events.size();
  if (given_back == 0) co_return;
  std::function<Result<void>()> release = [this, events = std::move(events)] {
    return store_.release_inbox_events(events);
  };
  auto released = co_await http::run_blocking<Result<void>>(pool_, std::move(release), kStoreCallDeadline);
  if (!released || !released->ok()) {
    spdlog::warn("webhooks: could not give back {} claimed events; they are claimable again after their lease",
                 given_back);
  }
  count("released", given_back);
}

asio::awaitable<void> Dispatcher::fail(const store::ClaimedEvent& event, const Error& failure) {
  if (failure.code() == ErrorCode::kRateLimited) {
    const auto not_before = clock_.now() + throttles_.next_wait(event.community_id);
    std::function<Result<void>()> defer = [this, event, not_before] {
      return store_.defer_inbox_event(event, not_before);
    };
    auto deferred = co_await http::run_blocking<Result<void>>(pool_, std::move(defer), kStoreCallDeadline);
    const bool lost = !deferred || !deferred->ok();
    count(lost ? "lost_claim" : "throttled");
    if (lost && deferred && deferred->error().code() == ErrorCode::kConflict) count_stale(1);
    co_return;
  }
  // A malformed event fails the same way every time: it becomes a dead letter at once.
  const std::optional<std::chrono::system_clock::time_point> when =
      failure.code() == ErrorCode::kMalformed ? std::nullopt : std::optional(retry_at(event.attempts));
  const std::string reason = failure.reason();
  std::function<Result<store::FailOutcome>()> record = [this, event, reason, when] {
    return store_.fail_inbox_event(event, reason, when);
  };
  auto failed = co_await http::run_blocking<Result<store::FailOutcome>>(pool_, std::move(record), kStoreCallDeadline);
  count(!failed || !failed->ok()                                 ? "lost_claim"
        : failed->value() == store::FailOutcome::kDeadLettered ? "dead_lettered"
                                                                : "retry_scheduled");
  if (failed && !failed->ok() && failed->error().code() == ErrorCode::kConflict) count_stale(1);
  spdlog::warn("webhooks: handler failed for an event of community {} (attempt {}): {}", event.community_id,
               event.attempts + 1, reason);
}

asio::awaitable<void> Dispatcher::commit_completions(Batch& batch) {
  const std::chrono::milliseconds wait_limit = kStoreCallDeadline;
  for (;;) {
    if (batch.handled.empty()) {
      if (batch.runs_left == 0) co_return;
      co_await batch.changed.wait(wait_limit);
      continue;
    }
    // Events of a stopped community wait (unhandled) behind the one that failed.
    std::vector<store::ClaimedEvent> held_back;
    auto group = std::make_shared<std::vector<Batch::Handled>>();
    std::vector<Batch::Handled> finished = std::exchange(batch.handled, {});
    for (Batch::Handled& handled : finished) {
      if (batch.stopped.contains(handled.event.community_id)) {
        held_back.push_back(std::move(handled.event));
      } else {
        group->push_back(std::move(handled));
      }
    }
    const std::size_t size = group->size();
    const bool any_replies = std::any_of(group->begin(), group->end(),
                                         [](const Batch::Handled& h) { return !h.effects.replies.empty(); });
    std::function<Result<std::vector<store::CompletionOutcome>>()> complete = [this, group] {
      std::vector<store::InboxCompletion> completions;
      completions.reserve(group->size());
      for (const Batch::Handled& h : *group) {
        completions.push_back({.event = h.event, .replies = h.effects.replies, .writes = h.effects.writes});
      }
      return store_.complete_inbox_events(completions);
    };
    auto committed = co_await http::run_blocking<Result<std::vector<store::CompletionOutcome>>>(
        pool_, std::move(complete), kStoreCallDeadline);
    if (!committed || !committed->ok()) {
      spdlog::error("webhooks: completing {} handled events failed ({}); they run again after their lease", size,
                    committed ? committed->error().reason() : "the store did not answer in time");
      count("lost_claim", size);
      co_await give_back(std::move(held_back));
      continue;
    }
    metrics_.counter("webhook_completion_commits_total", "Transactions that marked handled events done (each may mark many).")
        .inc();
    std::size_t done = 0;
    std::size_t lost = 0;
    for (std::size_t i = 0; i < size; ++i) {
      const store::CompletionOutcome& outcome = committed->value()[i];
      store::ClaimedEvent& event = (*group)[i].event;
      if (outcome.completed) {
        ++done;
      } else if (outcome.write_error) {
        batch.stopped.insert(event.community_id);
        co_await fail(event, *outcome.write_error);
      } else if (outcome.behind_failure) {
        held_back.push_back(std::move(event));
      } else {
        ++lost;
      }
    }
    count("handled", done);
    count("lost_claim", lost);
    count_stale(lost);
    co_await give_back(std::move(held_back));
    if (any_replies && done > 0 && replies_queued_) replies_queued_();
  }
}

asio::awaitable<Result<std::size_t>> Dispatcher::run_once() {
  std::function<Result<std::vector<store::ClaimedEvent>>()> claim = [this] {
    return store_.claim_inbox_events(options_.worker, options_.batch, options_.lease, options_.per_community);
  };
  auto claimed = co_await http::run_blocking<Result<std::vector<store::ClaimedEvent>>>(pool_, std::move(claim),
                                                                                        kStoreCallDeadline);
  if (!claimed) co_return Error(ErrorCode::kTimeout, "claiming inbox events timed out");
  if (!claimed->ok()) co_return claimed->error();
  std::vector<store::ClaimedEvent>& events = claimed->value();
  const std::size_t claimed_count = events.size();
  if (claimed_count == 0) co_return claimed_count;

  // The claim returns ids ascending, so each community's run comes out in order.
  std::map<std::string, std::vector<store::ClaimedEvent>> runs;
  for (store::ClaimedEvent& event : events) runs[event.community_id].push_back(std::move(event));
  const auto executor = co_await asio::this_coro::executor;
  auto batch = std::make_shared<Batch>();
  batch->changed.bind(executor);
  batch->runs_left = runs.size();
  for (auto& [community, run] : runs) {
    asio::co_spawn(executor, handle_run(std::move(run), batch), [batch](std::exception_ptr e) {
      if (e) spdlog::error("webhooks: a handler threw; its community's unhandled events run after their lease");
      --batch->runs_left;
      batch->changed.notify();
    });
  }
  co_await commit_completions(*batch);
  co_return claimed_count;
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
  {
    const std::lock_guard lock(loop_mutex_);
    loop_running_ = true;
  }
  asio::co_spawn(executor, loop(this), [this](std::exception_ptr e) {
    if (e) spdlog::critical("webhooks: the dispatcher loop stopped on an exception");
    {
      const std::lock_guard lock(loop_mutex_);
      loop_running_ = false;
    }
    loop_ended_.notify_all();
  });
}

bool Dispatcher::wait_stopped(std::chrono::milliseconds timeout) {
  std::unique_lock lock(loop_mutex_);
  return loop_ended_.wait_for(lock, timeout, [this] { return !loop_running_; });
}

void Dispatcher::notify() { wake_.notify(); }

void Dispatcher::stop() {
  stopping_ = true;
  notify();
}

}  // namespace wik::webhooks
