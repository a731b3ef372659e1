// H8 (docs/RELIABILITY.md): three replicas behind a real nginx, sharing one PostgreSQL database.
//
// Three crash integrations (crash_integration.cpp, each a real wik::App as `wik serve` runs it)
// share a database of the shared throw-away PostgreSQL cluster and sit behind nginx
// (support/nginx_server.h: round robin, nginx's default proxy_next_upstream, so a POST is never
// sent to a second replica once the first got it). The emulator, in the test's process, is the
// platform of the install and the uninstall. One scenario, phase by phase:
//   1. throughput: senders (webhook_sender.h) post signed chat messages back to back through nginx
//      in front of 1, then 2, then 3 replicas, for $WIK_H8_SECONDS (3 s) each; the figure is
//      acknowledged events per second (printed, not asserted);
//   2. kill: under the same load through nginx in front of all three, one replica gets SIGKILL
//      half-way; the senders re-send what got no 2xx (nginx answers 502 for a request in flight on
//      the dead replica) until the survivors acknowledge it, and the survivors take the dead
//      replica's claims after its lease (3 s). The replica is restarted afterwards;
//   3. install: a Workplace-initiated install (the emulator issues the code, as the admin's consent
//      does) whose redirect, confirmation page, sign-in and confirmation go through nginx and so
//      reach different replicas (X-Upstream names the replica of each answer);
//   4. purge: the emulator's administrator uninstalls; its deauthorization callback reaches one
//      replica through nginx, and the purge job it requests is taken by one replica (its lease:
//      the job's `runs`) and completed once across the replicas.
// The checker (history_checker.h) then judges every phase's history against the rows the handler
// wrote: lost=0, dup=0. Handling order: each row records when its handling committed (the host's
// monotonic clock); in each conversation (a community and a sender's person), an event the sender
// got a 2xx for before it sent the next must be handled before every later one. nginx's access
// log must show no POST sent to a second upstream after bytes of it reached a first. Prints
// `H8 scale-out: req/s 1/2/3 replicas=…; lost=0, dup=0; order violations=0; nginx resends=0;
// install across replicas=ok (N replicas); purge runs=1 (completed 1)` and a line of details. Runs in about 30 s.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/json/serialize.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "emulator/emulator.h"
#include "http/client/client.h"
#include "install/test_browser.h"
#include "reliability/crash_test_bed.h"
#include "reliability/history_checker.h"
#include "reliability/integration_process.h"
#include "reliability/webhook_sender.h"
#include "support/nginx_server.h"
#include "support/result_matchers.h"
#include "support/run_coroutine.h"
#include "support/temp_dir.h"

