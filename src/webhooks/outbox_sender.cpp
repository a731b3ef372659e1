#include "webhooks/outbox_sender.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/experimental/parallel_group.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <string>
#include <vector>

#include "http/offload.h"

namespace wik::webhooks {
namespace {

namespace asio = boost::asio;

constexpr std::chrono::minutes kStoreCallDeadline{1};
const std::vector<double> kWindowBounds = {0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1};

bool is_transient(ErrorCode code) { return code == ErrorCode::kUnavailable || code == ErrorCode::kTimeout; }

std::string_view reason_label(PacingRule rule) {
  switch (rule) {
    case PacingRule::kCommunityBudget: return "community_budget";
    case PacingRule::kThreadSpacing: return "thread_spacing";
    case PacingRule::kPlatformThrottle: return "platform_throttle";
  }
  fatal("unknown PacingRule");
}

}  // namespace

OutboxSender::OutboxSender(store::Store& store, ReplySender send, const core::Clock& clock,
                           http::MetricsRegistry& metrics, OutboxOptions options)
    : store_(store),
      send_(std::move(send)),
      clock_(clock),
      metrics_(metrics),
      options_(std::move(options)),
      pacer_(clock, options_.pacing),
      throttles_(options_.retry_base, options_.retry_max),
      pool_(std::max<std::size_t>(1, options_.store_threads)) {}

OutboxSender::~OutboxSender() {
  stop();
  pool_.join();
}

void OutboxSender::count_reply(std::string_view outcome) {
  metrics_.counter("outbox_replies_total", "Replies from the outbox, by outcome.", {{"outcome", std::string(outcome)}})
      .inc();
}

asio::awaitable<void> OutboxSender::defer(store::OutboxMessage message, Deferral deferral) {
  std::function<Result<void>()> give_back = [this, message, deferral] {
    return store_.defer_outbox(message, deferral.not_before);
  };
  auto deferred = co_await http::run_blocking<Result<void>>(pool_, std::move(give_back), kStoreCallDeadline);
  if (!deferred || !deferred->ok()) {
    count_reply("lost_claim");  // or no answer from the store: the reply is claimed again after its lease
    co_return;
  }
  metrics_
      .counter("outbox_deferred_total", "Replies held back by the pacing, by the rule that held them.",
               {{"reason", std::string(reason_label(deferral.rule))}})
      .inc();
}

asio::awaitable<void> OutboxSender::send(store::OutboxMessage message) {
  if (const std::optional<Deferral> deferral = pacer_.admit(message.community_id, conversation_of(message.body))) {
    co_await defer(std::move(message), *deferral);
    co_return;
  }
  auto sent = co_await send_(message);
  if (!sent.ok() && sent.error().code() == ErrorCode::kRateLimited) {
    // The platform throttles this community (the Graph client refused to call inside its back-off
    // window, or the platform refused the call): not the reply's fault, so it waits without
    // spending an attempt — a long throttle never drops it — longer after each throttle in a row.
    const Deferral wait{.rule = PacingRule::kPlatformThrottle,
                        .not_before = clock_.now() + throttles_.next_wait(message.community_id)};
    co_await defer(std::move(message), wait);
    co_return;
  }
  throttles_.end(message.community_id);
  std::string outcome = "sent";
  if (sent.ok()) {
    const auto accepted = std::chrono::steady_clock::now();
    std::function<Result<void>()> finish = [this, message] { return store_.finish_outbox(message); };
    auto finished = co_await http::run_blocking<Result<void>>(pool_, std::move(finish), kStoreCallDeadline);
    if (!finished || !finished->ok()) outcome = "lost_claim";
    const std::chrono::duration<double> unconfirmed = std::chrono::steady_clock::now() - accepted;
    metrics_
        .histogram("outbox_unconfirmed_seconds",
                   "Time from the platform accepting a reply to its outbox row being deleted: the window in which "
                   "a crash sends it again.",
                   kWindowBounds)
        .observe(unconfirmed.count());
  } else {
    const Error error = sent.error();
    std::optional<std::chrono::system_clock::time_point> retry_at;
    if (is_transient(error.code())) {
      retry_at = clock_.now() + backoff(options_.retry_base, options_.retry_max, message.attempts);
    }
    const std::string reason = error.reason();
    std::function<Result<store::OutboxOutcome>()> fail = [this, message, reason, retry_at] {
      return store_.fail_outbox(message, reason, retry_at);
    };
    auto failed = co_await http::run_blocking<Result<store::OutboxOutcome>>(pool_, std::move(fail), kStoreCallDeadline);
    outcome = !failed || !failed->ok()                                  ? "lost_claim"
              : failed->value() == store::OutboxOutcome::kRetryScheduled ? "retry_scheduled"
                                                                           : "dropped";
    spdlog::warn("webhooks: a reply to community {} was not sent (attempt {}, {}): {}", message.community_id,
                 message.attempts + 1, outcome, reason);
  }
  count_reply(outcome);
}

asio::awaitable<void> OutboxSender::send_from(std::vector<store::OutboxMessage>* batch, std::size_t* next) {
  while (*next < batch->size()) co_await send(std::move((*batch)[(*next)++]));
}

asio::awaitable<Result<std::size_t>> OutboxSender::run_once() {
  std::function<Result<std::vector<store::OutboxMessage>>()> claim = [this] {
    return store_.claim_outbox(options_.batch, options_.lease);
  };
  auto claimed = co_await http::run_blocking<Result<std::vector<store::OutboxMessage>>>(pool_, std::move(claim),
                                                                                         kStoreCallDeadline);
  if (!claimed) co_return Error(ErrorCode::kTimeout, "claiming outbox replies timed out");
  if (!claimed->ok()) co_return claimed->error();
  // One reply per community per batch (the claim guarantees it), so the batch's replies go
  // concurrently, each community's order kept: a slow round trip delays its own community only
  // until the batch ends, not every reply queued behind it.
  std::vector<store::OutboxMessage>& batch = claimed->value();
  const std::size_t count = batch.size();
  if (count == 0) co_return count;  // a group of no operations would never complete
  const auto executor = co_await asio::this_coro::executor;
  std::size_t next = 0;
  using SenderOperation = decltype(asio::co_spawn(executor, send_from(&batch, &next), asio::deferred));
  std::vector<SenderOperation> senders;
  const std::size_t concurrent = std::clamp<std::size_t>(options_.concurrent_sends, 1, count);
  for (std::size_t i = 0; i < concurrent; ++i) {
    senders.push_back(asio::co_spawn(executor, send_from(&batch, &next), asio::deferred));
  }
  auto group = asio::experimental::make_parallel_group(std::move(senders));
  auto [order, failures] = co_await group.async_wait(asio::experimental::wait_for_all(), asio::use_awaitable);
  for (const std::exception_ptr& failure : failures) {
    if (failure) spdlog::error("webhooks: sending replies threw; the unsent ones are claimed again after their lease");
  }
  co_return count;
}

asio::awaitable<void> OutboxSender::loop(OutboxSender* self) {
  while (!self->stopping_) {
    auto sent = co_await self->run_once();
    if (!sent.ok()) spdlog::error("webhooks: sending replies failed: {}", sent.error().reason());
    if (sent.ok() && *sent > 0) continue;
    co_await self->wake_.wait(self->options_.idle_poll);
  }
}

void OutboxSender::start(const asio::any_io_executor& executor) {
  wake_.bind(executor);
  asio::co_spawn(executor, loop(this), [](std::exception_ptr e) {
    if (e) spdlog::critical("webhooks: the outbox loop stopped on an exception");
  });
}

void OutboxSender::stop() {
  stopping_ = true;
  notify();
}

}  // namespace wik::webhooks
