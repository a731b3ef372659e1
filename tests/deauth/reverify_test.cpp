// The re-verify sweep (issue 6). Against the real emulator: an uninstall whose deauthorize callback
// never arrived (callback fault injection) is caught by the sweep and the community's rows are
// purged; transient Graph failures change nothing; a healthy install stays; two processes sweeping
// at once revoke and purge once. Against a scripted Graph host: a reinstall racing the sweep is
// kept, a revoked installation waiting for its purge gets it, installs are paced, and no token
// reaches a log line.
#include "deauth/reverify.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json/serialize.hpp>

#include <mutex>
#include <sstream>
#include <thread>

#include "emulator/emulator.h"
#include "store/sqlite/sqlite_database.h"
#include "support/fake_clock.h"
#include "support/result_matchers.h"
#include "support/run_coroutine.h"
#include "support/scripted_graph.h"
#include "support/temp_dir.h"

namespace wik::deauth {
namespace {

namespace json = boost::json;
using boost::beast::http::status;
using ::testing::AllOf;
using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::Field;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;
using wik::testing::IsOk;
using wik::testing::Scripted;

constexpr const char* kAppId = "1111222233334444";
constexpr const char* kSecret = "0123456789abcdef0123456789abcdef";
constexpr const char* kCanary = "WIKCANARY";

// The part of one `wik serve` process the sweep needs, on the fixture's SQLite file.
struct Process {
  std::unique_ptr<store::Store> store;
  std::unique_ptr<Deauthorizer> deauthorizer;
  http::MetricsRegistry metrics;
  std::unique_ptr<InstallSweep> sweep;
  std::mutex mutex;
  std::vector<std::string> uninstalled;  // what on_revoked was told, guarded by mutex
};

// Returns the metrics line that counts `times` installations with `outcome`.
std::string counted(const std::string& outcome, int times) {
  return "install_reverify_total{outcome=\"" + outcome + "\"} " + std::to_string(times);
}

// The fixture both Graph hosts share: a SQLite store file, processes over it, a Graph client.
class SweepTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { spdlog::set_level(spdlog::level::warn); }

  // Opens one more process over the store file, sweeping with `options`.
  Process& open_process(SweepOptions options = {.pacing = std::chrono::milliseconds(0)}) {
    auto process = std::make_unique<Process>();
    auto database = store::SqliteDatabase::open({.path = dir_.path() / "wik.db"});
    EXPECT_THAT(database, IsOk());
    process->store = std::move(store::Store::open(std::move(database).value(), ring_, clock())).value();
    process->deauthorizer =
        std::make_unique<Deauthorizer>(*process->store, std::vector<Secret>{Secret(kSecret)}, clock());
    Process* raw = process.get();
    process->deauthorizer->on_revoked([raw](const std::string& community_id) {
      const std::lock_guard lock(raw->mutex);
      raw->uninstalled.push_back(community_id);
    });
    process->sweep =
        std::make_unique<InstallSweep>(*process->store, *graph_, *process->deauthorizer, random_, process->metrics, options);
    processes_.push_back(std::move(process));
    return *processes_.back();
  }

  void start_graph_client(const std::string& base_url) {
    http_ = std::move(http::Client::create({.allow_plain_http = true})).value();
    graph_ = std::make_unique<graph::GraphClient>(*http_, graph::GraphOptions{.base_url = base_url},
                                                  graph::AppCredentials{kAppId, Secret(kSecret)}, clock(), random_);
  }

  // Records an install of `community_id` with `token`, and one webhook event of it.
  void install(store::Store& store, const std::string& community_id, const std::string& token) {
    auto scope = store.community(community_id);
    ASSERT_THAT(scope, IsOk());
    ASSERT_THAT(scope->put_installation({.community_name = "Acme", .access_token = AccessToken(token),
                                         .permissions = {"message"}}),
                IsOk());
    ASSERT_THAT(scope->insert_inbox_event({.topic = "page", .dedupe_key = "m-" + token, .payload = "{}"}), IsOk());
  }