namespace wik {
namespace {

using Clock = std::chrono::steady_clock;
using ::testing::HasSubstr;
using wik::testing::CrashTestBed;
using wik::testing::HandledRow;
using wik::testing::HistoryReport;
using wik::testing::IntegrationProcess;
using wik::testing::IsOk;
using wik::testing::LedgerEntry;
using wik::testing::NginxServer;
using wik::testing::ProxiedRequest;
using wik::testing::SenderGroup;
using wik::testing::TestBrowser;

constexpr std::size_t kReplicas = 3;
constexpr const char* kWebhooksConfig = "[webhooks]\nlease_seconds = 3\n";
constexpr long kDefaultLoadSeconds = 3;
constexpr const char* kLoadVariable = "WIK_H8_SECONDS";
constexpr int kSenders = 8;
constexpr std::chrono::milliseconds kBackToBack{0};
constexpr std::chrono::seconds kAcknowledgeLimit{60};
constexpr std::chrono::seconds kHandleLimit{60};
// How long the test waits for the purge, and then for any replica to run it again: longer than
// the App's purge interval (5 s), so every replica's purge loop has looked at the jobs since.
constexpr std::chrono::seconds kPurgeLimit{30};
constexpr std::chrono::seconds kPurgeSettle{6};
constexpr const char* kAdminEmail = "admin@vendor.example";
constexpr const char* kAdminPassword = "correct horse battery staple";
constexpr const char* kPlatformAdminEmail = "ada@acme.example";  // the emulator's seed administrator

// Each load phase posts to communities of its own, so its events are its own (the senders' mids
// repeat from one group to the next).
const std::array<std::vector<std::string>, 4> kPhaseCommunities = {{
    {"1861805427438801", "1861805427438802", "1861805427438803"},  // behind 1 replica
    {"1861805427438811", "1861805427438812", "1861805427438813"},  // 2 replicas
    {"1861805427438821", "1861805427438822", "1861805427438823"},  // 3 replicas
    {"1861805427438831", "1861805427438832", "1861805427438833"},  // 3 replicas, one killed
}};

std::vector<std::string> all_communities() {
  std::vector<std::string> all;
  for (const auto& phase : kPhaseCommunities) all.insert(all.end(), phase.begin(), phase.end());
  return all;
}

// What one load phase left: its history and how fast nginx's replicas acknowledged it.
struct LoadPhase {
  std::vector<LedgerEntry> history;
  double requests_per_second = 0;
};

// Returns how many times, over `log`, nginx sent a POST to another upstream after bytes of it
// reached one.
std::size_t resent_posts(const std::vector<ProxiedRequest>& log) {
  return static_cast<std::size_t>(
      std::ranges::count_if(log, [](const ProxiedRequest& request) {
        return request.method == "POST" && request.resent();
      }));
}

// When an event's handling committed (the host's monotonic clock) and where it was stored.
struct Handling {
  std::int64_t at = 0;
  std::int64_t inbox_id = 0;
};

// Returns the handling of each handled event, by community and mid.
Result<std::map<HandledRow, Handling>> handlings(const CrashTestBed& bed) {
  Result<std::unique_ptr<store::Database>> database = bed.open_database();
  if (!database) return database.error();
  Result<store::Rows> rows = store::transact_value(**database, [](store::Transaction& tx) {
    return tx.query(
        "SELECT h.community_id, h.mid, h.handled_at, i.id FROM handled_messages h JOIN inbox i "
        "ON i.community_id = h.community_id AND i.dedupe_key = 'mid:' || h.mid");
  });
  if (!rows) return rows.error();
  std::map<HandledRow, Handling> found;
  for (const store::Row& row : *rows) found[{row.text(0), row.text(1)}] = {row.integer(2), row.integer(3)};
  return found;
}

// Counts the events of a conversation (a community and a sender's person) handled before an
// earlier event of it that was acknowledged at its first attempt. A sender sends one request at a
// time, so such an event was stored before any later event of the sender was sent, and the
// promise is that it is handled first. (Events a sender re-sent after later ones, and events of
// different senders sent at the same time, have no order to keep.) `history` holds each sender's
// events in the order it sent them (SenderGroup::history).
std::size_t conversation_order_violations(const std::vector<LedgerEntry>& history,
                                          const std::map<HandledRow, Handling>& handled) {
  std::map<std::pair<std::string, int>, std::int64_t> stored_before;  // per conversation: the latest such handling
  std::size_t violations = 0;
  for (const LedgerEntry& event : history) {
    const auto handling = handled.find({event.community_id, event.mid});
    if (handling == handled.end()) continue;  // lost: the checker counts it
    std::int64_t& barrier = stored_before[{event.community_id, event.sender}];
    if (handling->second.at < barrier) ++violations;
    if (event.acknowledged && event.attempts == 1) barrier = std::max(barrier, handling->second.at);
  }
  return violations;
}

// Counts, per community, the events handled after an event with a higher inbox id. Not a
// violation: ids are taken when a store transaction inserts, and concurrent ingest transactions
// (of several replicas, or of one replica's group commits) become visible in another order.
std::size_t inbox_id_inversions(const std::map<HandledRow, Handling>& handled) {
  std::map<std::string, std::vector<Handling>> by_community;
  for (const auto& [event, handling] : handled) by_community[event.first].push_back(handling);
  std::size_t inversions = 0;
  for (auto& [community, events] : by_community) {
    std::ranges::sort(events, {}, &Handling::at);
    for (std::size_t i = 1; i < events.size(); ++i) {
      if (events[i].inbox_id < events[i - 1].inbox_id) ++inversions;
    }
  }
  return inversions;
}

// Returns the number of audit entries `action` of `community_id`.
Result<std::size_t> audit_count(store::Store& store, const std::string& community_id, std::string_view action) {
  Result<std::vector<store::AuditEntry>> trail = store.audit_trail(community_id);
  if (!trail) return trail.error();
  return static_cast<std::size_t>(
      std::ranges::count_if(*trail, [action](const store::AuditEntry& entry) { return entry.action == action; }));
}

TEST(H8OrderChecker, CountsEventsHandledBeforeAnEarlierAcknowledgedEventOfTheirConversation) {
  const std::vector<LedgerEntry> history = {
      {.community_id = "1", .mid = "a", .attempts = 1, .acknowledged = true, .sender = 0},
      {.community_id = "1", .mid = "b", .attempts = 2, .acknowledged = true, .sender = 0},  // re-sent: no barrier
      {.community_id = "1", .mid = "c", .attempts = 1, .acknowledged = true, .sender = 0},  // after b: allowed
      {.community_id = "1", .mid = "d", .attempts = 1, .acknowledged = true, .sender = 0},  // before c: violation
      {.community_id = "1", .mid = "e", .attempts = 1, .acknowledged = true, .sender = 1},  // another person
      {.community_id = "2", .mid = "f", .attempts = 1, .acknowledged = true, .sender = 0},  // another community
  };
  const std::map<HandledRow, Handling> handled = {{{"1", "a"}, {.at = 10, .inbox_id = 1}},
                                                  {{"1", "b"}, {.at = 40, .inbox_id = 2}},
                                                  {{"1", "c"}, {.at = 30, .inbox_id = 3}},
                                                  {{"1", "d"}, {.at = 20, .inbox_id = 4}},
                                                  {{"1", "e"}, {.at = 5, .inbox_id = 5}},
                                                  {{"2", "f"}, {.at = 1, .inbox_id = 6}}};
  EXPECT_EQ(conversation_order_violations(history, handled), 1u);
  EXPECT_EQ(inbox_id_inversions(handled), 3u);  // community 1's inbox ids in handling order: 5 1 4 3 2
}

class ScaleOutTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const Result<long> seconds = wik::testing::number_from_environment(kLoadVariable, kDefaultLoadSeconds, 2, 3600);
    ASSERT_THAT(seconds, IsOk());
    load_seconds_ = std::chrono::seconds(*seconds);
    Result<std::unique_ptr<CrashTestBed>> bed =
        CrashTestBed::create(wik::testing::Engine::kPostgres, dir_, all_communities());
    ASSERT_THAT(bed, IsOk());
    bed_ = std::move(*bed);

