// H2: power-loss durability of the SQLite store (docs/RELIABILITY.md).
//
// A kill -9 (H1) kills the process but not the machine: the kernel still writes what it was handed.
// A power cut also loses what the disk had not synced. Each seeded trial here runs the store on a
// PowerLossVfs (power_loss_vfs.h), as the webhook ingest does: several threads store deliveries
// through Store::insert_inbox_events (group commit), a worker claims and completes events with a
// reply, and sometimes a community is purged (which checkpoints and truncates the WAL). The power is
// cut just before the Nth file change the VFS counts (a write, truncation, sync, creation or
// deletion: N drawn across the whole workload, so many cuts land inside a commit) or after the
// workload, and a seeded choice of the unsynced changes survives. Then the trial reboots and checks:
// PRAGMA integrity_check is ok, every acknowledged insert is stored, every acknowledged completion is
// done, a done event has its reply and a pending one has none, no row appears that nobody sent, every
// stored payload opens to what was sent, an acknowledged purge left nothing, and the store reopens.
//
// It runs with the store's own setting (synchronous=FULL: nothing acknowledged may be lost), with
// NORMAL (reported: SQLite documents that WAL+NORMAL may roll back the last commits on a power
// cut), and with OFF, the control: SQLite never syncs, so cuts must lose acknowledged events, which
// shows the checker sees losses. Trials per setting: WIK_H2_TRIALS (default 100); first seed:
// WIK_H2_SEED. Thread timing varies, so a seed fixes the workload and the cut, not the interleaving.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sqlite3.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "core/key_ring.h"
#include "reliability/power_loss_vfs.h"
#include "store/sqlite/sqlite_database.h"
#include "store/store.h"
#include "support/fake_clock.h"

namespace wik::testing {
namespace {

using namespace std::chrono_literals;
using store::SqliteSync;
using Survival = PowerLossVfs::Survival;

constexpr const char* kDatabasePath = "/h2/wik.db";
constexpr std::array<const char*, 2> kCommunities = {"1", "2"};  // the trials' events go to these
constexpr const char* kPurgedCommunity = "9";                    // installed with events, purged by some trials
constexpr std::size_t kIngestThreads = 3;

// Returns environment variable `name` as a number within [low, high], or `fallback` when it is
// unset or not a number.
std::uint64_t environment_number(const char* name, std::uint64_t fallback, std::uint64_t low, std::uint64_t high) {
  const char* text = std::getenv(name);
  if (text == nullptr || *text == '\0') return fallback;
  std::uint64_t value = 0;
  const char* end = text + std::char_traits<char>::length(text);
  const auto [stop, error] = std::from_chars(text, end, value);
  return error == std::errc() && stop == end ? std::clamp(value, low, high) : fallback;
}

// ---- The PowerLossVfs's own model, checked file by file

// One file of a PowerLossVfs opened through SQLite's VFS interface.
class RawFile {
 public:
  RawFile(PowerLossVfs& vfs, const char* name, int flags) : vfs_(sqlite3_vfs_find(vfs.name().c_str())) {
    file_.resize((static_cast<std::size_t>(vfs_->szOsFile) + sizeof(std::max_align_t) - 1) / sizeof(std::max_align_t));
    opened_ = vfs_->xOpen(vfs_, name, handle(), flags | SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr);
  }
  ~RawFile() {
    if (opened_ == SQLITE_OK) handle()->pMethods->xClose(handle());
  }
  RawFile(const RawFile&) = delete;
  RawFile& operator=(const RawFile&) = delete;

  int opened() const { return opened_; }
  int write(std::string_view bytes, std::int64_t offset) {
    return handle()->pMethods->xWrite(handle(), bytes.data(), static_cast<int>(bytes.size()), offset);
  }
  int sync() { return handle()->pMethods->xSync(handle(), SQLITE_SYNC_NORMAL); }
  std::string read() {
    sqlite3_int64 size = 0;
    handle()->pMethods->xFileSize(handle(), &size);
    std::string bytes(static_cast<std::size_t>(size), '\0');
    handle()->pMethods->xRead(handle(), bytes.data(), static_cast<int>(size), 0);
    return bytes;
  }

 private:
  sqlite3_file* handle() { return reinterpret_cast<sqlite3_file*>(file_.data()); }

