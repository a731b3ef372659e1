// H7 (docs/RELIABILITY.md): replicas whose clocks disagree by minutes still agree on leases.
//
// Two crash integrations (crash_integration.cpp) share one PostgreSQL database, one with its clock
// ten minutes ahead, the other ten minutes behind (libfaketime, preloaded into each process; the
// machine's clock and the database server's stay true). Their lease is short (2 s) and their
// handler slow (25 ms an event, runs of at most 8), so each holds claims most of the time. Four
// senders post to the replica that is behind; both claim from the shared inbox.
//
// Leases stamped with each replica's own clock would go wrong both ways: the replica ahead would
// find every lease the other holds run out ten minutes early and take its events over while they
// are being handled (the victim's completions are then refused: webhook_stale_completions_total),
// and the leases of the replica ahead would look ten minutes longer to the other, so when it dies
// its events would wait that long. The store stamps and checks leases in the database server's
// time (Store::lease_now_ms), so: no completion is refused, and when the replica ahead is killed
// while it holds claims, the other takes them over once their 2 s lease has run out.
//
// Prints `H7 skew: offsets=+10 min/-10 min, premature reclaims=…, held at kill=…, taken over
// after=… ms (lease 2000 ms), double-handled=…, lost=…`. Load lasts 12 s, or $WIK_H7_SECONDS.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
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

constexpr std::chrono::milliseconds kLease{2000};
constexpr const char* kWebhooksConfig = "[webhooks]\nlease_seconds = 2\ndispatch_per_community = 8\n";
constexpr const char* kHandlerDelay = "--handler-delay-ms=25";
constexpr const char* kAhead = "+600";   // libfaketime's offset in seconds
constexpr const char* kBehind = "-600";
constexpr long kDefaultSeconds = 12;
constexpr const char* kSecondsVariable = "WIK_H7_SECONDS";
constexpr int kSenders = 4;
constexpr std::chrono::milliseconds kSendInterval{50};  // per sender: 80 new events a second in all
constexpr std::chrono::seconds kAcknowledgeLimit{60};
constexpr std::chrono::seconds kHandleLimit{60};
// How long the test may wait for the replica ahead to hold claims it can be killed with, and for
// the other to take them over: far less than the ten minutes a skewed lease would last.
constexpr std::chrono::seconds kClaimSearch{20};
constexpr std::chrono::seconds kTakeoverLimit{60};
const std::vector<std::string> kCommunities = {"1861805427438501", "1861805427438502", "1861805427438503",
                                               "1861805427438504"};

// The environment that runs a replica with its wall clock shifted by `offset` seconds. The
// sanitizers' runtime would refuse to start behind another preloaded library; the preload does not
// touch memory allocation, so that check is turned off.
std::vector<std::string> skewed_clock(const char* offset) {
  return {std::string("LD_PRELOAD=") + WIK_LIBFAKETIME_PATH, std::string("FAKETIME=") + offset,
          "FAKETIME_DONT_FAKE_MONOTONIC=1", "ASAN_OPTIONS=verify_asan_link_order=0"};
}