    // The front nginx's port is the replicas' public URL: the platform reaches them through it.
    front_port_ = wik::testing::free_loopback_port();
    const std::string front = "http://127.0.0.1:" + std::to_string(front_port_);
    auto emulator = emulator::Emulator::start(
        {.graph_port = 0,
         .web_port = 0,
         .control_api = true,
         .apps = {{.id = wik::testing::kCrashTestAppId,
                   .secret = std::string(bed_->app_secret().expose()),
                   .name = "Crash test",
                   .redirect_url = front + "/workplace/install",
                   .deauthorize_url = front + "/workplace/deauthorize",
                   .permissions = {"message"}}}});
    ASSERT_THAT(emulator, IsOk());
    emulator_ = std::move(*emulator);
    const std::filesystem::path config = bed_->write_config(
        kWebhooksConfig,
        {.graph_url = emulator_->graph_url(), .workplace_url = emulator_->web_url(), .public_url = front});
    for (std::size_t i = 0; i < kReplicas; ++i) {
      const std::filesystem::path logs = dir_.path() / ("replica-" + std::to_string(i));
      std::filesystem::create_directories(logs);
      replicas_.push_back(std::make_unique<IntegrationProcess>(WIK_CRASH_INTEGRATION_PATH, config, logs));
      Result<std::uint16_t> port = replicas_.back()->start();
      ASSERT_THAT(port, IsOk()) << port.error().detail();
      ports_.push_back(*port);
    }
    http_ = std::move(http::Client::create({.allow_plain_http = true})).value();
  }

