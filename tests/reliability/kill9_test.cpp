// H1 (docs/RELIABILITY.md): webhook events survive SIGKILLs, the Jepsen way — a history, a nemesis
// and a checker.
//
// The crash integration (crash_integration.cpp, a real wik::App) runs as a child process on
// loopback, on SQLite in a temporary directory or on a throw-away PostgreSQL database, with a few
// communities installed directly in its store. Several senders (webhook_sender.h) post signed chat
// messages with unique mids at a fixed rate and keep a ledger of every attempt. Meanwhile the
// nemesis kills the integration with SIGKILL every U(1,3) s and restarts it at once. Afterwards the
// senders re-send what was never acknowledged until it is, the test waits until the inbox holds no
// pending or claimed event, and the checker compares the ledger with the rows the handler wrote:
//   lost        acknowledged, never handled          must be 0
//   dup         handled more than once               reported; must be 0 once handler writes
//                                                    commit with the event's completion
// and prints `H1 kill9 <engine>: sent=…, acked=…, indeterminate=…, handled=…, lost=…, dup=…,
// restarts=…`. The nemesis runs 20 s per engine, or $WIK_H1_SECONDS (scripts/reliability.sh).
// The integration's lease is 5 s (webhooks.lease_seconds), so the events a killed life had claimed
// are claimed again 5 s later. Every wait is bounded, and the children are killed whatever the
// outcome. The store, the checker and the senders are shared with H6 and H9 (crash_test_bed.h,
// history_checker.h, webhook_sender.h).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <memory>
#include <random>
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
using wik::testing::IntegrationProcess;
using wik::testing::IsOk;
using wik::testing::LedgerEntry;
using wik::testing::SenderGroup;

constexpr long kDefaultNemesisSeconds = 20;
constexpr const char* kNemesisVariable = "WIK_H1_SECONDS";
constexpr int kSenders = 4;
constexpr std::chrono::milliseconds kSendInterval{40};  // per sender: 100 new events a second in all
// The integration's lease: a killed life's claims are taken again this long after the kill.
constexpr const char* kWebhooksConfig = "[webhooks]\nlease_seconds = 5\n";
// After the nemesis: how long the senders may take to have every event acknowledged, and how long
// the integration may take to handle what its inbox holds (it outlasts the lease many times).
constexpr std::chrono::seconds kAcknowledgeLimit{60};
constexpr std::chrono::seconds kHandleLimit{60};
const std::vector<std::string> kCommunities = {"1861805427438301", "1861805427438302", "1861805427438303",
                                               "1861805427438304"};

std::string report_line(Engine engine, const HistoryReport& report, int restarts) {
  return "H1 kill9 " + engine_name(engine) + ": sent=" + std::to_string(report.sent) +
         ", acked=" + std::to_string(report.acknowledged) + ", indeterminate=" + std::to_string(report.indeterminate) +
         ", handled=" + std::to_string(report.handled) + ", lost=" + std::to_string(report.lost) +
         ", dup=" + std::to_string(report.duplicated) + ", restarts=" + std::to_string(restarts);
}

TEST(H1Checker, CountsLostDuplicatedAndUnexpectedEvents) {
  const std::vector<LedgerEntry> history = {
      {.community_id = "1", .mid = "a", .attempts = 1, .acknowledged = true},                     // handled once
      {.community_id = "1", .mid = "b", .attempts = 2, .indeterminate = 1, .acknowledged = true},  // lost
      {.community_id = "2", .mid = "a", .attempts = 1, .acknowledged = true},                     // handled twice
      {.community_id = "2", .mid = "c", .attempts = 3, .indeterminate = 3},  // never acknowledged, handled
  };
  const std::vector<HandledRow> rows = {{"1", "a"}, {"2", "a"}, {"2", "a"}, {"2", "c"}, {"3", "a"}};
  const HistoryReport report = wik::testing::check_history(history, rows);
  EXPECT_EQ(report.sent, 4u);
  EXPECT_EQ(report.acknowledged, 3u);
  EXPECT_EQ(report.indeterminate, 2u);
  EXPECT_EQ(report.handled, 3u);
  EXPECT_EQ(report.lost, 1u);
  EXPECT_EQ(report.duplicated, 1u);
  EXPECT_EQ(report.unexpected, 1u);  // the mid of community 2, handled for community 3
}

