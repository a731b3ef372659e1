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
// Every wait is bounded, and the children are killed whatever the outcome.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <ostream>
#include <memory>
#include <random>
#include <thread>
#include <utility>
#include <vector>

#include "core/clock.h"
#include "core/key_ring.h"
#include "reliability/integration_process.h"
#include "reliability/webhook_sender.h"
#include "store/postgres/postgres_database.h"
#include "store/sqlite/sqlite_database.h"
#include "store/store.h"
#include "support/postgres_cluster.h"
#include "support/result_matchers.h"
#include "support/temp_dir.h"

namespace wik {
namespace {

using Clock = std::chrono::steady_clock;
using wik::testing::IntegrationProcess;
using wik::testing::IsOk;
using wik::testing::LedgerEntry;
using wik::testing::WebhookSender;

constexpr const char* kAppSecret = "h1-kill9-app-secret-0123456789abcdef";
constexpr std::chrono::seconds kDefaultNemesis{20};
constexpr const char* kNemesisVariable = "WIK_H1_SECONDS";
constexpr int kSenders = 4;
constexpr std::chrono::milliseconds kSendInterval{40};  // per sender: 100 new events a second in all
// After the nemesis: how long the senders may take to have every event acknowledged, and how long
// the integration may take to handle what its inbox holds. The latter outlasts the dispatcher's
// 60 s lease, after which the events a killed life had claimed are claimed again.
constexpr std::chrono::seconds kAcknowledgeLimit{60};
constexpr std::chrono::seconds kHandleLimit{150};
const std::vector<std::string> kCommunities = {"1861805427438301", "1861805427438302", "1861805427438303",
                                               "1861805427438304"};

enum class Engine { kSqlite, kPostgres };

std::string engine_name(Engine engine) { return engine == Engine::kSqlite ? "sqlite" : "pg"; }
void PrintTo(Engine engine, std::ostream* out) { *out << engine_name(engine); }

// What the checker makes of a history and of the rows the handler wrote.
struct H1Report {
  std::size_t sent = 0;           // events attempted at least once
  std::size_t acknowledged = 0;   // events that got a 2xx
  std::size_t indeterminate = 0;  // events with at least one attempt sent without an answer
  std::size_t handled = 0;        // events of the history handled at least once
  std::size_t lost = 0;           // acknowledged, never handled
  std::size_t duplicated = 0;     // handled more than once
  std::size_t unexpected = 0;     // handled rows of no event in the history
  int restarts = 0;