  void TearDown() override {
    if (http_) http_->close_idle();
    if (emulator_) emulator_->stop();
  }

  // Starts nginx in front of the first `replicas` replicas, on the front port when `front`.
  std::unique_ptr<NginxServer> start_nginx(std::size_t replicas, bool front) {
    Result<std::unique_ptr<NginxServer>> nginx = NginxServer::start(
        {.upstreams = std::vector<std::uint16_t>(ports_.begin(), ports_.begin() + static_cast<long>(replicas)),
         .port = front ? front_port_ : std::uint16_t{0}});
    EXPECT_THAT(nginx, IsOk()) << (nginx.ok() ? "" : nginx.error().detail());
    return nginx.ok() ? std::move(*nginx) : nullptr;
  }

  // Loads `nginx` for load_seconds_ with senders posting back to back to `communities`; calls
  // `nemesis` half-way (from the test's thread). Returns once every event is acknowledged and the
  // inbox is empty again.
  LoadPhase load(const NginxServer& nginx, const std::vector<std::string>& communities,
                 const std::function<void()>& nemesis = {}) {
    SenderGroup senders(kSenders,
                        {.app_secret = bed_->app_secret(), .communities = communities, .interval = kBackToBack},
                        {nginx.port()});
    const Clock::time_point started = Clock::now();
    const Clock::time_point load_until = started + load_seconds_;
    senders.start(load_until, load_until + kAcknowledgeLimit);
    if (nemesis) {
      std::this_thread::sleep_until(started + load_seconds_ / 2);
      nemesis();
    }
    senders.join();
    const std::chrono::duration<double> took = Clock::now() - started;
    LoadPhase phase{.history = senders.history()};
    const std::size_t acknowledged = wik::testing::count_attempts(phase.history).acknowledged;
    phase.requests_per_second = static_cast<double>(acknowledged) / took.count();
    const auto inbox = bed_->wait_until_handled(kHandleLimit);
    EXPECT_THAT(inbox, IsOk());
    if (inbox.ok()) {
      EXPECT_EQ(inbox->pending, 0) << "events still pending or claimed " << kHandleLimit.count() << " s after the load";
      EXPECT_EQ(inbox->dead_letters, 0) << "dead letters";
    }
    return phase;
  }

  // Sends one control-API request to the emulator; returns its status.
  unsigned control(const std::string& path, const boost::json::object& body) {
    http::ClientRequest request{.method = boost::beast::http::verb::post,
                                .url = emulator_->web_url() + "/_emulator" + path,
                                .body = boost::json::serialize(body)};
    request.headers.set(boost::beast::http::field::content_type, "application/json");
    auto response = wik::testing::run_coroutine(io_, http_->request(std::move(request)));
    EXPECT_THAT(response, IsOk());
    return response.ok() ? response->status : 0;
  }

  wik::testing::TempDir dir_;
  std::chrono::seconds load_seconds_{kDefaultLoadSeconds};
  std::unique_ptr<CrashTestBed> bed_;
  std::uint16_t front_port_ = 0;
  std::unique_ptr<emulator::Emulator> emulator_;
  std::vector<std::unique_ptr<IntegrationProcess>> replicas_;
  std::vector<std::uint16_t> ports_;
  boost::asio::io_context io_;
  std::unique_ptr<http::Client> http_;  // after io_: destroyed before the io_context of its connections
};

