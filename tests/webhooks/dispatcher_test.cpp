// The dispatcher on a real store: per-community order with concurrency across communities,
// runs of a community handled in turn and given back behind a failure, completions committed in
// groups, retries with back-off, dead letters, handler timeouts, reclaiming a dead worker's
// events, and the loop woken by notify().
#include "webhooks/dispatcher.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <spdlog/spdlog.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <atomic>
#include <functional>
#include <map>
#include <mutex>
#include <thread>

#include "store/sqlite/sqlite_database.h"
#include "support/fake_clock.h"
#include "support/result_matchers.h"
#include "support/run_coroutine.h"
#include "support/temp_dir.h"

namespace wik::webhooks {
namespace {

namespace asio = boost::asio;
using ::testing::ElementsAre;
using ::testing::SizeIs;
using wik::testing::HasError;
using wik::testing::IsOk;
using wik::testing::run_coroutine;

// What the handlers saw, shared with the test.
struct Journal {
  std::mutex mutex;
  std::map<std::string, std::vector<std::string>> handled;  // community → dedupe keys, in order
  std::map<std::string, int> calls;                         // dedupe key → calls
  int running = 0;
  int most_running = 0;
  std::map<std::string, int> failures_left;  // dedupe key → failures still to give
  std::map<std::string, int> throttles_left;  // dedupe key → kRateLimited answers still to give
  std::set<std::string> slow;                // dedupe keys whose handler takes too long
  std::set<std::string> malformed;           // dedupe keys whose handler finds the event malformed
  int replies_per_event = 0;                 // replies each successful handler gives
  bool writes = false;                       // each successful handler writes its key to `notes`
  std::map<std::string, int> write_failures_left;  // dedupe key → failing writes still to give
  std::function<void()> on_call;             // runs (on the loop) as each handler starts
};

// A write of the handler of `key`: a row in `notes`, or a scripted failure after it wrote one.
store::CompletionWrite note_write(Journal* journal, std::string community, std::string key) {
  return [journal, community, key](store::Transaction& tx) -> Result<void> {
    Result<std::int64_t> written =
        tx.execute("INSERT INTO notes (community_id, note) VALUES ($1, $2)", {community, key});
    if (!written) return written.error();
    const std::lock_guard lock(journal->mutex);
    auto left = journal->write_failures_left.find(key);
    if (left == journal->write_failures_left.end() || left->second == 0) return ok_result();
    --left->second;
    return Error(ErrorCode::kConflict, "scripted write failure");
  };
}

asio::awaitable<Result<EventEffects>> journaling_handler(Journal* journal, store::ClaimedEvent event) {
  if (journal->on_call) journal->on_call();
  bool fail = false;
  bool slow = false;
  {
    const std::lock_guard lock(journal->mutex);
    ++journal->calls[event.dedupe_key];
    journal->most_running = std::max(journal->most_running, ++journal->running);
    auto left = journal->failures_left.find(event.dedupe_key);
    if (left != journal->failures_left.end() && left->second > 0) {
      --left->second;
      fail = true;
    }
    if (auto throttled = journal->throttles_left.find(event.dedupe_key);
        throttled != journal->throttles_left.end() && throttled->second > 0) {
      --throttled->second;
      --journal->running;
      co_return Error(ErrorCode::kRateLimited, "scripted throttle");
    }
    slow = journal->slow.contains(event.dedupe_key);
    if (journal->malformed.contains(event.dedupe_key)) {
      --journal->running;
      co_return Error(ErrorCode::kMalformed, "scripted malformed event");
    }
  }
  asio::steady_timer pause(co_await asio::this_coro::executor, slow ? std::chrono::seconds(5) : std::chrono::milliseconds(5));
  co_await pause.async_wait(asio::use_awaitable);
  const std::lock_guard lock(journal->mutex);
  --journal->running;
  if (fail) co_return Error(ErrorCode::kUnavailable, "scripted failure");
  journal->handled[event.community_id].push_back(event.dedupe_key);
  EventEffects effects;
  for (int i = 0; i < journal->replies_per_event; ++i) {
    effects.replies.push_back("{\"reply\":\"" + event.dedupe_key + "/" + std::to_string(i) + "\"}");
  }
  if (journal->writes) effects.writes.push_back(note_write(journal, event.community_id, event.dedupe_key));
  co_return effects;
}

class DispatcherTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { spdlog::set_level(spdlog::level::off); }