  sqlite3_vfs* vfs_;
  std::vector<std::max_align_t> file_ = {};
  int opened_ = SQLITE_ERROR;
};

// Returns the content of `name` after a reboot, or nullopt when the file is gone.
std::optional<std::string> content_after_reboot(PowerLossVfs& vfs, const char* name) {
  int exists = 0;
  sqlite3_vfs* raw = sqlite3_vfs_find(vfs.name().c_str());
  raw->xAccess(raw, name, SQLITE_ACCESS_EXISTS, &exists);
  if (exists == 0) return std::nullopt;
  return RawFile(vfs, name, SQLITE_OPEN_MAIN_JOURNAL).read();
}

TEST(PowerLossVfs, KeepsSyncedBytesAndDropsOrKeepsUnsyncedOnesAsTold) {
  PowerLossVfs vfs;
  for (const Survival survival : {Survival::kNone, Survival::kAll}) {
    {
      RawFile journal(vfs, "/t/journal", SQLITE_OPEN_MAIN_JOURNAL);
      ASSERT_EQ(journal.opened(), SQLITE_OK);
      ASSERT_EQ(journal.write("synced", 0), SQLITE_OK);
      ASSERT_EQ(journal.sync(), SQLITE_OK);  // the journal's first sync also syncs the directory
      ASSERT_EQ(journal.write("+unsynced", 6), SQLITE_OK);
      vfs.cut_now(1, survival);
      EXPECT_EQ(journal.write("after the cut", 0), SQLITE_IOERR_WRITE);
      EXPECT_EQ(journal.sync(), SQLITE_IOERR_FSYNC);
      EXPECT_EQ(journal.read(), "synced+unsynced");  // the process still sees its own writes
    }
    vfs.reboot();
    EXPECT_EQ(content_after_reboot(vfs, "/t/journal"), survival == Survival::kAll ? "synced+unsynced" : "synced");
    vfs.restore({});
  }
}

TEST(PowerLossVfs, NamesNeedADirectorySyncAsOnTheUnixVfs) {
  PowerLossVfs vfs;
  {
    RawFile database(vfs, "/t/db", SQLITE_OPEN_MAIN_DB);  // no directory sync for a database file
    ASSERT_EQ(database.write("bytes", 0), SQLITE_OK);
    ASSERT_EQ(database.sync(), SQLITE_OK);
    RawFile journal(vfs, "/t/old", SQLITE_OPEN_MAIN_JOURNAL);
    ASSERT_EQ(journal.write("journal", 0), SQLITE_OK);
    ASSERT_EQ(journal.sync(), SQLITE_OK);  // makes both names durable
  }
  vfs.restore(*vfs.durable_image());
  sqlite3_vfs* raw = sqlite3_vfs_find(vfs.name().c_str());
  ASSERT_EQ(raw->xDelete(raw, "/t/old", 0), SQLITE_OK);  // no directory sync: the deletion may not last
  {
    RawFile fresh(vfs, "/t/new", SQLITE_OPEN_MAIN_DB);
    ASSERT_EQ(fresh.write("never synced", 0), SQLITE_OK);
  }
  vfs.cut_now(1, Survival::kNone);
  vfs.reboot();
  EXPECT_EQ(content_after_reboot(vfs, "/t/db"), "bytes");
  EXPECT_EQ(content_after_reboot(vfs, "/t/old"), "journal");
  EXPECT_EQ(content_after_reboot(vfs, "/t/new"), std::nullopt);

  ASSERT_EQ(raw->xDelete(raw, "/t/old", 1), SQLITE_OK);  // with the directory synced it lasts
  vfs.cut_now(1, Survival::kNone);
  vfs.reboot();
  EXPECT_EQ(content_after_reboot(vfs, "/t/old"), std::nullopt);
}

TEST(PowerLossVfs, CutsBeforeTheNthChangeAndGarblesOnlyWrittenSectors) {
  PowerLossVfs vfs;
  ASSERT_EQ(RawFile(vfs, "/t/wal", SQLITE_OPEN_WAL).sync(), SQLITE_OK);  // created, and named durably
  vfs.restore(*vfs.durable_image());
  const std::string before(3 * 4096, 'a');
  {
    RawFile wal(vfs, "/t/wal", SQLITE_OPEN_WAL);
    ASSERT_EQ(wal.write(before, 0), SQLITE_OK);
    ASSERT_EQ(wal.sync(), SQLITE_OK);
    vfs.cut_at_operation(3, 7, Survival::kRandom);
    EXPECT_EQ(wal.write(std::string(4096 + 100, 'b'), 4000), SQLITE_OK);  // change 1: 3 sectors' pieces
    EXPECT_EQ(wal.write("c", 0), SQLITE_OK);                              // change 2
    EXPECT_FALSE(vfs.power_lost());
    EXPECT_EQ(wal.sync(), SQLITE_IOERR_FSYNC);  // change 3: the cut comes first
    EXPECT_TRUE(vfs.power_lost());
  }
  const PowerLossVfs::CutReport cut = vfs.last_cut();
  EXPECT_EQ(cut.kept + cut.dropped + cut.garbled, 4u);
  vfs.reboot();
  const std::optional<std::string> after = content_after_reboot(vfs, "/t/wal");
  ASSERT_TRUE(after.has_value());
  ASSERT_EQ(after->size(), before.size());
  EXPECT_EQ(after->substr(1, 4000 - 1), before.substr(1, 4000 - 1));  // bytes never written since stay
  EXPECT_EQ(after->substr(8196), before.substr(8196));
}

// ---- The store under power cuts

// What one trial asked of the store and what the store acknowledged. Thread-safe.
class History {
 public:
  struct Sent {
    std::string community;
    std::string payload;
  };

