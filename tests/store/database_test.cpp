// The Database contract on every engine, below the Store: statements run again after a migration
// changed what they return, a bad statement fails alone and leaves its connection usable, a failed
// statement inside a savepoint can be rolled back to it, and statements beyond what one connection
// keeps prepared still run, and on SQLite take no memory of the connection's. PostgreSQL prepares
// statements and pipelines BEGIN with the first one, so these are the cases where a cache of
// statements could answer wrongly.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "store/database.h"
#include "store/store_test_fixture.h"
#include "store/test_engines.h"
#include "support/result_matchers.h"

#include <sqlite3.h>

#include <string>

namespace wik::store::testing {
namespace {

using wik::testing::IsOk;

template <class Engine>
class DatabaseTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_THAT(engine_.create(), IsOk());
    Result<std::unique_ptr<Database>> database = engine_.open();
    ASSERT_THAT(database, IsOk());
    database_ = std::move(*database);
    ASSERT_THAT(script("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)"), IsOk());
  }

  Result<void> script(std::string_view sql) {
    return database_->transact([&](Transaction& tx) { return tx.execute_script(sql); });
  }

  Result<Rows> query(std::string_view sql, std::initializer_list<SqlValue> params = {}) {
    return transact_value(*database_, [&](Transaction& tx) { return tx.query(sql, params); });
  }

  Engine engine_;
  std::unique_ptr<Database> database_;
};
TYPED_TEST_SUITE(DatabaseTest, Engines, EngineNames);

TYPED_TEST(DatabaseTest, AStatementRunsAgainAfterAMigrationChangedWhatItReturns) {
  ASSERT_THAT(this->script("INSERT INTO notes (id, body) VALUES (1, 'one')"), IsOk());
  const char* const select_all = "SELECT * FROM notes WHERE id = $1";
  Result<Rows> before = this->query(select_all, {std::int64_t{1}});
  ASSERT_THAT(before, IsOk());
  ASSERT_EQ(before->at(0).size(), 2U);

  ASSERT_THAT(this->script("ALTER TABLE notes ADD COLUMN stars INTEGER DEFAULT 7"), IsOk());

  Result<Rows> after = this->query(select_all, {std::int64_t{1}});
  ASSERT_THAT(after, IsOk()) << (after ? "" : after.error().detail());
  ASSERT_EQ(after->at(0).size(), 3U);
  EXPECT_EQ(after->at(0).integer(2), 7);
}

TYPED_TEST(DatabaseTest, ABadStatementFailsAloneAndEveryConnectionStaysUsable) {
  // More runs than a pool has connections, so every pooled connection meets the bad statement.
  for (int run = 0; run < 10; ++run) {
    Result<Rows> bad = this->query("SELEC body FROM notes WHERE id = $1", {std::int64_t{1}});
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error().code(), ErrorCode::kInternal);
    Result<Rows> good = this->query("SELECT count(*) FROM notes WHERE id > $1", {std::int64_t{0}});
    ASSERT_THAT(good, IsOk()) << (good ? "" : good.error().detail());
    EXPECT_EQ(good->at(0).integer(0), 0);
  }
}

TYPED_TEST(DatabaseTest, AFailedStatementRollsBackItsWholeTransaction) {
  ASSERT_THAT(this->script("INSERT INTO notes (id, body) VALUES (1, 'one')"), IsOk());
  Result<void> done = this->database_->transact([](Transaction& tx) -> Result<void> {
    Result<std::int64_t> second = tx.execute("INSERT INTO notes (id, body) VALUES ($1, $2)", {std::int64_t{2}, "two"});
    if (!second) return second.error();
    Result<std::int64_t> clash = tx.execute("INSERT INTO notes (id, body) VALUES ($1, $2)", {std::int64_t{1}, "x"});
    if (!clash) return clash.error();
    return ok_result();
  });
  ASSERT_FALSE(done);
  EXPECT_EQ(done.error().code(), ErrorCode::kConflict);
  Result<Rows> rows = this->query("SELECT id FROM notes WHERE id >= $1 ORDER BY id", {std::int64_t{0}});
  ASSERT_THAT(rows, IsOk());
  ASSERT_EQ(rows->size(), 1U);
  EXPECT_EQ(rows->at(0).integer(0), 1);
}