// Kills the integration with SIGKILL every U(1,3) s until `until`, restarting it at once; returns
// the number of restarts, or the error of a life that did not come back.
Result<int> run_nemesis(IntegrationProcess& integration, Clock::time_point until, std::uint32_t seed) {
  std::mt19937 random(seed);
  std::uniform_int_distribution<int> pause_ms(1000, 3000);
  int restarts = 0;
  for (;;) {
    const Clock::time_point kill_at = Clock::now() + std::chrono::milliseconds(pause_ms(random));
    if (kill_at >= until) {
      std::this_thread::sleep_until(until);
      return restarts;
    }
    std::this_thread::sleep_until(kill_at);
    integration.crash();
    Result<std::uint16_t> restarted = integration.start();
    if (!restarted) return restarted.error();
    ++restarts;
  }
}

class Kill9Test : public ::testing::TestWithParam<Engine> {
 protected:
  wik::testing::TempDir dir_;
};

TEST_P(Kill9Test, EveryAcknowledgedEventIsHandledAcrossSigkills) {
  const Engine engine = GetParam();
  const Result<long> nemesis_seconds =
      wik::testing::number_from_environment(kNemesisVariable, kDefaultNemesisSeconds, 5, 3600);  // 5 s: one kill
  ASSERT_THAT(nemesis_seconds, IsOk());
  Result<std::unique_ptr<CrashTestBed>> bed = CrashTestBed::create(engine, dir_, kCommunities);
  ASSERT_THAT(bed, IsOk());

  IntegrationProcess integration(WIK_CRASH_INTEGRATION_PATH, (*bed)->write_config(kWebhooksConfig), dir_.path());
  Result<std::uint16_t> port = integration.start();
  ASSERT_THAT(port, IsOk()) << port.error().detail();

  const std::uint32_t seed = std::random_device{}();
  SCOPED_TRACE("nemesis seed " + std::to_string(seed));
  const Clock::time_point load_until = Clock::now() + std::chrono::seconds(*nemesis_seconds);
  SenderGroup senders(kSenders,
                      {.app_secret = (*bed)->app_secret(), .communities = kCommunities, .interval = kSendInterval},
                      {*port});
  senders.start(load_until, load_until + kAcknowledgeLimit);
  const Result<int> restarts = run_nemesis(integration, load_until, seed);
  ASSERT_THAT(restarts, IsOk()) << restarts.error().detail();
  senders.join();  // the senders drain: every event acknowledged

  const std::vector<LedgerEntry> history = senders.history();
  const auto inbox = (*bed)->wait_until_handled(kHandleLimit);
  ASSERT_THAT(inbox, IsOk());
  integration.crash();

  const Result<std::vector<HandledRow>> rows = (*bed)->handled_rows();
  ASSERT_THAT(rows, IsOk());
  const HistoryReport report = wik::testing::check_history(history, *rows);
  std::printf("%s\n", report_line(engine, report, *restarts).c_str());
  std::fflush(stdout);

  EXPECT_GE(*restarts, 1);
  EXPECT_GT(report.sent, 0u);
  EXPECT_EQ(report.acknowledged, report.sent)
      << "events never acknowledged once the nemesis stopped:" << wik::testing::unacknowledged_events(history)
      << "\nthe latest life's log:\n" << integration.latest_log();
  EXPECT_EQ(inbox->pending, 0) << "events still pending or claimed " << kHandleLimit.count() << " s after the nemesis";
  EXPECT_EQ(inbox->dead_letters, 0) << "dead letters";
  EXPECT_EQ(report.lost, 0u) << "acknowledged events never handled";
  EXPECT_EQ(report.unexpected, 0u) << "handled rows of events nobody sent";
  EXPECT_EQ(report.duplicated, 0u) << "events handled more than once (the handler commits its row with the event)";
}

INSTANTIATE_TEST_SUITE_P(Engines, Kill9Test, ::testing::Values(Engine::kSqlite, Engine::kPostgres),
                         [](const ::testing::TestParamInfo<Engine>& engine) { return engine_name(engine.param); });

}  // namespace
}  // namespace wik