  void SetUp() override { open_store({}); }

  void open_store(store::StoreOptions options) {
    dispatcher_.reset();
    store_.reset();
    auto database = store::SqliteDatabase::open({.path = dir_.path() / "wik.db"});
    ASSERT_THAT(database, IsOk());
    store_ = std::move(store::Store::open(std::move(database).value(), ring_, clock_, options)).value();
    ASSERT_THAT(store_->apply_app_schema("CREATE TABLE IF NOT EXISTS notes (community_id TEXT NOT NULL, note TEXT NOT NULL)"),
                IsOk());
    ASSERT_THAT(store_->register_app_table({.table = "notes", .community_column = "community_id"}), IsOk());
    for (const char* community : {"111", "222"}) {
      ASSERT_THAT(store_->community(community)->put_installation(
                      {.community_name = "C", .access_token = AccessToken("T"), .permissions = {"message"}}),
                  IsOk());
    }
    make_dispatcher({});
  }

  void make_dispatcher(DispatcherOptions options) {
    dispatcher_.reset();
    options.retry_base = std::chrono::seconds(1);
    EventHandler handler = [this](const store::ClaimedEvent& event) { return journaling_handler(&journal_, event); };
    dispatcher_ = std::make_unique<Dispatcher>(*store_, std::move(handler), clock_, metrics_, options);
  }

  void add(const std::string& community, const std::string& key) {
    ASSERT_THAT(store_->community(community)->insert_inbox_event({.topic = "page/messages", .dedupe_key = key,
                                                                    .payload = "{}"}),
                IsOk());
  }

  std::uint64_t dispatched(const std::string& outcome) {
    return metrics_.counter("webhook_dispatch_total", "Inbox events dispatched to handlers, by outcome.",
                            {{"outcome", outcome}})
        .value();
  }
  std::uint64_t completion_commits() {
    return metrics_
        .counter("webhook_completion_commits_total",
                 "Transactions that marked handled events done (each may mark many).")
        .value();
  }

  // Returns webhook_stale_completions_total as /metrics shows it (0 before the first).
  std::uint64_t stale_completions() const {
    const std::string text = metrics_.render();
    const std::string name = "\nwebhook_stale_completions_total ";
    const std::size_t at = text.find(name);
    return at == std::string::npos ? 0 : std::stoull(text.substr(at + name.size()));
  }

  // The notes the handlers of `community` wrote, in the order they were committed.
  std::vector<std::string> notes(const std::string& community) {
    std::vector<std::string> found;
    auto read = store_->community(community)->transact_app([&](store::Transaction& tx) -> Result<void> {
      Result<store::Rows> rows = tx.query("SELECT note FROM notes WHERE community_id = $1 ORDER BY rowid", {community});
      if (!rows) return rows.error();
      for (const store::Row& row : *rows) found.push_back(row.text(0));
      return ok_result();
    });
    EXPECT_THAT(read, IsOk());
    return found;
  }

  // Runs dispatch passes until one handles nothing.
  void drain() {
    for (int pass = 0; pass < 100; ++pass) {
      auto handled = run_coroutine(io_, dispatcher_->run_once());
      ASSERT_THAT(handled, IsOk());
      if (*handled == 0) return;
    }
    FAIL() << "the inbox never drained";
  }