  Result<SweepReport> sweep_once(Process& process) { return testing::run_coroutine(io_, process.sweep->run_once()); }

  store::Installation installation(Process& process, const std::string& community_id) {
    auto found = process.store->community(community_id)->installation();
    EXPECT_THAT(found, IsOk());
    return found.ok() ? std::move(*found) : store::Installation{};
  }

  // Returns what the store recorded of the community's health (the admin pages show it).
  store::CommunityHealth health(Process& process, const std::string& community_id) {
    auto found = process.store->community(community_id)->installation_summary();
    EXPECT_THAT(found, IsOk());
    return found.ok() ? found->health : store::CommunityHealth{};
  }

  std::size_t open_purge_jobs(Process& process) {
    std::size_t open = 0;
    const auto jobs = process.store->list_purge_jobs();
    EXPECT_THAT(jobs, IsOk());
    if (!jobs.ok()) return 0;
    for (const auto& job : *jobs) open += job.state != store::PurgeState::kDone;
    return open;
  }

  // Returns the rows of `table` the community `community_id` has, read straight from the file.
  std::int64_t rows_of(const std::string& table, const std::string& community_id) {
    auto database = store::SqliteDatabase::open({.path = dir_.path() / "wik.db"});
    EXPECT_THAT(database, IsOk());
    std::int64_t count = -1;
    EXPECT_THAT((*database)->transact([&](store::Transaction& tx) -> Result<void> {
      auto rows = tx.query("SELECT COUNT(*) FROM " + table + " WHERE community_id = $1", {community_id});
      if (!rows) return rows.error();
      count = rows->front().integer(0);
      return ok_result();
    }),
                IsOk());
    return count;
  }

  virtual const core::Clock& clock() = 0;

  testing::TempDir dir_;
  core::KeyRing ring_ = core::KeyRing::generate("k1");
  core::SecureRandomSource random_;
  boost::asio::io_context io_;
  std::unique_ptr<http::Client> http_;  // after io_: destroyed before the io_context of its connections
  std::unique_ptr<graph::GraphClient> graph_;
  std::vector<std::unique_ptr<Process>> processes_;  // after graph_: their sweeps borrow it
};

// ---- Against the emulator

class SweepEmulatorTest : public SweepTest {
 protected:
  void SetUp() override {
    auto emulator = emulator::Emulator::start({.graph_port = 0, .web_port = 0, .control_api = true});
    ASSERT_THAT(emulator, IsOk());
    emulator_ = std::move(*emulator);
    start_graph_client(emulator_->graph_url());
    ASSERT_THAT(emulator_->state().register_app({.id = kAppId,
                                                 .secret = kSecret,
                                                 .name = "Echo",
                                                 .publisher = "Example Ltd",
                                                 .redirect_url = "http://127.0.0.1:9/workplace/install",
                                                 .deauthorize_url = "http://127.0.0.1:9/workplace/deauthorize",
                                                 .permissions = {"message"}}),
                IsOk());
    community_ = emulator_->state().communities().front().id;
    for (const auto& user : emulator_->state().users(community_)) {
      if (user.system_admin) admin_id_ = user.id;
    }
    auto installed = emulator_->state().install_directly(kAppId, admin_id_);
    ASSERT_THAT(installed, IsOk());
    process_ = &open_process();
    install(*process_->store, community_, installed->access_token);
  }

  void TearDown() override {
    processes_.clear();
    emulator_->stop();
  }

  const core::Clock& clock() override { return clock_; }

  // Calls the emulator's control API and returns the status.
  unsigned control(boost::beast::http::verb method, const std::string& path, const json::object& body) {
    http::ClientRequest request{.method = method, .url = emulator_->web_url() + "/_emulator" + path,
                                .body = json::serialize(body)};
    request.headers.set(boost::beast::http::field::content_type, "application/json");
    auto response = testing::run_coroutine(io_, http_->request(std::move(request)));
    EXPECT_THAT(response, IsOk());
    return response.ok() ? response->status : 0;
  }