  std::string line(Engine engine) const {
    return "H1 kill9 " + engine_name(engine) + ": sent=" + std::to_string(sent) +
           ", acked=" + std::to_string(acknowledged) + ", indeterminate=" + std::to_string(indeterminate) +
           ", handled=" + std::to_string(handled) + ", lost=" + std::to_string(lost) +
           ", dup=" + std::to_string(duplicated) + ", restarts=" + std::to_string(restarts);
  }
};

using HandledRow = std::pair<std::string, std::string>;  // community id, mid

// Judges `history` against the rows the handler wrote: one row per handling.
H1Report check_history(const std::vector<LedgerEntry>& history, const std::vector<HandledRow>& handled_rows) {
  std::map<HandledRow, int> handlings;
  for (const HandledRow& row : handled_rows) ++handlings[row];
  H1Report report;
  for (const LedgerEntry& event : history) {
    const auto found = handlings.find({event.community_id, event.mid});
    const int times = found == handlings.end() ? 0 : found->second;
    if (found != handlings.end()) handlings.erase(found);
    ++report.sent;
    if (event.acknowledged) ++report.acknowledged;
    if (event.indeterminate > 0) ++report.indeterminate;
    if (times > 0) ++report.handled;
    if (event.acknowledged && times == 0) ++report.lost;
    if (times > 1) ++report.duplicated;
  }
  report.unexpected = handlings.size();
  return report;
}

TEST(H1Checker, CountsLostDuplicatedAndUnexpectedEvents) {
  const std::vector<LedgerEntry> history = {
      {.community_id = "1", .mid = "a", .attempts = 1, .acknowledged = true},                     // handled once
      {.community_id = "1", .mid = "b", .attempts = 2, .indeterminate = 1, .acknowledged = true},  // lost
      {.community_id = "2", .mid = "a", .attempts = 1, .acknowledged = true},                     // handled twice
      {.community_id = "2", .mid = "c", .attempts = 3, .indeterminate = 3},  // never acknowledged, handled
  };
  const std::vector<HandledRow> rows = {{"1", "a"}, {"2", "a"}, {"2", "a"}, {"2", "c"}, {"3", "a"}};
  const H1Report report = check_history(history, rows);
  EXPECT_EQ(report.sent, 4u);
  EXPECT_EQ(report.acknowledged, 3u);
  EXPECT_EQ(report.indeterminate, 2u);
  EXPECT_EQ(report.handled, 3u);
  EXPECT_EQ(report.lost, 1u);
  EXPECT_EQ(report.duplicated, 1u);
  EXPECT_EQ(report.unexpected, 1u);  // the mid of community 2, handled for community 3
}

// Describes the first events of `history` that were never acknowledged, for a failure message.
std::string unacknowledged_events(const std::vector<LedgerEntry>& history) {
  constexpr int kShown = 10;
  std::string text;
  int shown = 0;
  for (const LedgerEntry& event : history) {
    if (event.acknowledged) continue;
    if (shown++ == kShown) break;
    text += "\n  " + event.community_id + " " + event.mid + ": attempts=" + std::to_string(event.attempts) +
            " refused=" + std::to_string(event.refused) + " rejected=" + std::to_string(event.rejected) +
            " (last status " + std::to_string(event.last_status) + ") indeterminate=" +
            std::to_string(event.indeterminate);
  }
  return text;
}

// Returns how long the nemesis runs: $WIK_H1_SECONDS, else kDefaultNemesis.
Result<std::chrono::seconds> nemesis_duration() {
  const char* configured = std::getenv(kNemesisVariable);
  if (configured == nullptr || *configured == '\0') return kDefaultNemesis;
  char* end = nullptr;
  const long seconds = std::strtol(configured, &end, 10);
  if (*end != '\0' || seconds < 5 || seconds > 3600) {  // 5 s: time for at least one kill
    return Error(ErrorCode::kConfig, std::string(kNemesisVariable) + ": expected 5-3600 seconds");
  }
  return std::chrono::seconds(seconds);
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

// Where the integration keeps its store: the [store] section of its configuration, and the test's
// own connections to the same database.
class StoreUnderTest {
 public:
  static Result<StoreUnderTest> create(Engine engine, const wik::testing::TempDir& dir) {
    StoreUnderTest target;
    target.engine_ = engine;
    if (engine == Engine::kSqlite) {
      target.sqlite_path_ = dir.path() / "wik.db";
      target.config_ = "[store]\nengine = \"sqlite\"\nsqlite_path = \"" + target.sqlite_path_.string() + "\"\n";
      return target;
    }
    Result<wik::testing::PostgresCluster*> cluster = wik::testing::PostgresCluster::shared();
    if (!cluster) return cluster.error();
    Result<std::string> conninfo = (*cluster)->create_database();
    if (!conninfo) return conninfo.error();
    target.conninfo_ = *conninfo;
    target.config_ = "[store]\nengine = \"postgres\"\npostgres_url_file = \"" +
                     dir.write_file("postgres_url", target.conninfo_).string() + "\"\n";
    return target;
  }

  const std::string& config() const noexcept { return config_; }

  Result<std::unique_ptr<store::Database>> open() const {
    if (engine_ == Engine::kSqlite) {
      auto database = store::SqliteDatabase::open({.path = sqlite_path_});
      if (!database) return database.error();
      return std::unique_ptr<store::Database>(std::move(*database));
    }
    auto database = store::PostgresDatabase::open({.conninfo = conninfo_});
    if (!database) return database.error();
    return std::unique_ptr<store::Database>(std::move(*database));
  }

 private:
  Engine engine_ = Engine::kSqlite;
  std::filesystem::path sqlite_path_;
  std::string conninfo_;
  std::string config_;
};

class Kill9Test : public ::testing::TestWithParam<Engine> {
 protected:
  // Opens the test's own Store on the integration's database.
  Result<std::unique_ptr<store::Store>> open_store(const StoreUnderTest& target) {
    auto database = target.open();
    if (!database) return database.error();
    return store::Store::open(std::move(*database), ring_, clock_);
  }

  // Writes the integration's configuration: loopback, a free port, the secrets in files, no Graph
  // host it could reach (its handler makes no Graph call) and no re-verify sweep.
  std::filesystem::path write_config(const StoreUnderTest& target) const {
    const auto secret = dir_.write_file("app_secret", kAppSecret);
    const auto verify_token = dir_.write_file("verify_token", "h1-verify-token");
    const auto ring = dir_.write_file("keys.ring", std::string(ring_.serialize().expose()));
    return dir_.write_file(
        "wik.toml", "[app]\nid = \"1111222233334444\"\nsecret_file = \"" + secret.string() +
                        "\"\nverify_token_file = \"" + verify_token.string() +
                        "\"\ngraph_url = \"http://127.0.0.1:9\"\nworkplace_url = \"http://127.0.0.1:9\"\n"
                        "reverify_interval_hours = 0\n\n[server]\naddress = \"127.0.0.1\"\nport = 0\nthreads = 2\n"
                        "public_url = \"http://127.0.0.1\"\n\n[keys]\nring_file = \"" + ring.string() + "\"\n\n" +
                        target.config() + "\n[log]\nlevel = \"info\"\n");
  }

  // What the inbox still holds once the integration is done with it.
  struct InboxLeft {
    std::int64_t pending = 0;  // pending or claimed
    std::int64_t dead_letters = 0;
  };

  // Waits until the inbox holds no pending or claimed event, up to kHandleLimit; returns what it
  // holds then.
  static Result<InboxLeft> wait_until_handled(store::Store& store) {
    const Clock::time_point give_up_at = Clock::now() + kHandleLimit;
    for (;;) {
      Result<std::vector<store::InboxCounts>> counts = store.inbox_counts();
      if (!counts) return counts.error();
      InboxLeft left;
      for (const store::InboxCounts& community : *counts) {
        left.pending += community.pending;
        left.dead_letters += community.dead_letters;
      }
      if (left.pending == 0 || Clock::now() >= give_up_at) return left;
      std::this_thread::sleep_for(std::chrono::milliseconds(250));
    }
  }

  static Result<std::vector<HandledRow>> handled_rows(store::Database& database) {
    Result<store::Rows> rows = store::transact_value(database, [](store::Transaction& tx) {
      return tx.query("SELECT community_id, mid FROM handled_messages");
    });
    if (!rows) return rows.error();
    std::vector<HandledRow> handled;
    for (const store::Row& row : *rows) handled.emplace_back(row.text(0), row.text(1));
    return handled;
  }

  wik::testing::TempDir dir_;
  const core::SystemClock clock_;
  const core::KeyRing ring_ = core::KeyRing::generate("h1");
};

TEST_P(Kill9Test, EveryAcknowledgedEventIsHandledAcrossSigkills) {
  const Engine engine = GetParam();
  const Result<std::chrono::seconds> nemesis_time = nemesis_duration();
  ASSERT_THAT(nemesis_time, IsOk());
  Result<StoreUnderTest> target = StoreUnderTest::create(engine, dir_);
  ASSERT_THAT(target, IsOk());
  {
    Result<std::unique_ptr<store::Store>> store = open_store(*target);
    ASSERT_THAT(store, IsOk());
    for (const std::string& community : kCommunities) {
      Result<store::CommunityScope> scope = (*store)->community(community);
      ASSERT_THAT(scope, IsOk());
      ASSERT_THAT(scope->put_installation({.community_name = "Community " + community,
                                           .access_token = AccessToken("token-" + community),
                                           .permissions = {"message"}}),
                  IsOk());
    }
  }

  IntegrationProcess integration(WIK_CRASH_INTEGRATION_PATH, write_config(*target), dir_.path());
  Result<std::uint16_t> port = integration.start();
  ASSERT_THAT(port, IsOk()) << port.error().detail();

  const std::uint32_t seed = std::random_device{}();
  SCOPED_TRACE("nemesis seed " + std::to_string(seed));
  const Clock::time_point load_until = Clock::now() + *nemesis_time;
  std::vector<std::unique_ptr<WebhookSender>> senders;
  for (int number = 0; number < kSenders; ++number) {
    senders.push_back(std::make_unique<WebhookSender>(
        number, wik::testing::SenderOptions{.port = *port,
                                            .app_secret = Secret(kAppSecret),
                                            .communities = kCommunities,
                                            .interval = kSendInterval}));
  }
  Result<int> restarts = 0;
  {
    // Declared after the senders, so that on a failure path their destructors stop the senders
    // and join them before the senders go.
    std::vector<std::jthread> threads;
    for (auto& sender : senders) {
      threads.emplace_back([&sender = *sender, load_until](std::stop_token stop) {
        sender.run(stop, load_until, load_until + kAcknowledgeLimit);
      });
    }
    restarts = run_nemesis(integration, load_until, seed);
    if (restarts) {
      for (std::jthread& thread : threads) thread.join();  // the senders drain: every event acknowledged
    }
  }
  ASSERT_THAT(restarts, IsOk()) << restarts.error().detail();

  std::vector<LedgerEntry> history;
  for (const auto& sender : senders) history.insert(history.end(), sender->ledger().begin(), sender->ledger().end());
  Result<std::unique_ptr<store::Store>> store = open_store(*target);
  ASSERT_THAT(store, IsOk());
  const auto inbox = wait_until_handled(**store);
  ASSERT_THAT(inbox, IsOk());
  integration.crash();

  Result<std::unique_ptr<store::Database>> database = target->open();
  ASSERT_THAT(database, IsOk());
  const Result<std::vector<HandledRow>> rows = handled_rows(**database);
  ASSERT_THAT(rows, IsOk());
  H1Report report = check_history(history, *rows);
  report.restarts = *restarts;
  std::printf("%s\n", report.line(engine).c_str());
  std::fflush(stdout);

  EXPECT_GE(report.restarts, 1);
  EXPECT_GT(report.sent, 0u);
  EXPECT_EQ(report.acknowledged, report.sent)
      << "events never acknowledged once the nemesis stopped:" << unacknowledged_events(history)
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
