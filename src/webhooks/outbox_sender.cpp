#include "webhooks/outbox_sender.h"

#include <boost/asio/co_spawn.hpp>
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

bool is_transient(ErrorCode code) {
  return code == ErrorCode::kUnavailable || code == ErrorCode::kTimeout || code == ErrorCode::kRateLimited;
}

}  // namespace

OutboxSender::OutboxSender(store::Store& store, ReplySender send, const core::Clock& clock,
                           http::MetricsRegistry& metrics, OutboxOptions options)
    : store_(store),
      send_(std::move(send)),
      clock_(clock),
      metrics_(metrics),
      options_(std::move(options)),
      pool_(std::max<std::size_t>(1, options_.store_threads)) {}

OutboxSender::~OutboxSender() {
  stop();
  pool_.join();
}

asio::awaitable<void> OutboxSender::send(store::OutboxMessage message) {
  auto sent = co_await send_(message);
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
  metrics_.counter("outbox_replies_total", "Replies from the outbox, by outcome.", {{"outcome", outcome}}).inc();
}

asio::awaitable<Result<std::size_t>> OutboxSender::run_once() {
  std::function<Result<std::vector<store::OutboxMessage>>()> claim = [this] {
    return store_.claim_outbox(options_.batch, options_.lease);
  };
  auto claimed = co_await http::run_blocking<Result<std::vector<store::OutboxMessage>>>(pool_, std::move(claim),
                                                                                         kStoreCallDeadline);
  if (!claimed) co_return Error(ErrorCode::kTimeout, "claiming outbox replies timed out");
  if (!claimed->ok()) co_return claimed->error();
  // One reply per community per batch (the claim guarantees it), so sending them one after
  // another keeps each community's order; communities could go concurrently, but a reply is one
  // round trip and batches are small.
  for (auto& message : claimed->value()) co_await send(std::move(message));
  co_return claimed->value().size();
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
