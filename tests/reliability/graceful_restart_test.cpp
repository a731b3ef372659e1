// H9 (docs/RELIABILITY.md): a rolling restart under load answers nothing 5xx and loses nothing.
//
// The crash integration (crash_integration.cpp) serves four senders (webhook_sender.h) posting to
// its one port, with a slow handler (10 ms an event) so that a stop finds handlers running. Every
// U(1, 2.5) s the test sends it SIGTERM, waits for it to exit, checks what it left in the inbox, and
// starts a new life on the same port — a rolling restart of one replica, as a deploy does. Each
// stop must exit 0 within kStopDeadline and leave no claim behind (its dispatcher finishes or gives
// back the batch in hand); no answer may be a 5xx, so requests in flight at the SIGTERM finish,
// and a request between two lives finds the port closed (refused) rather than an error. After the
// load the senders drain, and the checker (history_checker.h) requires lost=0 and dup=0.
//
// Prints `H9 rolling restart <engine>: restarts=…, requests=…, 2xx=…, 5xx=…, refused=…,
// unanswered=…, lost=…, dup=…, claims left=…, longest stop=… ms`. The load runs 12 s per engine,
// or $WIK_H9_SECONDS.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
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

constexpr const char* kWebhooksConfig = "[webhooks]\nlease_seconds = 5\ndispatch_per_community = 8\n";
constexpr const char* kHandlerDelay = "--handler-delay-ms=10";
// A stop's deadline: the server's drain and the dispatcher's batch share 10 s (App::stop), plus the
// teardown.
constexpr std::chrono::seconds kStopDeadline{15};
constexpr long kDefaultLoadSeconds = 12;
constexpr const char* kLoadVariable = "WIK_H9_SECONDS";
constexpr int kSenders = 4;
constexpr std::chrono::milliseconds kSendInterval{40};  // per sender: 100 new events a second in all
constexpr std::chrono::seconds kAcknowledgeLimit{60};
constexpr std::chrono::seconds kHandleLimit{60};
const std::vector<std::string> kCommunities = {"1861805427438501", "1861805427438502", "1861805427438503",
                                               "1861805427438504"};

// What the restarts came to.
struct RestartFigures {
  int restarts = 0;
  int clean_exits = 0;          // stops that exited 0 within kStopDeadline
  std::size_t claims_left = 0;  // inbox claims a stopped life left behind, over all stops
  std::chrono::milliseconds longest_stop{0};
};

// Stops the running life with SIGTERM, records how it went, and checks the inbox it left.
Result<void> stop_life(const CrashTestBed& bed, IntegrationProcess& integration, RestartFigures& figures) {
  const Clock::time_point begun = Clock::now();
  Result<int> exited = integration.terminate(kStopDeadline);
  if (!exited) return exited.error();
  figures.longest_stop =
      std::max(figures.longest_stop, std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - begun));
  if (*exited == 0) ++figures.clean_exits;
  Result<std::vector<wik::testing::InboxClaim>> left = bed.claims();
  if (!left) return left.error();
  figures.claims_left += left->size();
  return ok_result();
}

// Restarts the integration every U(1, 2.5) s until `until`: SIGTERM, then a new life on its port.
Result<void> roll(const CrashTestBed& bed, IntegrationProcess& integration, Clock::time_point until,
                  std::uint32_t seed, RestartFigures& figures) {
  std::mt19937 random(seed);
  std::uniform_int_distribution<int> interval_ms(1000, 2500);
  for (;;) {
    const Clock::time_point stop_at = Clock::now() + std::chrono::milliseconds(interval_ms(random));
    if (stop_at >= until) {
      std::this_thread::sleep_until(until);
      return ok_result();
    }
    std::this_thread::sleep_until(stop_at);
    if (Result<void> stopped = stop_life(bed, integration, figures); !stopped) return stopped.error();
    Result<std::uint16_t> restarted = integration.start();
    if (!restarted) return restarted.error();
    ++figures.restarts;
  }
}

class GracefulRestartTest : public ::testing::TestWithParam<Engine> {
 protected:
  wik::testing::TempDir dir_;
};

