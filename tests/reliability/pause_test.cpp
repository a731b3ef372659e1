// H6 (docs/RELIABILITY.md): a replica paused past its lease never handles an event twice.
//
// Two crash integrations (crash_integration.cpp) — two replicas — share one store: a SQLite file
// (WAL; every transaction takes the file's write lock, so processes on one machine may share it)
// or a PostgreSQL database. Their lease is short (2 s) and their handler slow (25 ms an event, runs
// of at most 8 events), so each holds claims most of the time. Four senders post to both. The
// nemesis pauses one replica at a time with SIGSTOP while it holds claims (each in turn when it
// does), for three leases, and then lets it go on with SIGCONT. Meanwhile the other replica claims the paused one's events again
// once their lease has run out and handles them; on SIGCONT the paused replica's completions carry
// a claim token that is no longer the event's, and the store refuses them
// (webhook_stale_completions_total on its /metrics). Then the senders drain, the test waits until
// the inbox is empty, and the checker (history_checker.h) requires lost=0 and dup=0: the handler's
// row commits with its event's completion, so a refused completion leaves no row.
//
// A pause that lands while the replica has a store transaction open (SQLite's write lock, or a
// PostgreSQL transaction between statements) would stall the other replica too, which is another
// fault: the nemesis resumes such a replica at once and pauses it again a little later
// (CrashTestBed::transaction_left_open).
//
// Prints `H6 pause <engine>: pauses=…, held=…, reclaimed=…, stale commits rejected=…,
// double-handled=…, lost=…`. Three pauses per engine, or $WIK_H6_PAUSES.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <span>
#include <thread>
#include <vector>

#include "reliability/crash_test_bed.h"
#include "reliability/history_checker.h"
#include "reliability/integration_process.h"
#include "reliability/webhook_sender.h"
#include "support/result_matchers.h"
#include "support/temp_dir.h"