  testing::TempDir dir_;
  testing::FakeClock clock_{1764370000};
  core::KeyRing ring_ = core::KeyRing::generate("k1");
  http::MetricsRegistry metrics_;
  Journal journal_;
  std::unique_ptr<store::Store> store_;
  asio::io_context io_;  // before the dispatcher: its pool finishes work that names this io_context
  std::unique_ptr<Dispatcher> dispatcher_;
};

TEST_F(DispatcherTest, KeepsEachCommunitysOrderAndRunsCommunitiesConcurrently) {
  for (int i = 0; i < 5; ++i) {
    add("111", "a" + std::to_string(i));
    add("222", "b" + std::to_string(i));
  }
  drain();
  EXPECT_THAT(journal_.handled["111"], ElementsAre("a0", "a1", "a2", "a3", "a4"));
  EXPECT_THAT(journal_.handled["222"], ElementsAre("b0", "b1", "b2", "b3", "b4"));
  EXPECT_EQ(journal_.most_running, 2);
  for (const auto& [key, calls] : journal_.calls) EXPECT_EQ(calls, 1) << key;
}

TEST_F(DispatcherTest, AFailedEventIsRetriedAfterItsBackOffAndBlocksItsCommunityMeanwhile) {
  journal_.failures_left["a0"] = 1;
  add("111", "a0");
  add("111", "a1");
  add("222", "b0");
  drain();
  EXPECT_TRUE(journal_.handled["111"].empty());  // a0 waits for its retry; a1 waits for a0
  EXPECT_THAT(journal_.handled["222"], ElementsAre("b0"));

  clock_.advance(std::chrono::milliseconds(999));
  drain();
  EXPECT_TRUE(journal_.handled["111"].empty());
  clock_.advance(std::chrono::milliseconds(1));
  drain();
  EXPECT_THAT(journal_.handled["111"], ElementsAre("a0", "a1"));
  EXPECT_EQ(journal_.calls["a0"], 2);
}

TEST_F(DispatcherTest, AFailureGivesTheRestOfItsRunBackUnhandled) {
  make_dispatcher({.per_community = 3});
  journal_.failures_left["a1"] = 1;
  for (const char* key : {"a0", "a1", "a2", "a3"}) add("111", key);
  auto claimed = run_coroutine(io_, dispatcher_->run_once());
  ASSERT_THAT(claimed, IsOk());
  EXPECT_EQ(*claimed, 3u);  // a0..a2; a3 is past this batch's run
  EXPECT_THAT(journal_.handled["111"], ElementsAre("a0"));
  EXPECT_EQ(journal_.calls.count("a2"), 0u);
  EXPECT_EQ(dispatched("released"), 1u);
  EXPECT_EQ(dispatched("retry_scheduled"), 1u);

  clock_.advance(std::chrono::seconds(1));
  drain();
  EXPECT_THAT(journal_.handled["111"], ElementsAre("a0", "a1", "a2", "a3"));
  EXPECT_EQ(journal_.calls["a2"], 1);
  EXPECT_EQ(dispatched("handled"), 4u);
}

TEST_F(DispatcherTest, CompletionsThatFinishWhileACommitWaitsAreCommittedTogether) {
  for (int i = 0; i < 5; ++i) {
    add("111", "a" + std::to_string(i));
    add("222", "b" + std::to_string(i));
  }
  // As the first handler starts, another connection takes the database's write lock for a while:
  // the first completion waits for it, and every event handled meanwhile joins the next commit.
  auto other = store::SqliteDatabase::open({.path = dir_.path() / "wik.db"});
  ASSERT_THAT(other, IsOk());
  std::atomic<bool> locked{false};
  std::thread holder;
  journal_.on_call = [&] {
    if (holder.joinable()) return;
    holder = std::thread([&] {
      EXPECT_THAT((*other)->transact([&](store::Transaction& tx) -> Result<void> {
        Result<std::int64_t> wrote = tx.execute("UPDATE meta SET value = value WHERE name = 'audit_key'");
        if (!wrote) return wrote.error();
        locked = true;
        std::this_thread::sleep_for(std::chrono::seconds(1));
        return ok_result();
      }),
                  IsOk());
    });
    while (!locked) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  };
  auto claimed = run_coroutine(io_, dispatcher_->run_once());
  holder.join();
  ASSERT_THAT(claimed, IsOk());
  EXPECT_EQ(*claimed, 10u);
  EXPECT_EQ(dispatched("handled"), 10u);
  EXPECT_LE(completion_commits(), 3u);
  EXPECT_THAT(journal_.handled["111"], ElementsAre("a0", "a1", "a2", "a3", "a4"));
  EXPECT_THAT(journal_.handled["222"], ElementsAre("b0", "b1", "b2", "b3", "b4"));
  EXPECT_EQ(store_->claim_inbox_events("w", 10, std::chrono::seconds(30)).value().size(), 0u);
}

TEST_F(DispatcherTest, AfterMaxAttemptsTheEventIsADeadLetterAndItsCommunityMovesOn) {
  open_store({.max_attempts = 2});
  journal_.failures_left["a0"] = 100;
  add("111", "a0");
  add("111", "a1");
  drain();
  clock_.advance(std::chrono::seconds(2));
  drain();
  EXPECT_EQ(journal_.calls["a0"], 2);
  EXPECT_THAT(journal_.handled["111"], ElementsAre("a1"));
  auto dead = store_->community("111")->dead_letters();
  ASSERT_THAT(dead, IsOk());
  ASSERT_THAT(*dead, SizeIs(1));
  EXPECT_EQ(dead->front().last_error, "scripted failure");
}

TEST_F(DispatcherTest, AThrottledEventWaitsLongerEachTimeWithoutSpendingAttemptsAndIsNeverADeadLetter) {
  open_store({.max_attempts = 2});
  journal_.throttles_left["a0"] = 4;
  add("111", "a0");
  add("111", "a1");
  add("222", "b0");
  drain();
  EXPECT_THAT(journal_.handled["222"], ElementsAre("b0")) << "another community is not held back";
  // The waits after the 1st..4th throttle in a row: 1, 2, 4 and 8 s (retry_base 1 s).
  for (const int wait_s : {1, 2, 4, 8}) {
    EXPECT_THAT(journal_.handled["111"], ::testing::IsEmpty()) << "a1 waits behind a0";
    clock_.advance(std::chrono::seconds(wait_s) - std::chrono::milliseconds(1));
    drain();
    EXPECT_THAT(journal_.handled["111"], ::testing::IsEmpty()) << "not before its wait of " << wait_s << " s";
    clock_.advance(std::chrono::milliseconds(1));
    drain();
  }
  EXPECT_THAT(journal_.handled["111"], ElementsAre("a0", "a1"));
  EXPECT_EQ(journal_.calls["a0"], 5);
  EXPECT_THAT(store_->community("111")->dead_letters().value(), ::testing::IsEmpty())
      << "4 throttles with max_attempts 2 and no dead letter";
  EXPECT_EQ(dispatched("throttled"), 4u);
}

TEST_F(DispatcherTest, RepliesAreQueuedWithTheEventsCompletionAndOnlyForAHandlerThatSucceeded) {
  journal_.replies_per_event = 2;
  journal_.failures_left["a0"] = 1;
  int queued_signals = 0;
  dispatcher_->on_replies_queued([&] { ++queued_signals; });
  add("111", "a0");
  drain();  // a0 fails: its replies are discarded
  auto none = store_->claim_outbox(10, std::chrono::seconds(30));
  ASSERT_THAT(none, IsOk());
  EXPECT_THAT(*none, SizeIs(0));
  EXPECT_EQ(queued_signals, 0);

  clock_.advance(std::chrono::seconds(1));
  drain();  // a0 succeeds: both replies are queued, in order, once
  EXPECT_EQ(queued_signals, 1);
  std::vector<std::string> sent;
  for (int round = 0; round < 3; ++round) {
    auto claimed = store_->claim_outbox(10, std::chrono::seconds(30));
    ASSERT_THAT(claimed, IsOk());
    for (const auto& message : *claimed) {
      sent.push_back(message.body);
      ASSERT_THAT(store_->finish_outbox(message), IsOk());
    }
  }
  EXPECT_THAT(sent, ElementsAre("{\"reply\":\"a0/0\"}", "{\"reply\":\"a0/1\"}"));
}

TEST_F(DispatcherTest, AHandlersWritesCommitWithItsEventOnce) {
  journal_.writes = true;
  for (int i = 0; i < 3; ++i) add("111", "a" + std::to_string(i));
  add("222", "b0");
  drain();
  EXPECT_THAT(notes("111"), ElementsAre("a0", "a1", "a2"));
  EXPECT_THAT(notes("222"), ElementsAre("b0"));
  EXPECT_EQ(dispatched("handled"), 4u);
}

TEST_F(DispatcherTest, AFailedWriteUndoesItsEventAndItsCommunityWaitsBehindItInOrder) {
  make_dispatcher({.per_community = 3});
  journal_.writes = true;
  journal_.write_failures_left["a1"] = 1;
  for (const char* key : {"a0", "a1", "a2"}) add("111", key);
  add("222", "b0");
  auto claimed = run_coroutine(io_, dispatcher_->run_once());
  ASSERT_THAT(claimed, IsOk());
  EXPECT_EQ(*claimed, 4u);
  EXPECT_THAT(notes("111"), ElementsAre("a0"));  // a1's row went with its failed completion; a2 waits
  EXPECT_THAT(notes("222"), ElementsAre("b0"));
  EXPECT_EQ(dispatched("retry_scheduled"), 1u);
  EXPECT_EQ(dispatched("released"), 1u);

  drain();
  EXPECT_THAT(notes("111"), ElementsAre("a0"));  // a1's back-off holds a2 too
  clock_.advance(std::chrono::seconds(1));
  drain();
  EXPECT_THAT(notes("111"), ElementsAre("a0", "a1", "a2"));
  EXPECT_EQ(journal_.calls["a1"], 2);
  EXPECT_EQ(dispatched("handled"), 4u);
}

TEST_F(DispatcherTest, AMalformedEventIsADeadLetterAtOnceWithoutRetries) {
  journal_.malformed.insert("a0");
  add("111", "a0");
  add("111", "a1");
  drain();
  EXPECT_EQ(journal_.calls["a0"], 1);
  EXPECT_THAT(journal_.handled["111"], ElementsAre("a1"));
  auto dead = store_->community("111")->dead_letters();
  ASSERT_THAT(dead, IsOk());
  ASSERT_THAT(*dead, SizeIs(1));
  EXPECT_EQ(dead->front().attempts, 1);
  EXPECT_EQ(dead->front().last_error, "scripted malformed event");
}

TEST_F(DispatcherTest, AHandlerThatRunsPastItsTimeoutIsRetried) {
  make_dispatcher({.handler_timeout = std::chrono::milliseconds(100)});
  journal_.slow.insert("a0");
  add("111", "a0");
  drain();
  EXPECT_TRUE(journal_.handled["111"].empty());
  journal_.slow.clear();
  clock_.advance(std::chrono::seconds(1));
  drain();
  EXPECT_THAT(journal_.handled["111"], ElementsAre("a0"));
}

TEST_F(DispatcherTest, EventsOfAWorkerThatDiedAreReclaimedAfterTheirLease) {
  add("111", "a0");
  auto stolen = store_->claim_inbox_events("dead-worker", 10, std::chrono::seconds(60));
  ASSERT_THAT(stolen, IsOk());
  ASSERT_THAT(*stolen, SizeIs(1));
  drain();
  EXPECT_TRUE(journal_.handled["111"].empty());
  clock_.advance(std::chrono::seconds(61));
  drain();
  EXPECT_THAT(journal_.handled["111"], ElementsAre("a0"));
  // The dead worker's late completion is refused: the claim was lost.
  EXPECT_THAT(store_->complete_inbox_event(stolen->front()), HasError(ErrorCode::kConflict));
}

TEST_F(DispatcherTest, AStaleWorkersCompletionIsRefusedAndCountedAndItStartsNoMoreOfItsRun) {
  add("111", "a0");
  add("111", "a1");
  std::optional<Result<std::vector<store::ClaimedEvent>>> taken;
  journal_.on_call = [&] {
    if (taken) return;
    // While a0's handler runs, the lease runs out (the process was paused) and another worker
    // claims the run.
    clock_.advance(std::chrono::seconds(61));
    taken = store_->claim_inbox_events("other-worker", 10, std::chrono::seconds(60), 64);
  };
  drain();
  ASSERT_TRUE(taken.has_value());
  ASSERT_THAT(*taken, IsOk());
  EXPECT_THAT(**taken, SizeIs(2));
  EXPECT_EQ(journal_.calls["a0"], 1);
  EXPECT_EQ(journal_.calls["a1"], 0) << "a handler was started on an event whose lease had run out";
  EXPECT_EQ(dispatched("handled"), 0u);
  EXPECT_EQ(dispatched("lost_claim"), 1u);
  EXPECT_EQ(stale_completions(), 1u);
  // The new claimant's completions hold.
  for (const store::ClaimedEvent& event : **taken) EXPECT_THAT(store_->complete_inbox_event(event), IsOk());
}

TEST_F(DispatcherTest, ARunWhoseLeaseRanOutUnclaimedIsGivenBackAndHandledNext) {
  add("111", "a0");
  add("111", "a1");
  bool advanced = false;
  journal_.on_call = [&] {
    if (!std::exchange(advanced, true)) clock_.advance(std::chrono::seconds(61));
  };
  drain();
  // a0's claim was still this worker's (nobody took it), so it completed; a1 was given back and
  // claimed again.
  EXPECT_THAT(journal_.handled["111"], ElementsAre("a0", "a1"));
  EXPECT_EQ(journal_.calls["a1"], 1);
  EXPECT_EQ(dispatched("handled"), 2u);
  EXPECT_EQ(dispatched("released"), 1u);
  EXPECT_EQ(stale_completions(), 0u);
}

TEST_F(DispatcherTest, WaitStoppedReturnsOnceTheLoopHasFinishedItsBatch) {
  EXPECT_TRUE(dispatcher_->wait_stopped(std::chrono::milliseconds(0))) << "a loop never started";
  asio::io_context loop_context;
  auto guard = asio::make_work_guard(loop_context);
  // The stop comes while a0's handler runs (a SIGTERM in the middle of a batch).
  journal_.on_call = [this] { dispatcher_->stop(); };
  add("111", "a0");
  add("111", "a1");
  dispatcher_->start(loop_context.get_executor());
  EXPECT_FALSE(dispatcher_->wait_stopped(std::chrono::milliseconds(0)));
  std::thread loop_thread([&] { loop_context.run(); });
  EXPECT_TRUE(dispatcher_->wait_stopped(std::chrono::seconds(5)));
  guard.reset();
  loop_context.stop();
  loop_thread.join();
  dispatcher_.reset();
  // a0 finished and committed; a1 was given back unhandled, claimable at once.
  EXPECT_THAT(journal_.handled["111"], ElementsAre("a0"));
  auto left = store_->claim_inbox_events("next-life", 10, std::chrono::seconds(60), 64);
  ASSERT_THAT(left, IsOk());
  ASSERT_THAT(*left, SizeIs(1));
  EXPECT_EQ(left->front().dedupe_key, "a1");
}

TEST_F(DispatcherTest, TheLoopWakesOnNotifyWithoutWaitingForItsPoll) {
  make_dispatcher({.idle_poll = std::chrono::seconds(30)});
  asio::io_context loop_context;
  auto guard = asio::make_work_guard(loop_context);
  dispatcher_->start(loop_context.get_executor());
  std::thread loop_thread([&] { loop_context.run(); });
  std::this_thread::sleep_for(std::chrono::milliseconds(50));  // let the loop go idle

  add("111", "a0");
  dispatcher_->notify();
  bool handled = false;
  for (int i = 0; i < 200 && !handled; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    const std::lock_guard lock(journal_.mutex);
    handled = !journal_.handled["111"].empty();
  }
  EXPECT_TRUE(handled) << "the event was not handled within 2 s of notify()";
  dispatcher_->stop();
  guard.reset();
  loop_context.stop();
  loop_thread.join();
  dispatcher_.reset();  // before the io_context its timer belongs to
}

}  // namespace
}  // namespace wik::webhooks