  void attempt(const std::string& key, Sent sent) {
    const std::lock_guard lock(mutex_);
    sent_.emplace(key, std::move(sent));
  }
  void acknowledge_insert(const std::string& key) {
    const std::lock_guard lock(mutex_);
    inserted_.insert(key);
  }
  void acknowledge_completion(const std::string& key) {
    const std::lock_guard lock(mutex_);
    if (sent_.contains(key)) completed_.insert(key);  // the purged community's own events are not tracked
  }
  void acknowledge_purge() {
    const std::lock_guard lock(mutex_);
    purged_ = true;
  }

  // Read once the workload's threads are joined.
  const std::map<std::string, Sent>& sent() const { return sent_; }
  const std::set<std::string>& inserted() const { return inserted_; }
  const std::set<std::string>& completed() const { return completed_; }
  bool purged() const { return purged_; }

 private:
  std::mutex mutex_;
  std::map<std::string, Sent> sent_;
  std::set<std::string> inserted_;
  std::set<std::string> completed_;
  bool purged_ = false;
};

// What the checker found after one trial's reboot.
struct Verdict {
  std::size_t acked_inserts = 0;
  std::size_t acked_completions = 0;
  std::size_t acked_purges = 0;
  std::size_t lost_inserts = 0;       // acknowledged, not stored
  std::size_t lost_completions = 0;   // acknowledged, not done
  std::size_t lost_purges = 0;        // acknowledged done, and the job or some of the rows came back
  std::vector<std::string> problems;  // corruption or inconsistency: must never happen

  bool corrupt() const { return !problems.empty(); }
};

// The figures of one synchronous setting.
struct Tally {
  std::uint64_t trials = 0;
  std::uint64_t cuts_mid_workload = 0;
  std::uint64_t acked = 0;  // inserts, completions and purges
  std::uint64_t lost = 0;
  std::uint64_t trials_with_loss = 0;
  std::uint64_t corrupt = 0;
  std::vector<std::string> first_problems;

  void add(const Verdict& verdict, std::uint64_t seed) {
    ++trials;
    acked += verdict.acked_inserts + verdict.acked_completions + verdict.acked_purges;
    const std::size_t trial_lost = verdict.lost_inserts + verdict.lost_completions + verdict.lost_purges;
    lost += trial_lost;
    if (trial_lost > 0) ++trials_with_loss;
    if (verdict.corrupt()) {
      ++corrupt;
      if (first_problems.size() < 5) {
        first_problems.push_back("seed " + std::to_string(seed) + ": " + verdict.problems[0]);
      }
    }
  }
};

// One trial: the checker's verdict, and where the power went.
struct Trial {
  Verdict verdict;
  bool cut_mid_workload = false;
  double operations_per_round = 0;  // file changes the workload made before the cut, per round
};

class PowerLossTrials {
 public:
  PowerLossTrials() : base_(make_base_image()) {}