namespace wik {
namespace {

using Clock = std::chrono::steady_clock;
using wik::testing::CrashTestBed;
using wik::testing::Engine;
using wik::testing::HandledRow;
using wik::testing::HistoryReport;
using wik::testing::InboxClaim;
using wik::testing::IntegrationProcess;
using wik::testing::IsOk;
using wik::testing::LedgerEntry;
using wik::testing::SenderGroup;

constexpr std::chrono::seconds kLease{2};
constexpr const char* kWebhooksConfig = "[webhooks]\nlease_seconds = 2\ndispatch_per_community = 8\n";
constexpr const char* kHandlerDelay = "--handler-delay-ms=25";
constexpr std::chrono::seconds kPauseLength = 3 * kLease;
constexpr std::chrono::seconds kBetweenPauses{2};
constexpr long kDefaultPauses = 3;
constexpr const char* kPausesVariable = "WIK_H6_PAUSES";
// How long the nemesis lets a paused replica settle (a statement it had sent finishes on the
// PostgreSQL server), and how far apart its two looks for a transaction left open are (the running
// replica's transactions take a few milliseconds).
constexpr std::chrono::milliseconds kTransactionGrace{250};
// How long the nemesis may look for a moment to pause a replica in.
constexpr std::chrono::seconds kPauseSearch{30};
constexpr int kSenders = 4;
constexpr std::chrono::milliseconds kSendInterval{50};  // per sender: 80 new events a second in all
constexpr std::chrono::seconds kAcknowledgeLimit{60};
constexpr std::chrono::seconds kHandleLimit{60};
const std::vector<std::string> kCommunities = {"1861805427438401", "1861805427438402", "1861805427438403",
                                               "1861805427438404"};

// What the nemesis saw.
struct PauseFigures {
  int pauses = 0;
  std::size_t held = 0;       // events the paused replicas held claims on, over all pauses
  std::size_t reclaimed = 0;  // of those, events the other replica claimed again during the pause
  int retried = 0;            // pause attempts abandoned: no claim held, or a transaction open
};

// Pauses one of `replicas` for kPauseLength at a moment it holds claims and no open store
// transaction — `replicas[preferred]` when it does, else the other — and adds what it saw to
// `figures`. kUnavailable when no such moment came within kPauseSearch.
Result<void> pause_once(const CrashTestBed& bed, std::span<const std::unique_ptr<IntegrationProcess>> replicas,
                        std::size_t preferred, PauseFigures& figures) {
  const Clock::time_point give_up_at = Clock::now() + kPauseSearch;
  while (Clock::now() < give_up_at) {
    IntegrationProcess* victim = nullptr;
    for (std::size_t offset = 0; offset < replicas.size() && victim == nullptr; ++offset) {
      IntegrationProcess& candidate = *replicas[(preferred + offset) % replicas.size()];
      Result<std::vector<InboxClaim>> holds = bed.claims(candidate.pid());
      if (!holds) return holds.error();
      if (!holds->empty()) victim = &candidate;
    }
    if (victim == nullptr) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      continue;
    }
    victim->pause();
    const Clock::time_point paused_at = Clock::now();
    std::this_thread::sleep_for(kTransactionGrace);
    Result<bool> open = bed.transaction_left_open(victim->pid(), kTransactionGrace);
    if (!open) {
      victim->resume();
      return open.error();
    }
    // Read only once no lock is left behind: on SQLite the reading would wait for it.
    Result<std::vector<InboxClaim>> held = *open ? std::vector<InboxClaim>() : bed.claims(victim->pid());
    if (!held) {
      victim->resume();
      return held.error();
    }
    if (held->empty()) {
      victim->resume();
      ++figures.retried;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      continue;
    }
    std::this_thread::sleep_until(paused_at + kPauseLength);
    Result<std::size_t> taken = bed.taken_over(*held);
    victim->resume();
    if (!taken) return taken.error();
    ++figures.pauses;
    figures.held += held->size();
    figures.reclaimed += *taken;
    return ok_result();
  }
  return Error(ErrorCode::kUnavailable, "no replica held claims outside a store transaction");
}

class PauseTest : public ::testing::TestWithParam<Engine> {
 protected:
  wik::testing::TempDir dir_;
};

TEST_P(PauseTest, APausedReplicasEventsAreHandledOnceByTheOther) {
  const Engine engine = GetParam();
  const Result<long> pauses = wik::testing::number_from_environment(kPausesVariable, kDefaultPauses, 1, 1000);
  ASSERT_THAT(pauses, IsOk());
  Result<std::unique_ptr<CrashTestBed>> bed = CrashTestBed::create(engine, dir_, kCommunities);
  ASSERT_THAT(bed, IsOk());
  const std::filesystem::path config = (*bed)->write_config(kWebhooksConfig);

  std::array<std::unique_ptr<IntegrationProcess>, 2> replicas;
  std::vector<std::uint16_t> ports;
  for (std::size_t i = 0; i < replicas.size(); ++i) {
    const std::filesystem::path logs = dir_.path() / ("replica-" + std::to_string(i));
    std::filesystem::create_directories(logs);
    replicas[i] = std::make_unique<IntegrationProcess>(WIK_CRASH_INTEGRATION_PATH, config, logs,
                                                       std::vector<std::string>{kHandlerDelay});
    Result<std::uint16_t> port = replicas[i]->start();
    ASSERT_THAT(port, IsOk()) << port.error().detail();
    ports.push_back(*port);
  }

  const Clock::time_point load_until = Clock::now() + (*pauses) * (kPauseLength + kBetweenPauses + std::chrono::seconds(1));
  SenderGroup senders(kSenders,
                      {.app_secret = (*bed)->app_secret(), .communities = kCommunities, .interval = kSendInterval},
                      ports);
  senders.start(load_until, load_until + kAcknowledgeLimit);
  PauseFigures figures;
  for (long pause = 0; pause < *pauses; ++pause) {
    std::this_thread::sleep_for(kBetweenPauses);
    const Result<void> paused = pause_once(**bed, replicas, static_cast<std::size_t>(pause) % replicas.size(), figures);
    ASSERT_THAT(paused, IsOk());
  }
  senders.join();

  const std::vector<LedgerEntry> history = senders.history();
  const auto inbox = (*bed)->wait_until_handled(kHandleLimit);
  ASSERT_THAT(inbox, IsOk());
  std::uint64_t stale = 0;
  for (const std::uint16_t port : ports) {
    Result<std::uint64_t> refused = wik::testing::scrape_metric(port, "webhook_stale_completions_total");
    ASSERT_THAT(refused, IsOk());
    stale += *refused;
  }
  for (const auto& replica : replicas) replica->crash();

  const Result<std::vector<HandledRow>> rows = (*bed)->handled_rows();
  ASSERT_THAT(rows, IsOk());
  const HistoryReport report = wik::testing::check_history(history, *rows);
  std::printf("H6 pause %s: pauses=%d, held=%zu, reclaimed=%zu, stale commits rejected=%llu, double-handled=%zu, "
              "lost=%zu (events=%zu, pause attempts retried=%d)\n",
              engine_name(engine).c_str(), figures.pauses, figures.held, figures.reclaimed,
              static_cast<unsigned long long>(stale), report.duplicated, report.lost, report.sent, figures.retried);
  std::fflush(stdout);

  EXPECT_EQ(figures.pauses, *pauses);
  EXPECT_GT(figures.reclaimed, 0u) << "no paused replica's claim was taken over: the test exercised nothing";
  EXPECT_EQ(report.acknowledged, report.sent) << "events never acknowledged:"
                                              << wik::testing::unacknowledged_events(history);
  EXPECT_EQ(inbox->pending, 0) << "events still pending or claimed " << kHandleLimit.count() << " s after the load";
  EXPECT_EQ(inbox->dead_letters, 0) << "dead letters";
  EXPECT_EQ(report.lost, 0u) << "acknowledged events never handled";
  EXPECT_EQ(report.unexpected, 0u) << "handled rows of events nobody sent";
  EXPECT_EQ(report.duplicated, 0u) << "events handled more than once: a stale completion committed";
}

INSTANTIATE_TEST_SUITE_P(Engines, PauseTest,
                         ::testing::Values(Engine::kSqlite, Engine::kPostgres),
                         [](const ::testing::TestParamInfo<Engine>& engine) { return engine_name(engine.param); });

}  // namespace
}  // namespace wik