// Waits until `replica` holds claims and returns them; kUnavailable when it held none for kClaimSearch.
Result<std::vector<InboxClaim>> wait_for_claims(const CrashTestBed& bed, const IntegrationProcess& replica) {
  const Clock::time_point give_up_at = Clock::now() + kClaimSearch;
  while (Clock::now() < give_up_at) {
    Result<std::vector<InboxClaim>> held = bed.claims(replica.pid());
    if (!held || !held->empty()) return held;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return Error(ErrorCode::kUnavailable, "the replica ahead never held a claim");
}

// Returns how long it took from now until every one of `claims` was taken over; kTimeout after
// kTakeoverLimit.
Result<std::chrono::milliseconds> wait_for_takeover(const CrashTestBed& bed, const std::vector<InboxClaim>& claims) {
  const Clock::time_point start = Clock::now();
  while (Clock::now() < start + kTakeoverLimit) {
    Result<std::size_t> taken = bed.taken_over(claims);
    if (!taken) return taken.error();
    if (*taken == claims.size()) {
      return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return Error(ErrorCode::kTimeout, "the dead replica's claims were not taken over");
}

class ClockSkewTest : public ::testing::Test {
 protected:
  wik::testing::TempDir dir_;
};

TEST_F(ClockSkewTest, ReplicasWithSkewedClocksNeitherReclaimEarlyNorWaitForSkewedLeases) {
  const Result<long> seconds = wik::testing::number_from_environment(kSecondsVariable, kDefaultSeconds, 4, 3600);
  ASSERT_THAT(seconds, IsOk());
  ASSERT_TRUE(std::filesystem::exists(WIK_LIBFAKETIME_PATH))
      << WIK_LIBFAKETIME_PATH << " is missing: install Debian's faketime (scripts/setup.sh does)";
  Result<std::unique_ptr<CrashTestBed>> bed = CrashTestBed::create(Engine::kPostgres, dir_, kCommunities);
  ASSERT_THAT(bed, IsOk());
  const std::filesystem::path config = (*bed)->write_config(kWebhooksConfig);

  const auto start_replica = [&](const char* name, const char* offset) {
    const std::filesystem::path logs = dir_.path() / name;
    std::filesystem::create_directories(logs);
    return std::make_unique<IntegrationProcess>(WIK_CRASH_INTEGRATION_PATH, config, logs,
                                                std::vector<std::string>{kHandlerDelay}, skewed_clock(offset));
  };
  std::unique_ptr<IntegrationProcess> ahead = start_replica("ahead", kAhead);
  std::unique_ptr<IntegrationProcess> behind = start_replica("behind", kBehind);
  const Result<std::uint16_t> ahead_port = ahead->start();
  ASSERT_THAT(ahead_port, IsOk()) << ahead_port.error().detail();
  const Result<std::uint16_t> behind_port = behind->start();
  ASSERT_THAT(behind_port, IsOk()) << behind_port.error().detail();

  const Clock::time_point load_until = Clock::now() + std::chrono::seconds(*seconds);
  SenderGroup senders(kSenders,
                      {.app_secret = (*bed)->app_secret(), .communities = kCommunities, .interval = kSendInterval},
                      {*behind_port});
  senders.start(load_until, load_until + kAcknowledgeLimit);

  // Both work side by side for the first half of the load; then the replica ahead dies holding claims.
  std::this_thread::sleep_for(std::chrono::seconds(*seconds) / 2);
  const Result<std::vector<InboxClaim>> held = wait_for_claims(**bed, *ahead);
  ASSERT_THAT(held, IsOk());
  const Result<std::uint64_t> refused_ahead = wik::testing::scrape_metric(*ahead_port, "webhook_stale_completions_total");
  ASSERT_THAT(refused_ahead, IsOk());
  ahead->crash();
  const Result<std::chrono::milliseconds> takeover = wait_for_takeover(**bed, *held);
  senders.join();

  const std::vector<LedgerEntry> history = senders.history();
  const auto inbox = (*bed)->wait_until_handled(kHandleLimit);
  ASSERT_THAT(inbox, IsOk());
  const Result<std::uint64_t> refused_behind =
      wik::testing::scrape_metric(*behind_port, "webhook_stale_completions_total");
  ASSERT_THAT(refused_behind, IsOk());
  behind->crash();

  const Result<std::vector<HandledRow>> rows = (*bed)->handled_rows();
  ASSERT_THAT(rows, IsOk());
  const HistoryReport report = wik::testing::check_history(history, *rows);
  const std::uint64_t premature = *refused_ahead + *refused_behind;
  const std::string taken_over_after = takeover ? std::to_string(takeover->count()) + " ms" : "never";
  std::printf("H7 skew: offsets=+10 min/-10 min, premature reclaims=%llu, held at kill=%zu, taken over after=%s "
              "(lease %lld ms), double-handled=%zu, lost=%zu (events=%zu)\n",
              static_cast<unsigned long long>(premature), held->size(),
              taken_over_after.c_str(),
              static_cast<long long>(kLease.count()), report.duplicated, report.lost, report.sent);
  std::fflush(stdout);

  EXPECT_EQ(premature, 0u) << "a replica took over events whose lease had not run out (their holder's "
                              "completions were refused)";
  EXPECT_THAT(takeover, IsOk()) << "the events the dead replica ahead held waited for its skewed lease";
  EXPECT_EQ(report.acknowledged, report.sent) << "events never acknowledged:"
                                              << wik::testing::unacknowledged_events(history);
  EXPECT_EQ(inbox->pending, 0) << "events still pending or claimed " << kHandleLimit.count() << " s after the load";
  EXPECT_EQ(inbox->dead_letters, 0) << "dead letters";
  EXPECT_EQ(report.lost, 0u) << "acknowledged events never handled";
  EXPECT_EQ(report.unexpected, 0u) << "handled rows of events nobody sent";
  EXPECT_EQ(report.duplicated, 0u) << "events handled more than once";
}

}  // namespace
}  // namespace wik