TEST_F(ScaleOutTest, ReplicasBehindNginxLoseNothingKeepOrderAndShareInstallsAndPurges) {
  std::vector<LedgerEntry> history;
  std::vector<ProxiedRequest> proxied;
  std::vector<double> rates;

  // 1. Throughput with 1, 2 and 3 replicas (the front nginx, kept for what follows, has all three).
  std::unique_ptr<NginxServer> front;
  for (std::size_t replicas = 1; replicas <= kReplicas; ++replicas) {
    SCOPED_TRACE(std::to_string(replicas) + " replica(s)");
    std::unique_ptr<NginxServer> nginx = start_nginx(replicas, replicas == kReplicas);
    ASSERT_NE(nginx, nullptr);
    LoadPhase phase = load(*nginx, kPhaseCommunities[replicas - 1]);
    rates.push_back(phase.requests_per_second);
    history.insert(history.end(), phase.history.begin(), phase.history.end());
    if (replicas == kReplicas) {
      front = std::move(nginx);
    } else {
      const std::vector<ProxiedRequest> log = nginx->access_log();
      proxied.insert(proxied.end(), log.begin(), log.end());
    }
  }

  // 2. One replica killed with SIGKILL under load; restarted once the survivors have drained.
  LoadPhase killed = load(*front, kPhaseCommunities[3], [this] { replicas_[1]->crash(); });
  const wik::testing::AttemptCounts kill_attempts = wik::testing::count_attempts(killed.history);
  history.insert(history.end(), killed.history.begin(), killed.history.end());
  Result<std::uint16_t> restarted = replicas_[1]->start();
  ASSERT_THAT(restarted, IsOk()) << restarted.error().detail();

  // 3. A Workplace-initiated install whose steps go through nginx to different replicas.
  const auto ada = emulator_->state().user_by_email(kPlatformAdminEmail);
  ASSERT_TRUE(ada);
  const std::string community = ada->community_id;
  Result<std::unique_ptr<store::Store>> store = bed_->open_store();
  ASSERT_THAT(store, IsOk());
  const Result<store::Account> admin = (*store)->create_account(kAdminEmail, Secret(kAdminPassword), "admin");
  ASSERT_THAT(admin, IsOk());
  const auto code = emulator_->state().issue_code(wik::testing::kCrashTestAppId, ada->id,
                                                  front->url() + "/workplace/install", {"message"});
  ASSERT_THAT(code, IsOk());
  TestBrowser browser(io_, *http_, front->url());
  std::set<std::string> install_replicas;
  const auto served_by = [&install_replicas](const http::ClientResponse& response) {
    install_replicas.insert(std::string(response.header("X-Upstream").value_or("")));
    return response;
  };
  ASSERT_EQ(served_by(browser.get("/workplace/install?code=" + code->code)).status, 303u);
  EXPECT_THAT(served_by(browser.get("/workplace/install/confirm")).body, HasSubstr("Sign in"));
  ASSERT_EQ(served_by(wik::testing::sign_in(browser, kAdminEmail, kAdminPassword, "/workplace/install/confirm")).status,
            303u);
  EXPECT_THAT(served_by(browser.get("/workplace/install/confirm")).body, HasSubstr("Install into"));
  const auto confirmed = served_by(browser.post(
      "/workplace/install/confirm",
      {{"csrf", browser.cookie("wik_csrf").value_or("")},
       {"account", std::to_string(admin->id)},
       {"action", "install"}}));
  EXPECT_EQ(confirmed.status, 200u) << confirmed.body;
  EXPECT_THAT(confirmed.body, HasSubstr("Installed"));
  Result<store::CommunityScope> scope = (*store)->community(community);
  ASSERT_THAT(scope, IsOk());
  const bool installed =
      scope->installation().ok() && emulator_->state().install_of(wik::testing::kCrashTestAppId, community);
  EXPECT_TRUE(installed) << "the install did not complete in the kit's store and on the platform";
  EXPECT_GE(install_replicas.size(), 2u) << "the install's steps all reached one replica";

  // 4. The platform's administrator uninstalls: one deauthorization, one purge across the replicas.
  const std::string uninstall = "/apps/" + std::string(wik::testing::kCrashTestAppId) + "/uninstall";
  ASSERT_EQ(control(uninstall, {{"admin_id", ada->id}}), 200u);
  const Clock::time_point purge_deadline = Clock::now() + kPurgeLimit;
  Result<std::size_t> purges = audit_count(**store, community, "purge_completed");
  while (purges.ok() && *purges == 0 && Clock::now() < purge_deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    purges = audit_count(**store, community, "purge_completed");
  }
  std::this_thread::sleep_for(kPurgeSettle);
  purges = audit_count(**store, community, "purge_completed");
  ASSERT_THAT(purges, IsOk());
  const Result<std::size_t> purges_requested = audit_count(**store, community, "purge_requested");
  ASSERT_THAT(purges_requested, IsOk());
  EXPECT_EQ(*purges_requested, 1u) << "purge jobs requested for the one uninstall";
  EXPECT_EQ(*purges, 1u) << "purge runs completed for the one uninstall";
  const Result<std::vector<store::PurgeJob>> jobs = (*store)->list_purge_jobs();
  ASSERT_THAT(jobs, IsOk());
  ASSERT_EQ(jobs->size(), 1u) << "purge jobs for the one uninstall";
  const std::int64_t purge_takes = jobs->front().runs;
  EXPECT_EQ(purge_takes, 1) << "replicas that took the purge job (its lease lets one run it at a time)";

  // The verdict over every phase.
  const std::vector<ProxiedRequest> front_log = front->access_log();
  proxied.insert(proxied.end(), front_log.begin(), front_log.end());
  const std::size_t resends = resent_posts(proxied);
  const std::size_t deauthorizations = static_cast<std::size_t>(std::ranges::count_if(
      front_log, [](const ProxiedRequest& request) { return request.target == "/workplace/deauthorize"; }));
  const Result<std::vector<HandledRow>> rows = bed_->handled_rows();
  ASSERT_THAT(rows, IsOk());
  const HistoryReport report = wik::testing::check_history(history, *rows);
  const Result<std::map<HandledRow, Handling>> handled = handlings(*bed_);
  ASSERT_THAT(handled, IsOk());
  const std::size_t violations = conversation_order_violations(history, *handled);
  std::printf("H8 scale-out: req/s 1/2/3 replicas=%.0f/%.0f/%.0f; lost=%zu, dup=%zu; order violations=%zu; "
              "nginx resends=%zu; install across replicas=%s (%zu replicas); purge runs=%lld (completed %zu)\n",
              rates[0], rates[1], rates[2], report.lost, report.duplicated, violations, resends,
              installed && install_replicas.size() >= 2 ? "ok" : "failed", install_replicas.size(),
              static_cast<long long>(purge_takes), *purges);
  std::printf("H8 detail: sent=%zu, acked=%zu, handled=%zu; kill phase: events=%zu, 5xx while a replica died=%zu, "
              "unanswered=%zu; deauthorization POSTs=%zu; inbox id inversions among concurrent events=%zu\n",
              report.sent, report.acknowledged, report.handled, killed.history.size(), kill_attempts.server_errors,
              kill_attempts.unanswered, deauthorizations, inbox_id_inversions(*handled));
  std::fflush(stdout);

  EXPECT_EQ(report.acknowledged, report.sent) << "events never acknowledged:"
                                              << wik::testing::unacknowledged_events(history);
  EXPECT_EQ(report.lost, 0u) << "acknowledged events never handled";
  EXPECT_EQ(report.unexpected, 0u) << "handled rows of events nobody sent";
  EXPECT_EQ(report.duplicated, 0u) << "events handled more than once";
  EXPECT_EQ(violations, 0u) << "events of a conversation handled out of the order they were stored in";
  EXPECT_EQ(resends, 0u) << "nginx sent a POST to a second replica after the first had received it";
}

}  // namespace
}  // namespace wik