  // Runs one trial with `synchronous`: cuts before the Nth change, N uniform in [1, 9/8 of the
  // changes its rounds are expected to make at `operations_per_round`] (0: no cut before the
  // workload ends).
  Trial run(SqliteSync synchronous, std::uint64_t seed, double operations_per_round) {
    std::mt19937_64 random(seed);
    const Plan plan = draw_plan(random);
    const Survival survival = draw_survival(random);
    vfs_.restore(*base_);
    if (operations_per_round > 0) {
      const auto expected = static_cast<std::uint64_t>(operations_per_round * static_cast<double>(plan.rounds));
      vfs_.cut_at_operation(1 + random() % (expected + expected / 8 + 1), random(), survival);
    }
    History history;
    Trial trial;
    {
      std::unique_ptr<store::Store> store = open_store(synchronous);
      if (store) run_workload(*store, plan, random, history);
      trial.cut_mid_workload = vfs_.power_lost();
      trial.operations_per_round = static_cast<double>(vfs_.operations()) / static_cast<double>(plan.rounds);
      vfs_.cut_now(random(), survival);
    }  // the store closes with the power off: everything it tries now fails
    vfs_.reboot();
    clock_.advance(1h);  // past every lease the trial's claims took
    trial.verdict = check(history);
    return trial;
  }

 private:
  // The shape of a trial's workload.
  struct Plan {
    std::uint64_t rounds = 0;
    std::optional<std::uint64_t> purge_round;  // the round that purges the purged community, if any
  };

  static Plan draw_plan(std::mt19937_64& random) {
    Plan plan{.rounds = 2 + random() % 5};
    if (random() % 3 == 0) plan.purge_round = random() % plan.rounds;
    return plan;
  }

  static Survival draw_survival(std::mt19937_64& random) {
    const auto roll = random() % 10;
    return roll < 2 ? Survival::kNone : roll < 3 ? Survival::kAll : Survival::kRandom;
  }

  store::StoreOptions store_options() const {
    store::StoreOptions options;
    options.password_cost = store::PasswordCost::minimum();
    return options;
  }

  Result<std::unique_ptr<store::SqliteDatabase>> open_database(SqliteSync synchronous) {
    return store::SqliteDatabase::open({.path = kDatabasePath, .synchronous = synchronous, .vfs = vfs_.name()});
  }

  // Returns the store on the VFS, or null when it cannot open (the power went while it opened).
  std::unique_ptr<store::Store> open_store(SqliteSync synchronous) {
    Result<std::unique_ptr<store::SqliteDatabase>> database = open_database(synchronous);
    if (!database) return nullptr;
    Result<std::unique_ptr<store::Store>> opened =
        store::Store::open(std::move(*database), ring_, clock_, store_options());
    return opened ? std::move(*opened) : nullptr;
  }

  // The migrated database every trial starts from: three installed communities, the one some
  // trials purge holding a few events. Durable as after a clean shutdown.
  std::shared_ptr<const PowerLossVfs::Image> make_base_image() {
    {
      std::unique_ptr<store::Store> store = open_store(SqliteSync::kFull);
      if (!store) fatal("H2: cannot create the base database");
      for (const char* community : {kCommunities[0], kCommunities[1], kPurgedCommunity}) {
        Result<store::Installation> installed = store->community(community)->put_installation(
            {.community_name = std::string("Community ") + community,
             .access_token = AccessToken("token-of-" + std::string(community)),
             .permissions = {"message"},
             .installed_by = {}});
        if (!installed) fatal("H2: cannot install a community: " + installed.error().detail());
      }
      for (int i = 0; i < 5; ++i) {
        const std::string key = "base-" + std::to_string(i);
        if (!store->community(kPurgedCommunity)
                 ->insert_inbox_event({.topic = "page", .dedupe_key = key, .payload = key})) {
          fatal("H2: cannot store the base events");
        }
      }
    }
    vfs_.flush_all();
    return vfs_.durable_image();
  }