  core::SystemClock clock_;  // the emulator checks appsecret_time against its own clock
  std::unique_ptr<emulator::Emulator> emulator_;
  Process* process_ = nullptr;
  std::string community_;
  std::string admin_id_;
};

TEST_F(SweepEmulatorTest, AHealthyInstallStays) {
  const auto report = sweep_once(*process_);
  ASSERT_THAT(report, IsOk());
  EXPECT_EQ(report->healthy, 1u);
  EXPECT_EQ(report->revoked + report->transient + report->failed, 0u);
  EXPECT_EQ(installation(*process_, community_).state, store::InstallState::kActive);
  EXPECT_EQ(open_purge_jobs(*process_), 0u);
  EXPECT_THAT(process_->metrics.render(), HasSubstr(counted("healthy", 1)));
  const store::CommunityHealth recorded = health(*process_, community_);
  ASSERT_TRUE(recorded.token_checked_at.has_value()) << "the check is recorded for the admin pages";
  EXPECT_EQ(recorded.last_graph_ok_at, recorded.token_checked_at);
  EXPECT_EQ(recorded.last_graph_error_at, std::nullopt);
}

TEST_F(SweepEmulatorTest, AnUninstallWhoseCallbackFailedIsCaughtAndItsRowsPurged) {
  using boost::beast::http::verb;
  ASSERT_EQ(control(verb::post, "/faults/callbacks", {{"app_id", kAppId}, {"refuse_rate", 1.0}}), 200u);
  ASSERT_EQ(control(verb::post, std::string("/apps/") + kAppId + "/uninstall", {{"admin_id", admin_id_}}), 200u);
  EXPECT_EQ(installation(*process_, community_).state, store::InstallState::kActive) << "the callback never came";

  const auto report = sweep_once(*process_);
  ASSERT_THAT(report, IsOk());
  EXPECT_EQ(report->revoked, 1u);
  EXPECT_EQ(report->healthy, 0u);
  const auto revoked = installation(*process_, community_);
  EXPECT_EQ(revoked.state, store::InstallState::kRevoked);
  EXPECT_TRUE(revoked.access_token.empty());
  EXPECT_EQ(open_purge_jobs(*process_), 1u);
  EXPECT_THAT(process_->uninstalled, ElementsAre(community_)) << "on_uninstall hooks run as after a callback";
  const auto trail = process_->store->audit_trail(community_);
  ASSERT_THAT(trail, IsOk());
  EXPECT_THAT(*trail, Contains(AllOf(Field(&store::AuditEntry::action, "uninstall_noticed"),
                                     Field(&store::AuditEntry::detail, StartsWith("re-verify sweep: graph error 190")))));
  EXPECT_THAT(process_->metrics.render(), HasSubstr(counted("revoked", 1)));
  const store::CommunityHealth after_revocation = health(*process_, community_);
  EXPECT_EQ(after_revocation.last_graph_error_at, std::nullopt) << "a revocation is no Graph error to show";
  EXPECT_EQ(after_revocation.token_checked_at, std::nullopt);

  ASSERT_THAT(PurgeRunner(*process_->store).run_pending(), IsOk());
  EXPECT_EQ(rows_of("installations", community_), 0);
  EXPECT_EQ(rows_of("inbox", community_), 0);
  const auto after_purge = sweep_once(*process_);
  ASSERT_THAT(after_purge, IsOk());
  EXPECT_EQ(after_purge->revoked + after_purge->already_revoked + after_purge->healthy, 0u) << "nothing left";
}

TEST_F(SweepEmulatorTest, TransientGraphFailuresChangeNothing) {
  using boost::beast::http::verb;
  ASSERT_EQ(control(verb::post, "/faults/graph", {{"endpoint", "/community"}, {"error_rate", 1.0}}), 200u);
  auto report = sweep_once(*process_);
  ASSERT_THAT(report, IsOk());
  EXPECT_EQ(report->transient, 1u);
  const store::CommunityHealth failed = health(*process_, community_);
  EXPECT_THAT(failed.last_graph_error, Not(::testing::IsEmpty()));
  EXPECT_TRUE(failed.last_graph_error_at.has_value());
  EXPECT_EQ(failed.token_checked_at, std::nullopt) << "a failed check does not count as checked";

  ASSERT_EQ(control(verb::post, "/faults/graph", {{"endpoint", "/community"}, {"drop_rate", 1.0}}), 200u);
  report = sweep_once(*process_);
  ASSERT_THAT(report, IsOk());
  EXPECT_EQ(report->transient, 1u);

  ASSERT_EQ(control(verb::delete_, "/faults/graph", {}), 200u);
  ASSERT_EQ(control(verb::post, "/rate_limits", {{"calls", 1}}), 200u);
  report = sweep_once(*process_);
  ASSERT_THAT(report, IsOk());
  EXPECT_EQ(report->healthy, 1u);
  EXPECT_TRUE(health(*process_, community_).token_checked_at.has_value());
  report = sweep_once(*process_);  // over the budget: throttled
  ASSERT_THAT(report, IsOk());
  EXPECT_EQ(report->transient, 1u);

  EXPECT_EQ(installation(*process_, community_).state, store::InstallState::kActive);
  EXPECT_EQ(open_purge_jobs(*process_), 0u);
  EXPECT_EQ(rows_of("inbox", community_), 1);
  EXPECT_THAT(process_->metrics.render(), HasSubstr(counted("transient", 3)));
}

TEST_F(SweepEmulatorTest, TwoProcessesSweepingAtOnceRevokeAndPurgeOnce) {
  using boost::beast::http::verb;
  ASSERT_EQ(control(verb::post, "/faults/callbacks", {{"app_id", kAppId}, {"refuse_rate", 1.0}}), 200u);
  ASSERT_EQ(control(verb::post, std::string("/apps/") + kAppId + "/uninstall", {{"admin_id", admin_id_}}), 200u);
  Process& other = open_process();

  std::optional<Result<SweepReport>> first;
  std::optional<Result<SweepReport>> second;
  const auto keep = [](InstallSweep& sweep, std::optional<Result<SweepReport>>& out) -> boost::asio::awaitable<void> {
    out.emplace(co_await sweep.run_once());
  };
  boost::asio::co_spawn(io_, keep(*process_->sweep, first), boost::asio::detached);
  boost::asio::co_spawn(io_, keep(*other.sweep, second), boost::asio::detached);
  io_.restart();
  io_.run_for(std::chrono::seconds(10));
  ASSERT_TRUE(first && second);
  ASSERT_THAT(*first, IsOk());
  ASSERT_THAT(*second, IsOk());
  EXPECT_EQ((*first)->failed + (*second)->failed, 0u);
  EXPECT_EQ((*first)->revoked + (*first)->already_revoked + (*second)->revoked + (*second)->already_revoked, 2u);
  EXPECT_GE((*first)->revoked + (*second)->revoked, 1u);
  EXPECT_EQ(installation(*process_, community_).state, store::InstallState::kRevoked);
  EXPECT_EQ(open_purge_jobs(*process_), 1u);
  ASSERT_THAT(PurgeRunner(*other.store).run_pending(), IsOk());
  EXPECT_EQ(rows_of("inbox", community_), 0);
}

// ---- Against a scripted Graph host

constexpr const char* kCommunity = "100042";

std::string graph_error_body(int code, std::optional<int> subcode = std::nullopt) {
  json::object error{{"message", "scripted"}, {"type", "OAuthException"}, {"code", code}, {"fbtrace_id", "t"}};
  if (subcode) error["error_subcode"] = *subcode;
  return json::serialize(json::object{{"error", std::move(error)}});
}

class SweepScriptedTest : public SweepTest {
 protected:
  void SetUp() override {
    auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(log_);
    auto logger = std::make_shared<spdlog::logger>("reverify-test", sink);
    logger->set_level(spdlog::level::debug);
    spdlog::set_default_logger(logger);
    start_graph_client(graph_host_.url());
  }

