// Purges, on every engine: what a purge deletes (every row of the community in every kit table and
// registered app table, and nothing of anyone else), that every table naming a community is covered,
// and what is left in the files afterwards (docs/storage.md, "What deleted means").
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/secure_random.h"
#include "core/hex.h"
#include "store/migrations.h"
#include "store/store_test_fixture.h"

#include <atomic>
#include <fstream>
#include <iterator>
#include <iostream>
#include <limits>
#include <set>
#include <thread>

namespace wik::store::testing {
namespace {

using ::testing::Contains;
using ::testing::IsEmpty;
using ::testing::Pair;
using ::testing::SizeIs;
using wik::testing::HasError;
using wik::testing::IsOk;
using namespace std::chrono_literals;

template <class Engine>
class StorePurgeTest : public StoreTest<Engine> {
 protected:
  static constexpr int kAppRows = 200;

  void create_app_table() {
    ASSERT_THAT(this->raw().transact([](Transaction& tx) {
      return tx.execute_script(
          "CREATE TABLE tickets (community_id TEXT NOT NULL, body TEXT NOT NULL);"
          "CREATE INDEX tickets_community ON tickets (community_id)");
    }),
                IsOk());
    ASSERT_THAT(this->store_->register_app_table({.table = "tickets", .community_column = "community_id"}), IsOk());
  }

  // Gives `community_id` rows in every kit table and `kAppRows` app rows, each holding `canary`.
  void seed(const std::string& community_id, const std::string& canary) {
    CommunityScope community = this->install(community_id, "token-" + canary);
    ASSERT_THAT(community.put_identity("asid-" + canary, canary + "@customer.test"), IsOk());
    // An account-link URL made for a person (its token hash, the person's name).
    ASSERT_THAT(community.create_account_link(
                    {.user_id = "asid-" + canary, .email = canary + "@customer.test", .person_name = "Name " + canary},
                    std::chrono::minutes(15)),
                IsOk());
    for (int i = 0; i < 3; ++i) {
      ASSERT_THAT(community.insert_inbox_event(
                      {.topic = "page", .dedupe_key = "m" + std::to_string(i), .payload = "payload-" + canary}),
                  IsOk());
    }
    // A Graph error in the community's health row (plain text: the admin pages show it).
    ASSERT_THAT(community.record_graph_error("graph error 2 for " + canary), IsOk());
    // A setting an admin saved (values may be personal data).
    ASSERT_THAT(community.put_setting("contact", "call " + canary), IsOk());
    // A reinstall of the community waiting for its confirmation (its token sealed with the key ring).
    const TimePoint now = this->clock_.now();
    ASSERT_THAT(this->store_->add_pending_install({.token = AccessToken("pending-token-" + canary),
                                                   .summary = {.community_id = community_id,
                                                               .community_name = "Pending " + canary,
                                                               .permissions = {"message"},
                                                               .return_url = "",
                                                               .code_hash = "c0de",
                                                               .deadline = now + 300s,
                                                               .tombstone_until = now + 900s}},
                                                  10),
                IsOk());
    ASSERT_THAT(this->raw().transact([&](Transaction& tx) -> Result<void> {
      // A queued reply (sealed in real use; in plain text here, so the canary scan sees it go).
      Result<std::int64_t> reply = tx.execute(
          "INSERT INTO outbox (community_id, inbox_id, body_sealed, created_at, attempts, next_attempt_at, last_error) "
          "VALUES ($1, 0, $2, 0, 0, 0, '')",
          {community_id, "reply " + canary});
      if (!reply) return reply.error();
      for (int i = 0; i < kAppRows; ++i) {
        Result<std::int64_t> inserted = tx.execute("INSERT INTO tickets (community_id, body) VALUES ($1, $2)",
                                                   {community_id, "ticket " + std::to_string(i) + " " + canary});
        if (!inserted) return inserted.error();
      }
      return ok_result();
    }),
                IsOk());
  }

  // Moves one event of every community to the dead letters.
  void dead_letter_one_each() {
    StoreOptions options = test_options();
    options.max_attempts = 1;
    this->reopen(options);
    Result<std::vector<ClaimedEvent>> claimed = this->store_->claim_inbox_events("w", 100, 30s);
    ASSERT_THAT(claimed, IsOk());
    for (const ClaimedEvent& event : *claimed) {
      ASSERT_THAT(this->store_->fail_inbox_event(event, "failed", this->clock_.now()), IsOk());
    }
    this->reopen();
  }

  // Returns how many rows of `community_id` every table naming communities holds.
  std::int64_t rows_of(const std::string& community_id) {
    std::int64_t total = 0;
    for (const Row& table : this->query(Engine::tables_with_column_sql(), {"community_id"})) {
      total += this->count("SELECT COUNT(*) FROM " + table.text(0) + " WHERE community_id = $1", {community_id});
    }
    return total;
  }

