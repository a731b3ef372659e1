#include "deauth/reverify.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/printable.h"
#include "http/offload.h"

namespace wik::deauth {
namespace {

namespace asio = boost::asio;
using std::chrono::milliseconds;

// Store calls wait at most this long for the pool (they are short; the bound only keeps a wedged
// database from freezing the loop forever).
constexpr std::chrono::minutes kStoreCallDeadline{1};
// Installation times are kept to the millisecond: one made after the check is at least this much newer.
constexpr milliseconds kTimeResolution{1};

// Returns a duration drawn uniformly from [0, ceiling].
milliseconds random_up_to(core::RandomSource& random, milliseconds ceiling) {
  if (ceiling.count() <= 0) return milliseconds(0);
  const auto bytes = random.bytes(sizeof(std::uint64_t));
  std::uint64_t draw = 0;
  std::memcpy(&draw, bytes.data(), std::min(bytes.size(), sizeof draw));
  return milliseconds(static_cast<std::int64_t>(draw % (static_cast<std::uint64_t>(ceiling.count()) + 1)));
}

}  // namespace

InstallSweep::InstallSweep(store::Store& store, graph::GraphClient& graph, Deauthorizer& deauthorizer,
                           core::RandomSource& random, http::MetricsRegistry& metrics, SweepOptions options)
    : store_(store),
      graph_(graph),
      deauthorizer_(deauthorizer),
      random_(random),
      metrics_(metrics),
      options_(options) {
  if (options_.interval.count() <= 0 || options_.pacing.count() < 0 || options_.jitter < 0 || options_.jitter >= 1) {
    fatal("InstallSweep: interval must be > 0, pacing >= 0 and jitter in [0, 1)");
  }
}

InstallSweep::~InstallSweep() {
  stop();
  pool_.join();
}

milliseconds InstallSweep::jittered(milliseconds base) {
  const auto spread = milliseconds(static_cast<std::int64_t>(static_cast<double>(base.count()) * options_.jitter));
  return base - spread + random_up_to(random_, 2 * spread);
}

void InstallSweep::count(Outcome outcome, SweepReport& report) {
  struct Tally {
    std::size_t SweepReport::*field;
    const char* label;
  };
  static constexpr Tally kTallies[] = {  // in the order of Outcome
      {&SweepReport::healthy, "healthy"},
      {&SweepReport::revoked, "revoked"},
      {&SweepReport::already_revoked, "already_revoked"},
      {&SweepReport::reinstalled, "reinstalled"},
      {&SweepReport::transient, "transient"},
      {&SweepReport::failed, "failed"},
  };
  const Tally& tally = kTallies[static_cast<std::size_t>(outcome)];
  ++(report.*tally.field);
  metrics_.counter("install_reverify_total", "Installations re-verified by the sweep, by outcome.",
                   {{"outcome", tally.label}})
      .inc();
}

asio::awaitable<InstallSweep::Outcome> InstallSweep::revoke(std::string community_id, UninstallNotice notice) {
  std::function<Result<DeauthOutcome>()> act = [this, community_id, notice] {
    return deauthorizer_.revoke(community_id, notice);
  };
  auto done = co_await http::run_blocking<Result<DeauthOutcome>>(pool_, std::move(act), kStoreCallDeadline);
  if (!done || !done->ok()) {
    spdlog::error("reverify: could not revoke the installation of community {}: {}", community_id,
                  done ? done->error().reason() : "the store did not answer in time");
    co_return Outcome::kFailed;
  }
  switch ((*done)->result) {
    case DeauthResult::kRevoked:
      spdlog::warn("reverify: community {} uninstalled the app without a deauthorization reaching us ({}); revoked, "
                   "purge requested",
                   community_id, notice.source);
      co_return Outcome::kRevoked;
    case DeauthResult::kAlreadyRevoked: co_return Outcome::kAlreadyRevoked;
    case DeauthResult::kStaleIgnored: co_return Outcome::kReinstalled;
  }
  co_return Outcome::kFailed;
}

asio::awaitable<InstallSweep::Outcome> InstallSweep::check(store::InstallationSummary listed) {
  std::function<Result<store::Installation>()> read = [this, id = listed.community_id]() -> Result<store::Installation> {
    auto scope = store_.community(id);
    if (!scope.ok()) return scope.error();
    return scope->installation();
  };
  auto installation = co_await http::run_blocking<Result<store::Installation>>(pool_, std::move(read), kStoreCallDeadline);
  if (installation && !installation->ok() && installation->error().code() == ErrorCode::kNotFound) {
    co_return Outcome::kAlreadyRevoked;  // purged since it was listed
  }
  if (!installation || !installation->ok()) {
    spdlog::error("reverify: could not read the installation of community {}: {}", listed.community_id,
                  installation ? installation->error().reason() : "the store did not answer in time");
    co_return Outcome::kFailed;
  }
  // What follows concerns this installation only: a reinstall meanwhile is newer, and is kept.
  const auto checked_before = (*installation)->installed_at + kTimeResolution;
  // A revoked installation still listed waits for its purge: request it again (a no-op when the
  // job exists).
  if ((*installation)->state != store::InstallState::kActive) {
    UninstallNotice notice{.source = "re-verify sweep: revoked installation", .installed_before = checked_before};
    co_return co_await revoke(std::move(listed.community_id), std::move(notice));
  }

  const graph::InstallAuth install{.community_id = listed.community_id,
                                   .token = std::move((*installation)->access_token)};
  graph::GraphRequest request{.path = "/community", .query = {{"fields", "id,name"}}};
  auto answer = co_await graph_.call(install, std::move(request));
  if (answer.ok()) {
    std::optional<std::string> no_error;
    std::optional<std::string> name;
    if (const auto* object = answer->if_object()) {
      if (const auto* value = object->if_contains("name"); value && value->is_string()) name = std::string(value->as_string());
    }
    co_await record_health(listed.community_id, std::move(no_error), std::move(name));
    co_return Outcome::kHealthy;
  }

  const Error& error = answer.error();
  if (error.code() == ErrorCode::kUnauthenticated) {
    UninstallNotice notice{.source = "re-verify sweep: " + error.reason(), .installed_before = checked_before};
    co_return co_await revoke(std::move(listed.community_id), std::move(notice));
  }
  std::optional<std::string> reason = error.reason();
  co_await record_health(listed.community_id, std::move(reason));
  switch (error.code()) {
    case ErrorCode::kUnavailable:
    case ErrorCode::kTimeout:
    case ErrorCode::kRateLimited:
      spdlog::info("reverify: community {} not checked this time: {}", listed.community_id, error.reason());
      co_return Outcome::kTransient;
    default:
      spdlog::warn("reverify: GET /community for community {} failed: {}", listed.community_id, error.reason());
      co_return Outcome::kFailed;
  }
}

asio::awaitable<void> InstallSweep::record_health(std::string community_id, std::optional<std::string> graph_error,
                                                  std::optional<std::string> community_name) {
  std::function<Result<void>()> record = [this, community_id, graph_error, community_name]() -> Result<void> {
    auto scope = store_.community(community_id);
    if (!scope.ok()) return scope.error();
    if (graph_error) return scope->record_graph_error(*graph_error);
    Result<void> recorded = scope->record_token_valid(community_name);
    if (recorded.ok() || recorded.error().code() != ErrorCode::kInvalidArgument) return recorded;
    spdlog::warn("reverify: community {} has a name unfit to keep ({}); the stored one stays", community_id,
                 core::printable(community_name.value_or("")));
    return scope->record_token_valid();
  };
  auto recorded = co_await http::run_blocking<Result<void>>(pool_, std::move(record), kStoreCallDeadline);
  if (!recorded || !recorded->ok()) {
    spdlog::warn("reverify: could not record the health of community {}: {}", community_id,
                 recorded ? recorded->error().reason() : "the store did not answer in time");
  }
}

asio::awaitable<Result<SweepReport>> InstallSweep::run_once() {
  std::function<Result<std::vector<store::InstallationSummary>>()> list = [this] { return store_.list_installations(); };
  auto listed = co_await http::run_blocking<Result<std::vector<store::InstallationSummary>>>(pool_, std::move(list),
                                                                                             kStoreCallDeadline);
  if (!listed) co_return Error(ErrorCode::kTimeout, "listing the installations timed out");
  if (!listed->ok()) co_return listed->error();

  SweepReport report;
  asio::steady_timer pace(co_await asio::this_coro::executor);
  bool called = false;  // whether a Graph call was made yet, which the next one must keep its distance from
  for (store::InstallationSummary& installation : listed->value()) {
    if (stopping_) break;
    const bool active = installation.state == store::InstallState::kActive;
    if (active && called && options_.pacing.count() > 0) {
      pace.expires_after(options_.pacing);
      co_await pace.async_wait(asio::as_tuple(asio::use_awaitable));
    }
    called = called || active;
    const Outcome outcome = co_await check(std::move(installation));
    count(outcome, report);
  }
  spdlog::info("reverify: sweep done: {} healthy, {} revoked, {} already revoked, {} reinstalled, {} transient, "
               "{} failed",
               report.healthy, report.revoked, report.already_revoked, report.reinstalled, report.transient,
               report.failed);
  co_return report;
}

asio::awaitable<void> InstallSweep::loop(InstallSweep* self) {
  std::shared_ptr<asio::steady_timer> timer;
  {
    const std::lock_guard lock(self->timer_mutex_);
    timer = self->timer_;
  }
  milliseconds wait = random_up_to(self->random_, self->options_.interval);  // the first sweep
  while (!self->stopping_) {
    timer->expires_after(wait);
    co_await timer->async_wait(asio::as_tuple(asio::use_awaitable));
    if (self->stopping_) break;
    auto report = co_await self->run_once();
    if (!report.ok()) spdlog::error("reverify: the sweep failed: {}", report.error().reason());
    wait = self->jittered(self->options_.interval);
  }
}

void InstallSweep::start(const asio::any_io_executor& executor) {
  {
    const std::lock_guard lock(timer_mutex_);
    timer_ = std::make_shared<asio::steady_timer>(executor);
  }
  asio::co_spawn(executor, loop(this), [](std::exception_ptr e) {
    if (e) spdlog::critical("reverify: the sweep loop stopped on an exception");
  });
}

void InstallSweep::stop() {
  stopping_ = true;
  std::shared_ptr<asio::steady_timer> timer;
  {
    const std::lock_guard lock(timer_mutex_);
    timer = timer_;
  }
  if (!timer) return;
  // Timers are not thread-safe: the wake-up runs on the timer's own executor.
  asio::post(timer->get_executor(), [timer] { timer->expires_at(asio::steady_timer::time_point::min()); });
}

}  // namespace wik::deauth
