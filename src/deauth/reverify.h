// InstallSweep: re-verifies every install from time to time and catches an uninstall whose
// deauthorize callback was missed (issue 6; docs/deauthorization.md).
//
// A sweep lists the installations and calls GET /community?fields=id,name with each active one's
// token, one install at a time and `pacing` apart, so a sweep over many installs never bursts (the
// Graph client's rate governor applies on top, per community). The answer decides:
//   - the token is dead (kUnauthenticated: graph error 190 or 102, or HTTP 401) →
//     Deauthorizer::revoke(), the path the deauthorize callback takes: the install is revoked, its
//     purge requested, the on_revoked listener told, and the audit trail says the sweep found it.
//     An installation made after the check (a reinstall racing the sweep) is kept;
//   - a transient failure (5xx, timeout, lost connection, throttling) or any other error → the
//     installation is unchanged; it is counted and logged, the reason becomes the community's last
//     Graph error (CommunityHealth, shown on the admin pages), and the next sweep asks again;
//   - an answer → the token's checked time is recorded in the community's health, nothing else
//     changes (a renamed community keeps the name stored at install: the store has no way to
//     rename without reinstalling).
// A revoked installation still listed (its purge not done) gets its purge requested again, which
// does nothing when the job exists and heals a crash between a revocation and its purge request.
//
// Several processes may sweep one store at once: revoking and requesting a purge are idempotent (the
// later one finds the installation revoked and the open purge job). Sweeps repeat `interval`
// (± jitter) after one another ends, the first one at a random time within the first interval, so
// replicas started together spread out and frequent restarts do not sweep each time. Outcomes are counted in
// the metrics registry as install_reverify_total{outcome}. Tokens appear in no log line or error.
//
// Thread-safe. Store calls run on a thread pool of the sweep's own, never on the loop's executor.
// Shut down in this order: stop(), stop the loop executor's io_context, destroy the sweep, and only
// then destroy that io_context. Borrows the store, Graph client, deauthorizer, random source and
// metrics registry, which must outlive it.
#pragma once

#include <wik/result.h>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "core/secure_random.h"
#include "deauth/deauthorization.h"
#include "graph/graph_client.h"
#include "http/server/metrics.h"
#include "store/store.h"

namespace wik::deauth {

struct SweepOptions {
  // From the end of one sweep to the start of the next. REQUIRES: > 0.
  std::chrono::milliseconds interval = std::chrono::hours(6);
  // Each interval is stretched or shortened by up to this fraction, at random. REQUIRES: 0 <= jitter < 1.
  double jitter = 0.1;
  // Between two installs' Graph calls within one sweep. REQUIRES: >= 0.
  std::chrono::milliseconds pacing = std::chrono::seconds(1);
};

// What one sweep found, per installation listed.
struct SweepReport {
  std::size_t healthy = 0;          // the token works
  std::size_t revoked = 0;          // the token is dead: revoked and purge requested by this sweep
  std::size_t already_revoked = 0;  // revoked already (earlier, or by another process): purge requested
  std::size_t reinstalled = 0;      // reinstalled while it was checked: kept as it is
  std::size_t transient = 0;        // 5xx, timeout, lost connection, throttling: unchanged
  std::size_t failed = 0;           // any other Graph or store error: unchanged
};

class InstallSweep {
 public:
  InstallSweep(store::Store& store, graph::GraphClient& graph, Deauthorizer& deauthorizer, core::RandomSource& random,
               http::MetricsRegistry& metrics, SweepOptions options = {});
  ~InstallSweep();
  InstallSweep(const InstallSweep&) = delete;
  InstallSweep& operator=(const InstallSweep&) = delete;

  // Sweeps every installation once (see above). The loop calls this; tests and operators may too.
  // Fails only when the installations cannot be listed; every other failure is counted in the report.
  boost::asio::awaitable<Result<SweepReport>> run_once();
  // Starts sweeping on `executor`. REQUIRES: called once; the executor is a single-threaded
  // io_context's (or a strand) and its context outlives the sweep.
  void start(const boost::asio::any_io_executor& executor);
  // Stops sweeping: the sweep under way ends after its current install. Safe to call more than once.
  void stop();

 private:
  // One installation's outcome: a field of SweepReport each.
  enum class Outcome { kHealthy, kRevoked, kAlreadyRevoked, kReinstalled, kTransient, kFailed };

  static boost::asio::awaitable<void> loop(InstallSweep* self);
  // Checks one installation listed by run_once().
  boost::asio::awaitable<Outcome> check(store::InstallationSummary listed);
  // Records on the pool what the token check found (the admin pages show it): the token works
  // when `graph_error` is nullopt, else the call failed for that reason; a working token's answer
  // gives the community's current name (a renamed community). A failure is only logged.
  boost::asio::awaitable<void> record_health(std::string community_id, std::optional<std::string> graph_error,
                                             std::optional<std::string> community_name = std::nullopt);
  // Runs revoke() for `community_id` on the pool and says what it did.
  boost::asio::awaitable<Outcome> revoke(std::string community_id, UninstallNotice notice);
  // Returns `base` stretched or shortened by up to options_.jitter, at random.
  std::chrono::milliseconds jittered(std::chrono::milliseconds base);
  void count(Outcome outcome, SweepReport& report);

  store::Store& store_;
  graph::GraphClient& graph_;
  Deauthorizer& deauthorizer_;
  core::RandomSource& random_;
  http::MetricsRegistry& metrics_;
  const SweepOptions options_;
  boost::asio::thread_pool pool_{1};
  std::atomic<bool> stopping_{false};
  std::mutex timer_mutex_;
  // The loop's timer; stop() moves its expiry to now. Shared with the posted wake-up so a late one
  // never touches a destroyed sweep. Set by start(), guarded by timer_mutex_.
  std::shared_ptr<boost::asio::steady_timer> timer_;
};

}  // namespace wik::deauth