  // A webhook delivery: events for the trial's communities, made before the threads start so the
  // seed fixes them.
  struct Delivery {
    std::vector<std::string> communities;
    std::vector<store::InboxEventInput> events;
  };

  Delivery make_delivery(std::mt19937_64& random, const std::string& prefix, History& history) {
    Delivery delivery;
    const auto events = 1 + random() % 4;
    for (std::uint64_t e = 0; e < events; ++e) {
      const std::string community = kCommunities[random() % kCommunities.size()];
      const std::string key = prefix + "-" + std::to_string(e);
      std::string payload = "{\"entry\":\"" + key + "\",\"filler\":\"";
      payload.append(200 + random() % 1300, static_cast<char>('a' + random() % 26));
      payload += "\"}";
      history.attempt(key, {.community = community, .payload = payload});
      delivery.communities.push_back(community);
      delivery.events.push_back({.topic = "page/conversations", .dedupe_key = key, .payload = std::move(payload)});
    }
    return delivery;
  }

  // Stores `delivery` as the webhook ingest does, recording what was acknowledged.
  static void ingest(store::Store& store, const Delivery& delivery, History& history) {
    std::vector<store::CommunityScope> scopes;
    scopes.reserve(delivery.events.size());
    std::vector<store::ScopedInboxEvent> writes;
    for (std::size_t i = 0; i < delivery.events.size(); ++i) {
      scopes.push_back(store.community(delivery.communities[i]).value());
      writes.push_back({.community = &scopes.back(), .event = delivery.events[i]});
    }
    const std::vector<Result<store::InsertOutcome>> outcomes = store.insert_inbox_events(writes);
    for (std::size_t i = 0; i < outcomes.size(); ++i) {
      if (outcomes[i]) history.acknowledge_insert(delivery.events[i].dedupe_key);
    }
  }

  // Claims a few events and completes each with one reply, as the dispatcher does; optionally
  // purges the purged community.
  void work(store::Store& store, bool purge, History& history) {
    Result<std::vector<store::ClaimedEvent>> claimed = store.claim_inbox_events("h2-worker", 4, 60s, 4);
    if (claimed && !claimed->empty()) {
      std::vector<std::string> replies;
      for (const store::ClaimedEvent& event : *claimed) {
        replies.push_back("{\"reply_to\":\"" + event.dedupe_key + "\"}");
      }
      std::vector<store::InboxCompletion> completions;
      for (std::size_t i = 0; i < claimed->size(); ++i) {
        completions.push_back({.event = (*claimed)[i], .replies = std::span(&replies[i], 1)});
      }
      Result<std::vector<store::CompletionOutcome>> outcomes = store.complete_inbox_events(completions);
      if (outcomes) {
        for (std::size_t i = 0; i < outcomes->size(); ++i) {
          if ((*outcomes)[i].completed) history.acknowledge_completion((*claimed)[i].dedupe_key);
        }
      }
    }
    if (!purge) return;
    Result<store::PurgeJob> job = store.community(kPurgedCommunity)->request_purge(clock_.now() + 24h * 30);
    if (!job) return;
    Result<store::PurgeJob> done = store.run_purge_job(job->id);
    if (done && done->state == store::PurgeState::kDone) history.acknowledge_purge();
  }

  void run_workload(store::Store& store, const Plan& plan, std::mt19937_64& random, History& history) {
    for (std::uint64_t round = 0; round < plan.rounds && !vfs_.power_lost(); ++round) {
      std::vector<std::vector<Delivery>> deliveries(kIngestThreads);
      for (std::size_t t = 0; t < kIngestThreads; ++t) {
        const auto count = 1 + random() % 2;
        for (std::uint64_t d = 0; d < count; ++d) {
          const std::string prefix = "r" + std::to_string(round) + "-t" + std::to_string(t) + "-d" + std::to_string(d);
          deliveries[t].push_back(make_delivery(random, prefix, history));
        }
      }
      std::vector<std::thread> threads;
      for (std::size_t t = 0; t < kIngestThreads; ++t) {
        threads.emplace_back([&, t] {
          for (const Delivery& delivery : deliveries[t]) ingest(store, delivery, history);
        });
      }
      threads.emplace_back([&] { work(store, plan.purge_round == round, history); });
      for (std::thread& thread : threads) thread.join();
    }
  }