  void TearDown() override {
    processes_.clear();
    if (http_) http_->close_idle();
    spdlog::default_logger()->flush();
    EXPECT_THAT(log_.str(), Not(HasSubstr(kCanary)));
    spdlog::set_default_logger(std::make_shared<spdlog::logger>("wik"));
  }

  const core::Clock& clock() override { return clock_; }

  testing::FakeClock clock_{1764370000};
  std::ostringstream log_;
  testing::ScriptedGraph graph_host_;
};

TEST_F(SweepScriptedTest, AsksGetCommunityWithEachTokenPacedAndLogsNoToken) {
  Process& process = open_process({.pacing = std::chrono::milliseconds(100)});
  for (const char* community : {"100041", "100042", "100043"}) {
    install(*process.store, community, std::string(kCanary) + "-" + community);
  }
  graph_host_.script({.code = status::service_unavailable, .body = graph_error_body(2)});
  graph_host_.script({.code = status::service_unavailable, .body = graph_error_body(2)});
  graph_host_.script({.code = status::service_unavailable, .body = graph_error_body(2)});
  graph_host_.script({.code = status::service_unavailable, .body = graph_error_body(2)});
  graph_host_.script({.code = status::bad_request, .body = graph_error_body(190, 458)});
  graph_host_.script({.code = status::forbidden, .body = graph_error_body(10)});

  const auto started = std::chrono::steady_clock::now();
  const auto report = sweep_once(process);
  ASSERT_THAT(report, IsOk());
  EXPECT_GE(std::chrono::steady_clock::now() - started, std::chrono::milliseconds(200)) << "three installs, paced";
  EXPECT_EQ(report->transient, 1u);  // 100041: four 503s, every attempt of the retry policy
  EXPECT_EQ(report->revoked, 1u);    // 100042
  EXPECT_EQ(report->failed, 1u);     // 100043: a permission error changes nothing either
  EXPECT_EQ(installation(process, "100041").state, store::InstallState::kActive);
  EXPECT_EQ(installation(process, "100042").state, store::InstallState::kRevoked);
  EXPECT_EQ(installation(process, "100043").state, store::InstallState::kActive);

  const auto received = graph_host_.received();
  ASSERT_EQ(received.size(), 6u);
  for (const auto& request : received) {
    EXPECT_EQ(request.method, "GET");
    EXPECT_THAT(request.target, StartsWith("/v3.2/community?fields=id%2Cname&appsecret_proof="));
    EXPECT_THAT(request.target, Not(HasSubstr(kCanary)));
  }
  EXPECT_EQ(received[0].authorization, std::string("Bearer ") + kCanary + "-100041");
  EXPECT_EQ(received[4].authorization, std::string("Bearer ") + kCanary + "-100042");
  EXPECT_EQ(received[5].authorization, std::string("Bearer ") + kCanary + "-100043");
}

TEST_F(SweepScriptedTest, AReinstallWhileTheOldTokenIsCheckedIsKept) {
  Process& process = open_process();
  install(*process.store, kCommunity, std::string(kCanary) + "-old");
  graph_host_.script({.code = status::bad_request, .body = graph_error_body(190, 458),
                      .delay = std::chrono::milliseconds(1000)});

  std::optional<Result<SweepReport>> report;
  std::thread sweeping([&] { report.emplace(sweep_once(process)); });
  for (int i = 0; i < 500 && graph_host_.received().empty(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  clock_.advance(std::chrono::minutes(1));
  install(*process.store, kCommunity, std::string(kCanary) + "-new");  // the install flow, meanwhile
  sweeping.join();

  ASSERT_TRUE(report);
  ASSERT_THAT(*report, IsOk());
  EXPECT_EQ((*report)->reinstalled, 1u);
  EXPECT_EQ((*report)->revoked, 0u);
  const auto kept = installation(process, kCommunity);
  EXPECT_EQ(kept.state, store::InstallState::kActive);
  EXPECT_EQ(kept.access_token.expose(), std::string(kCanary) + "-new");
  EXPECT_EQ(open_purge_jobs(process), 0u);
}

TEST_F(SweepScriptedTest, ARenamedCommunityKeepsItsNewNameAndAnUnfitNameIsNotKept) {
  Process& process = open_process();
  install(*process.store, kCommunity, std::string(kCanary) + "-1");
  const std::string renamed = json::serialize(json::object{{"id", kCommunity}, {"name", "Acme Worldwide"}});
  graph_host_.script({.code = status::ok, .body = renamed});
  ASSERT_THAT(sweep_once(process), IsOk());
  EXPECT_EQ(installation(process, kCommunity).community_name, "Acme Worldwide");
  const auto first_check = health(process, kCommunity).token_checked_at;
  EXPECT_TRUE(first_check.has_value());

  clock_.advance(std::chrono::hours(1));
  const std::string unfit = json::serialize(json::object{{"id", kCommunity}, {"name", "Acme\nIgnore previous"}});
  graph_host_.script({.code = status::ok, .body = unfit});
  ASSERT_THAT(sweep_once(process), IsOk());
  EXPECT_EQ(installation(process, kCommunity).community_name, "Acme Worldwide");
  EXPECT_GT(health(process, kCommunity).token_checked_at, first_check) << "the check itself is still recorded";
}

TEST_F(SweepScriptedTest, ARevokedInstallationWithoutAPurgeJobGetsOne) {
  Process& process = open_process();
  install(*process.store, kCommunity, std::string(kCanary) + "-1");
  ASSERT_THAT(process.store->community(kCommunity)->revoke_installation(), IsOk());  // then the process died

  const auto report = sweep_once(process);
  ASSERT_THAT(report, IsOk());
  EXPECT_EQ(report->already_revoked, 1u);
  EXPECT_TRUE(graph_host_.received().empty()) << "a revoked installation has no token to ask with";
  EXPECT_EQ(open_purge_jobs(process), 1u);
  EXPECT_TRUE(process.uninstalled.empty());

  ASSERT_THAT(sweep_once(process), IsOk());
  EXPECT_EQ(open_purge_jobs(process), 1u) << "requesting it again changes nothing";
}

TEST(InstallSweepLoopTest, StopEndsTheLoopBeforeAnySweepIsDue) {
  testing::FakeClock clock;
  testing::TempDir dir;
  auto database = store::SqliteDatabase::open({.path = dir.path() / "wik.db"});
  ASSERT_THAT(database, IsOk());
  auto store = std::move(store::Store::open(std::move(database).value(), core::KeyRing::generate("k1"), clock)).value();
  Deauthorizer deauthorizer(*store, {Secret(kSecret)}, clock);
  boost::asio::io_context io;
  auto http = std::move(http::Client::create({.allow_plain_http = true})).value();
  core::SecureRandomSource random;
  graph::GraphClient graph(*http, {.base_url = "http://127.0.0.1:9"}, {kAppId, Secret(kSecret)}, clock, random);
  http::MetricsRegistry metrics;
  {
    InstallSweep sweep(*store, graph, deauthorizer, random, metrics, {.interval = std::chrono::hours(1)});
    sweep.start(io.get_executor());
    io.run_for(std::chrono::milliseconds(50));
    sweep.stop();
    io.run_for(std::chrono::milliseconds(50));
    EXPECT_TRUE(io.stopped()) << "the loop ended at stop()";
  }
  EXPECT_THAT(metrics.render(), Not(HasSubstr("install_reverify_total")));
}

}  // namespace
}  // namespace wik::deauth