TEST_P(GracefulRestartTest, RollingRestartsAnswerNo5xxAndLoseNothing) {
  const Engine engine = GetParam();
  const Result<long> load_seconds = wik::testing::number_from_environment(kLoadVariable, kDefaultLoadSeconds, 3, 3600);
  ASSERT_THAT(load_seconds, IsOk());
  Result<std::unique_ptr<CrashTestBed>> bed = CrashTestBed::create(engine, dir_, kCommunities);
  ASSERT_THAT(bed, IsOk());

  IntegrationProcess integration(WIK_CRASH_INTEGRATION_PATH, (*bed)->write_config(kWebhooksConfig), dir_.path(),
                                 {kHandlerDelay});
  Result<std::uint16_t> port = integration.start();
  ASSERT_THAT(port, IsOk()) << port.error().detail();

  const std::uint32_t seed = std::random_device{}();
  SCOPED_TRACE("restart seed " + std::to_string(seed));
  const Clock::time_point load_until = Clock::now() + std::chrono::seconds(*load_seconds);
  SenderGroup senders(kSenders,
                      {.app_secret = (*bed)->app_secret(), .communities = kCommunities, .interval = kSendInterval},
                      {*port});
  senders.start(load_until, load_until + kAcknowledgeLimit);
  RestartFigures figures;
  const Result<void> rolled = roll(**bed, integration, load_until, seed, figures);
  ASSERT_THAT(rolled, IsOk()) << rolled.error().detail();
  senders.join();

  const std::vector<LedgerEntry> history = senders.history();
  const auto inbox = (*bed)->wait_until_handled(kHandleLimit);
  ASSERT_THAT(inbox, IsOk());
  const Result<void> last_stop = stop_life(**bed, integration, figures);
  ASSERT_THAT(last_stop, IsOk()) << last_stop.error().detail();

  const Result<std::vector<HandledRow>> rows = (*bed)->handled_rows();
  ASSERT_THAT(rows, IsOk());
  const HistoryReport report = wik::testing::check_history(history, *rows);
  const wik::testing::AttemptCounts attempts = wik::testing::count_attempts(history);
  std::printf("H9 rolling restart %s: restarts=%d, requests=%zu, 2xx=%zu, 5xx=%zu, refused=%zu, unanswered=%zu, "
              "lost=%zu, dup=%zu, claims left=%zu, longest stop=%lld ms\n",
              engine_name(engine).c_str(), figures.restarts, attempts.requests, attempts.acknowledged,
              attempts.server_errors, attempts.refused, attempts.unanswered, report.lost, report.duplicated,
              figures.claims_left, static_cast<long long>(figures.longest_stop.count()));
  std::fflush(stdout);

  EXPECT_GE(figures.restarts, 1);
  EXPECT_EQ(figures.clean_exits, figures.restarts + 1) << "a stop did not exit 0";
  EXPECT_EQ(figures.claims_left, 0u) << "a stopped life left claimed events behind (they wait for their lease)";
  EXPECT_EQ(attempts.server_errors, 0u) << "5xx answers";
  EXPECT_EQ(attempts.rejected, 0u) << "answers other than 2xx";
  EXPECT_EQ(report.acknowledged, report.sent) << "events never acknowledged:"
                                              << wik::testing::unacknowledged_events(history);
  EXPECT_EQ(inbox->pending, 0) << "events still pending or claimed " << kHandleLimit.count() << " s after the load";
  EXPECT_EQ(inbox->dead_letters, 0) << "dead letters";
  EXPECT_EQ(report.lost, 0u) << "acknowledged events never handled";
  EXPECT_EQ(report.unexpected, 0u) << "handled rows of events nobody sent";
  EXPECT_EQ(report.duplicated, 0u) << "events handled more than once";
}

INSTANTIATE_TEST_SUITE_P(Engines, GracefulRestartTest, ::testing::Values(Engine::kSqlite, Engine::kPostgres),
                         [](const ::testing::TestParamInfo<Engine>& engine) { return engine_name(engine.param); });

}  // namespace
}  // namespace wik