  // An inbox row of the trial's communities after the reboot.
  struct StoredEvent {
    std::string state;
    std::string community;
    std::int64_t replies = 0;  // outbox rows queued with its completion
  };

  // Checks the rebooted database against `history`.
  Verdict check(const History& history) {
    Verdict verdict{.acked_inserts = history.inserted().size(),
                    .acked_completions = history.completed().size(),
                    .acked_purges = history.purged() ? 1u : 0u};
    std::map<std::string, StoredEvent> stored;  // by dedupe key
    std::int64_t purged_community_rows = 0;
    bool purge_done = false;
    {
      Result<std::unique_ptr<store::SqliteDatabase>> database = open_database(SqliteSync::kFull);
      if (!database) {
        verdict.problems.push_back("recovery cannot open the database: " + database.error().detail());
        verdict.lost_inserts = verdict.acked_inserts;
        verdict.lost_completions = verdict.acked_completions;
        verdict.lost_purges = verdict.acked_purges;
        return verdict;
      }
      Result<void> read = (*database)->transact([&](store::Transaction& tx) -> Result<void> {
        Result<store::Rows> integrity = tx.query("PRAGMA integrity_check");
        if (!integrity) return integrity.error();
        if (integrity->size() != 1 || integrity->front().text(0) != "ok") {
          verdict.problems.push_back("integrity_check: " +
                                     (integrity->empty() ? "no answer" : integrity->front().text(0)));
        }
        Result<store::Rows> rows = tx.query(
            "SELECT i.dedupe_key, i.state, i.community_id, (SELECT COUNT(*) FROM outbox o WHERE o.inbox_id = i.id "
            "AND o.community_id = i.community_id) FROM inbox i");
        if (!rows) return rows.error();
        for (const store::Row& row : *rows) {
          if (row.text(2) == kPurgedCommunity) {
            ++purged_community_rows;
            continue;
          }
          const bool fresh =
              stored
                  .try_emplace(row.text(0),
                               StoredEvent{.state = row.text(1), .community = row.text(2), .replies = row.integer(3)})
                  .second;
          if (!fresh) verdict.problems.push_back("two rows for event " + row.text(0));
        }
        Result<store::Rows> jobs = tx.query("SELECT COUNT(*) FROM purge_jobs WHERE state = 'done'");
        if (!jobs) return jobs.error();
        purge_done = jobs->front().integer(0) > 0;
        return ok_result();
      });
      if (!read) verdict.problems.push_back("cannot read the recovered database: " + read.error().detail());
    }
    for (const std::string& key : history.inserted()) {
      if (!stored.contains(key)) ++verdict.lost_inserts;
    }
    for (const std::string& key : history.completed()) {
      const auto found = stored.find(key);
      if (found == stored.end() || found->second.state != "done") ++verdict.lost_completions;
    }
    for (const auto& [key, row] : stored) {
      const auto sent = history.sent().find(key);
      if (sent == history.sent().end() || sent->second.community != row.community) {
        verdict.problems.push_back("a row nobody sent: " + key);
      } else if (row.state != "pending" && row.state != "done") {
        verdict.problems.push_back("event " + key + " is " + row.state);
      } else if (row.replies != (row.state == "done" ? 1 : 0)) {
        verdict.problems.push_back("event " + key + " is " + row.state + " with " + std::to_string(row.replies) +
                                   " replies queued");
      }
    }
    if (history.purged() && (purged_community_rows != 0 || !purge_done)) ++verdict.lost_purges;
    check_reopened_store(history, stored, verdict);
    return verdict;
  }

  // Reopens the store and claims every pending event: each payload must open to what was sent.
  void check_reopened_store(const History& history, const std::map<std::string, StoredEvent>& stored,
                            Verdict& verdict) {
    std::unique_ptr<store::Store> store = open_store(SqliteSync::kFull);
    if (!store) {
      verdict.problems.push_back("the store does not reopen");
      return;
    }
    Result<std::vector<store::ClaimedEvent>> claimed = store->claim_inbox_events("h2-checker", 100000, 60s, 100000);
    if (!claimed) {
      verdict.problems.push_back("cannot claim the recovered events: " + claimed.error().detail());
      return;
    }
    std::size_t claimed_here = 0;
    for (const store::ClaimedEvent& event : *claimed) {
      if (event.community_id == kPurgedCommunity) continue;
      ++claimed_here;
      const auto sent = history.sent().find(event.dedupe_key);
      if (sent != history.sent().end() && event.payload != sent->second.payload) {
        verdict.problems.push_back("event " + event.dedupe_key + " opens to another payload");
      }
    }
    const auto pending = static_cast<std::size_t>(
        std::count_if(stored.begin(), stored.end(), [](const auto& entry) { return entry.second.state == "pending"; }));
    if (claimed_here != pending) verdict.problems.push_back("pending events the store cannot claim");
  }