  PurgeJob purge(const std::string& community_id) {
    Result<PurgeJob> requested = this->scope(community_id).request_purge(this->clock_.now() + 24h * 30);
    EXPECT_THAT(requested, IsOk());
    Result<PurgeJob> done = this->store_->run_purge_job(requested->id);
    EXPECT_THAT(done, IsOk());
    return *done;
  }
};
TYPED_TEST_SUITE(StorePurgeTest, Engines, EngineNames);

// Returns how many times `needle` occurs in `files`. A file the engine removed since the listing
// (PostgreSQL drops its relation cache file, global/pg_internal.init, after any DDL) holds nothing.
std::int64_t occurrences(const std::vector<std::filesystem::path>& files, const std::string& needle) {
  std::int64_t found = 0;
  for (const auto& file : files) {
    std::ifstream in(file, std::ios::binary);
    if (!in) continue;
    const std::string bytes{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    for (std::size_t at = bytes.find(needle); at != std::string::npos; at = bytes.find(needle, at + 1)) ++found;
  }
  return found;
}

std::string fresh_canary() { return "CANARY" + core::to_hex(core::secure_random_bytes(6)); }

TYPED_TEST(StorePurgeTest, DeletesEveryRowOfTheCommunityAndNothingElse) {
  this->create_app_table();
  this->seed("100", "alpha");
  this->seed("200", "beta");
  this->dead_letter_one_each();
  const std::int64_t other_rows = this->rows_of("200");

  const PurgeJob job = this->purge("100");
  EXPECT_EQ(job.state, PurgeState::kDone);
  EXPECT_FALSE(job.community_id.has_value());
  EXPECT_EQ(job.completed_at, this->clock_.now());
  EXPECT_THAT(job.rows_deleted, Contains(Pair("community_keys", 1)));
  EXPECT_THAT(job.rows_deleted, Contains(Pair("installations", 1)));
  EXPECT_THAT(job.rows_deleted, Contains(Pair("identities", 1)));
  EXPECT_THAT(job.rows_deleted, Contains(Pair("account_link_tokens", 1)));
  EXPECT_THAT(job.rows_deleted, Contains(Pair("inbox", 3)));
  EXPECT_THAT(job.rows_deleted, Contains(Pair("dead_letters", 1)));
  EXPECT_THAT(job.rows_deleted, Contains(Pair("community_health", 1)));
  EXPECT_THAT(job.rows_deleted, Contains(Pair("community_settings", 1)));
  EXPECT_THAT(job.rows_deleted, Contains(Pair("pending_installs", 1)));
  EXPECT_THAT(job.rows_deleted, Contains(Pair("tickets", this->kAppRows)));
  EXPECT_EQ(this->rows_of("100"), 0);
  EXPECT_EQ(this->rows_of("200"), other_rows);
  EXPECT_EQ(this->scope("200").installation().value().access_token.expose(), "token-beta");

  // Nothing can be stored for the community any more, and the audit trail says what happened.
  EXPECT_THAT(this->scope("100").insert_inbox_event({.topic = "page", .dedupe_key = "late", .payload = "x"}),
              HasError(ErrorCode::kNotFound));
  Result<std::vector<AuditEntry>> trail = this->store_->audit_trail("100");
  ASSERT_THAT(trail, IsOk());
  ASSERT_FALSE(trail->empty());
  EXPECT_EQ(trail->back().action, "purge_completed");
  EXPECT_THAT(trail->back().detail, ::testing::HasSubstr("tickets=200"));
  EXPECT_THAT(trail->back().detail, ::testing::HasSubstr("crypto_shredded=yes"));

  // A re-run (a replayed deauthorization, a second replica) changes nothing.
  Result<PurgeJob> again = this->store_->run_purge_job(job.id);
  ASSERT_THAT(again, IsOk());
  EXPECT_EQ(again->rows_deleted, job.rows_deleted);
  EXPECT_EQ(this->store_->audit_trail("100").value().size(), trail->size());
  EXPECT_THAT(this->store_->list_purge_jobs(PurgeState::kPending).value(), IsEmpty());
  EXPECT_THAT(this->store_->list_purge_jobs(PurgeState::kDone).value(), SizeIs(1));
  EXPECT_THAT(this->store_->run_purge_job(job.id + 100), HasError(ErrorCode::kNotFound));
}

TYPED_TEST(StorePurgeTest, AReinstallRunsTheOpenPurgeFirstSoItsOwnRowsSurviveIt) {
  this->create_app_table();
  this->seed("8", "before");
  ASSERT_THAT(this->scope("8").revoke_installation(), IsOk());
  Result<PurgeJob> requested = this->scope("8").request_purge(this->clock_.now() + 24h * 30);
  ASSERT_THAT(requested, IsOk());

  this->clock_.advance(1s);
  CommunityScope again = this->install("8", "token-after-reinstall");  // before the purge worker ran
  ASSERT_THAT(again.insert_inbox_event({.topic = "page/messages", .dedupe_key = "after", .payload = "{}"}), IsOk());
  EXPECT_EQ(this->store_->list_purge_jobs(PurgeState::kDone).value().size(), 1u) << "the reinstall ran it";
  EXPECT_EQ(this->count("SELECT COUNT(*) FROM inbox WHERE community_id = '8' AND dedupe_key <> 'after'"), 0)
      << "the uninstalled install's rows are gone";

  Result<PurgeJob> late = this->store_->run_purge_job(requested->id);  // the worker's turn comes
  ASSERT_THAT(late, IsOk());
  EXPECT_EQ(late->state, PurgeState::kDone);
  Result<Installation> kept = again.installation();
  ASSERT_THAT(kept, IsOk());
  EXPECT_EQ(kept->state, InstallState::kActive);
  EXPECT_EQ(kept->access_token.expose(), "token-after-reinstall");
  EXPECT_EQ(this->count("SELECT COUNT(*) FROM inbox WHERE community_id = '8'"), 1);
}

TYPED_TEST(StorePurgeTest, OneWorkerRunsAJobWhileItsLeaseLastsAndAnotherTakesOverAfter) {
  this->create_app_table();
  this->seed("300", "gamma");
  Result<PurgeJob> requested = this->scope("300").request_purge(this->clock_.now() + 24h);
  ASSERT_THAT(requested, IsOk());
  const std::int64_t rows_before = this->rows_of("300");
  // Another replica took the job and holds its lease (on the queue clock, as far ahead as it gets).
  ASSERT_THAT(this->raw().transact([&](Transaction& tx) -> Result<void> {
    Result<std::int64_t> taken = tx.execute(
        "UPDATE purge_jobs SET state = 'running', claimed_by = 'other-replica', lease_until = $2, runs = 1 "
        "WHERE id = $1",
        {requested->id, std::numeric_limits<std::int64_t>::max()});
    if (!taken) return taken.error();
    return ok_result();
  }),
              IsOk());

  EXPECT_THAT(this->store_->run_purge_job(requested->id), HasError(ErrorCode::kConflict));
  EXPECT_EQ(this->rows_of("300"), rows_before) << "nothing was deleted beside the worker holding the job";

  // That worker died: once its lease ran out, this one takes the job over and finishes it.
  ASSERT_THAT(this->raw().transact([&](Transaction& tx) -> Result<void> {
    Result<std::int64_t> expired = tx.execute("UPDATE purge_jobs SET lease_until = 0 WHERE id = $1", {requested->id});
    if (!expired) return expired.error();
    return ok_result();
  }),
              IsOk());
  Result<PurgeJob> done = this->store_->run_purge_job(requested->id);
  ASSERT_THAT(done, IsOk());
  EXPECT_EQ(done->state, PurgeState::kDone);
  EXPECT_EQ(done->runs, 2);
  EXPECT_EQ(this->rows_of("300"), 0);
}

TYPED_TEST(StorePurgeTest, OfWorkersRacingForAJobOneRunsIt) {
  this->create_app_table();
  this->seed("400", "delta");
  Result<PurgeJob> requested = this->scope("400").request_purge(this->clock_.now() + 24h);
  ASSERT_THAT(requested, IsOk());
  std::vector<std::unique_ptr<Store>> replicas;
  for (int i = 0; i < 4; ++i) {
    Result<std::unique_ptr<Database>> database = this->engine_.open();
    ASSERT_THAT(database, IsOk());
    Result<std::unique_ptr<Store>> replica = Store::open(std::move(*database), this->ring_, this->clock_, test_options());
    ASSERT_THAT(replica, IsOk());
    replicas.push_back(std::move(*replica));
  }
  std::atomic<int> failures{0};
  {
    std::vector<std::jthread> workers;
    for (const auto& replica : replicas) {
      workers.emplace_back([&, store = replica.get()] {
        Result<PurgeJob> run = store->run_purge_job(requested->id);
        if (!run && run.error().code() != ErrorCode::kConflict) ++failures;
      });
    }
  }
  EXPECT_EQ(failures, 0);
  Result<PurgeJob> job = this->store_->run_purge_job(requested->id);
  ASSERT_THAT(job, IsOk());
  EXPECT_EQ(job->state, PurgeState::kDone);
  EXPECT_EQ(job->runs, 1) << "more than one worker took the job";
  EXPECT_EQ(this->rows_of("400"), 0);
}

TYPED_TEST(StorePurgeTest, ARepeatedRequestReturnsTheUnfinishedJob) {
  this->install("7");
  Result<PurgeJob> first = this->scope("7").request_purge(this->clock_.now() + 1h);
  ASSERT_THAT(first, IsOk());
  EXPECT_EQ(first->state, PurgeState::kPending);
  EXPECT_EQ(first->community_id, "7");
  EXPECT_EQ(first->deadline, this->clock_.now() + 1h);
  Result<PurgeJob> second = this->scope("7").request_purge(this->clock_.now() + 2h);
  ASSERT_THAT(second, IsOk());
  EXPECT_EQ(second->id, first->id);
  EXPECT_THAT(this->store_->list_purge_jobs().value(), SizeIs(1));
}

TYPED_TEST(StorePurgeTest, EveryTableNamingACommunityIsPurged) {
  this->create_app_table();
  std::set<std::string> covered = {"community_keys", "purge_jobs"};
  for (const CommunityTable& table : kit_community_tables()) covered.emplace(table.table);
  const std::vector<AppTable> apps = this->store_->app_tables().value();
  for (const AppTable& table : apps) covered.insert(table.table);
  std::vector<std::string> uncovered;
  for (const Row& row : this->query(TypeParam::tables_with_column_sql(), {"community_id"})) {
    if (!covered.contains(row.text(0))) uncovered.push_back(row.text(0));
  }
  EXPECT_THAT(uncovered, IsEmpty()) << "tables with a community_id column that no purge reaches";
}

// Plants canaries for one community, purges it, and scans the database files and the WAL for them.
TYPED_TEST(StorePurgeTest, LeavesNoReadableCopyOfSealedFields) {
  this->create_app_table();
  const std::string canary = fresh_canary();
  const std::string survivor = fresh_canary();
  this->seed("300", canary);
  this->seed("400", survivor);
  this->dead_letter_one_each();
  const std::string wrapped_key =
      this->query("SELECT wrapped_key FROM community_keys WHERE community_id = '300'").at(0).text(0);
  const std::string sealed_token =
      this->query("SELECT access_token_sealed FROM installations WHERE community_id = '300'").at(0).text(0);
  ASSERT_THAT(this->engine_.flush(this->raw()), IsOk());
  DatabaseFiles files = this->engine_.files();
  const auto everywhere = [&](const std::string& needle) {
    return occurrences(files.data, needle) + occurrences(files.wal, needle);
  };
  // Sealed fields never reach the files in plain text, before the purge as after it.
  EXPECT_EQ(everywhere("token-" + canary), 0);
  EXPECT_EQ(everywhere("payload-" + canary), 0);
  ASSERT_GT(everywhere(wrapped_key) + everywhere(sealed_token), 0) << "the scan must see stored values";

  this->purge("300");
  ASSERT_THAT(this->engine_.flush(this->raw()), IsOk());
  files = this->engine_.files();
  EXPECT_EQ(everywhere("token-" + canary), 0);
  EXPECT_EQ(everywhere("payload-" + canary), 0);
  // The wrapped data key is gone from the table files (SQLite: zeroed and checkpointed;
  // PostgreSQL: VACUUM FULL of community_keys); without it the sealed copies cannot be opened.
  EXPECT_EQ(this->count("SELECT COUNT(*) FROM community_keys WHERE community_id = '300'"), 0);
  EXPECT_EQ(occurrences(files.data, wrapped_key), 0);

  const std::int64_t key_in_wal = occurrences(files.wal, wrapped_key);
  const std::int64_t sealed_left = everywhere(sealed_token);
  const std::int64_t plain_in_data = occurrences(files.data, canary);  // app rows, emails, health
  const std::int64_t plain_in_wal = occurrences(files.wal, canary);
  if constexpr (TypeParam::kPurgeErasesPlaintext) {
    EXPECT_EQ(key_in_wal, 0);
    EXPECT_EQ(sealed_left, 0);
    EXPECT_EQ(plain_in_data, 0);
    EXPECT_EQ(plain_in_wal, 0);
  }
  // The surviving community's plain rows are still there: the scan sees what it should.
  EXPECT_GT(occurrences(files.data, survivor) + occurrences(files.wal, survivor), 0);
  std::cout << "E4 purge [" << TypeParam::kName << "]: sealed plaintext hits=0, DEK row=0, DEK in table files=0, "
            << "DEK in WAL=" << key_in_wal << ", sealed ciphertext copies=" << sealed_left
            << ", plaintext app/identity canaries: table files=" << plain_in_data << " WAL=" << plain_in_wal
            << " (of " << this->kAppRows + 1 << " rows)\n";
}

}  // namespace
}  // namespace wik::store::testing