TYPED_TEST(DatabaseTest, ASavepointRecoversFromAFailedStatementAndTheRestCommits) {
  ASSERT_THAT(this->script("INSERT INTO notes (id, body) VALUES (1, 'one')"), IsOk());
  Result<void> done = this->database_->transact([](Transaction& tx) -> Result<void> {
    if (Result<std::int64_t> saved = tx.execute("SAVEPOINT attempt"); !saved) return saved.error();
    Result<std::int64_t> clash = tx.execute("INSERT INTO notes (id, body) VALUES ($1, $2)", {std::int64_t{1}, "x"});
    if (clash) return Error(ErrorCode::kInternal, "the duplicate key was accepted");
    if (Result<std::int64_t> back = tx.execute("ROLLBACK TO SAVEPOINT attempt"); !back) return back.error();
    Result<std::int64_t> second = tx.execute("INSERT INTO notes (id, body) VALUES ($1, $2)", {std::int64_t{2}, "two"});
    if (!second) return second.error();
    return ok_result();
  });
  ASSERT_THAT(done, IsOk()) << (done ? "" : done.error().detail());
  Result<Rows> rows = this->query("SELECT id, body FROM notes WHERE id >= $1 ORDER BY id", {std::int64_t{0}});
  ASSERT_THAT(rows, IsOk());
  ASSERT_EQ(rows->size(), 2U);
  EXPECT_EQ(rows->at(1).text(1), "two");
}

TYPED_TEST(DatabaseTest, StatementsBeyondWhatAConnectionKeepsPreparedStillRun) {
  // Distinct texts, then the first ones again: some run prepared, the rest unnamed.
  const auto statement = [](std::size_t k) { return "SELECT $1 + " + std::to_string(k); };
  for (std::size_t pass = 0; pass < 2; ++pass) {
    for (std::size_t k = 0; k < kMaxPreparedStatements + 20; k += pass == 0 ? 1 : 37) {
      const std::string sql = statement(k);
      Result<Rows> rows = this->query(sql, {std::int64_t{1000}});
      ASSERT_THAT(rows, IsOk()) << sql;
      EXPECT_EQ(rows->at(0).integer(0), 1000 + static_cast<std::int64_t>(k)) << sql;
    }
  }
}

using SqliteDatabaseTest = DatabaseTest<SqliteEngine>;

TEST_F(SqliteDatabaseTest, StatementsBeyondTheCacheTakeNoMoreMemory) {
  // The connection keeps kMaxPreparedStatements; each further text is prepared for its run and
  // freed after it, so SQLite's own allocations stay flat however many texts an integration builds
  // (about 3.5 KB a cached statement: a thousand more would be megabytes).
  const auto run_distinct = [&](std::size_t from, std::size_t to) {
    for (std::size_t k = from; k < to; ++k) {
      const std::string sql = "SELECT $1 + " + std::to_string(k);
      Result<Rows> rows = query(sql, {std::int64_t{1}});
      ASSERT_THAT(rows, IsOk()) << sql;
      EXPECT_EQ(rows->at(0).integer(0), 1 + static_cast<std::int64_t>(k));
    }
  };
  run_distinct(0, kMaxPreparedStatements);
  const sqlite3_int64 cache_full = sqlite3_memory_used();
  run_distinct(kMaxPreparedStatements, kMaxPreparedStatements + 1000);
  EXPECT_LT(sqlite3_memory_used() - cache_full, 256 * 1024);
}

TYPED_TEST(DatabaseTest, NullParametersAndEmptyTransactionsWork) {
  ASSERT_THAT(this->database_->transact([](Transaction&) { return ok_result(); }), IsOk());
  Result<void> inserted = this->database_->transact([](Transaction& tx) -> Result<void> {
    Result<std::int64_t> ran = tx.execute("INSERT INTO notes (id, body) VALUES ($1, $2)", {std::int64_t{5}, nullptr});
    if (!ran) return ran.error();
    return ok_result();
  });
  ASSERT_THAT(inserted, IsOk());
  Result<Rows> rows = this->query("SELECT body FROM notes WHERE id = $1", {std::int64_t{5}});
  ASSERT_THAT(rows, IsOk());
  ASSERT_EQ(rows->size(), 1U);
  EXPECT_TRUE(rows->at(0).is_null(0));
}

}  // namespace
}  // namespace wik::store::testing