  PowerLossVfs vfs_;
  FakeClock clock_;
  core::KeyRing ring_ = core::KeyRing::generate("k1");
  const std::shared_ptr<const PowerLossVfs::Image> base_;  // last: made with the members above
};

struct Setting {
  const char* name;
  SqliteSync synchronous;
};

// Runs `trials` trials with `setting`, seeds from `first_seed` on, and returns their figures.
Tally run_trials(PowerLossTrials& runner, const Setting& setting, std::uint64_t trials, std::uint64_t first_seed) {
  // Trials without a cut before their end (seeds past the counted ones) measure how many changes a
  // round makes.
  constexpr std::uint64_t kMeasuringTrials = 8;
  double measured = 0;
  for (std::uint64_t i = 0; i < kMeasuringTrials; ++i) {
    measured += runner.run(setting.synchronous, first_seed + trials + i, 0).operations_per_round;
  }
  const double operations_per_round = measured / kMeasuringTrials;
  Tally tally;
  for (std::uint64_t i = 0; i < trials; ++i) {
    const Trial trial = runner.run(setting.synchronous, first_seed + i, operations_per_round);
    tally.add(trial.verdict, first_seed + i);
    if (trial.cut_mid_workload) ++tally.cuts_mid_workload;
  }
  std::cout << "H2 powerloss sync=" << setting.name << ": trials=" << tally.trials
            << ", cut mid-workload=" << tally.cuts_mid_workload << ", changes per round~"
            << static_cast<std::uint64_t>(operations_per_round) << ", acked=" << tally.acked
            << ", acked lost=" << tally.lost << " (in " << tally.trials_with_loss
            << " trials), corrupt=" << tally.corrupt << std::endl;
  for (const std::string& problem : tally.first_problems) std::cout << "  " << problem << std::endl;
  return tally;
}

TEST(H2PowerLoss, AcknowledgedWritesSurvivePowerCutsWithFullSyncAndTheControlLosesThem) {
  const std::uint64_t trials = environment_number("WIK_H2_TRIALS", 100, 1, 100000);
  const std::uint64_t first_seed = environment_number("WIK_H2_SEED", 1, 0, UINT64_MAX / 2);
  PowerLossTrials runner;

  const Tally full = run_trials(runner, {"FULL", SqliteSync::kFull}, trials, first_seed);
  const Tally normal = run_trials(runner, {"NORMAL", SqliteSync::kNormal}, trials, first_seed);
  const Tally off = run_trials(runner, {"OFF", SqliteSync::kOff}, trials, first_seed);

  std::cout << "H2 powerloss sync=FULL: trials=" << full.trials << ", acked lost=" << full.lost
            << ", corrupt=" << full.corrupt << "; NORMAL: lost=" << normal.lost << " of " << normal.acked
            << ", corrupt=" << normal.corrupt << "; control sync=OFF: lost=" << off.lost << " of " << off.acked
            << (off.lost > 0 ? " >0 (detector works)" : " (detector FAILED)") << ", corrupt=" << off.corrupt
            << std::endl;

  EXPECT_EQ(full.lost, 0u) << "the production setting lost acknowledged writes";
  EXPECT_EQ(full.corrupt, 0u) << ::testing::PrintToString(full.first_problems);
  EXPECT_EQ(normal.corrupt, 0u) << ::testing::PrintToString(normal.first_problems);
  EXPECT_GT(off.lost, 0u) << "with synchronous=OFF nothing is synced: a checker that finds no loss is blind";
  EXPECT_GT(full.acked, 0u);
}

}  // namespace
}  // namespace wik::testing
