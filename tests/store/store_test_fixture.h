// StoreTest<Engine>: the fixture every typed store suite shares. Each test gets a fresh database on
// its engine, a Store opened on it with a FakeClock (no test sleeps) and a one-key ring, and a
// second raw handle on the same database to look at what is really stored.
#pragma once

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/key_ring.h"
#include "store/store.h"
#include "store/test_engines.h"
#include "support/fake_clock.h"
#include "support/result_matchers.h"

#include <memory>
#include <string>
#include <string_view>

namespace wik::store::testing {

using Engines = ::testing::Types<SqliteEngine, PostgresEngine>;

struct EngineNames {
  template <class Engine>
  static std::string GetName(int) {
    return Engine::kName;
  }
};

// Options for tests: argon2id at its minimum cost, everything else as in production.
inline StoreOptions test_options() {
  StoreOptions options;
  options.password_cost = PasswordCost::minimum();
  return options;
}

template <class Engine>
class StoreTest : public ::testing::Test {
 public:  // scenario helpers (store_durability_test.cpp) drive the fixture too
  void SetUp() override {
    Result<void> created = engine_.create();
    ASSERT_THAT(created, wik::testing::IsOk()) << (created ? "" : created.error().detail());
    reopen();
  }

  // Closes the store and opens a new one on the same database.
  void reopen(StoreOptions options = test_options()) {
    store_.reset();
    Result<std::unique_ptr<Database>> database = engine_.open();
    ASSERT_THAT(database, wik::testing::IsOk());
    Result<std::unique_ptr<Store>> store = Store::open(std::move(*database), ring_, clock_, std::move(options));
    ASSERT_THAT(store, wik::testing::IsOk()) << (store ? "" : store.error().detail());
    store_ = std::move(*store);
  }

  // Returns the scope of `community_id` (a valid id).
  CommunityScope scope(std::string_view community_id) { return store_->community(community_id).value(); }

  // Installs `community_id` with `token` and returns its scope.
  CommunityScope install(std::string_view community_id, std::string token = "token-of-community") {
    CommunityScope community = scope(community_id);
    EXPECT_THAT(community.put_installation({.community_name = "Community " + std::string(community_id),
                                            .access_token = AccessToken(std::move(token)),
                                            .permissions = {"read_group_content", "message"},
                                            .installed_by = {}}),
                wik::testing::IsOk());
    return community;
  }

  // Returns the raw database handle the test uses besides the store.
  Database& raw() {
    if (!raw_) {
      Result<std::unique_ptr<Database>> database = engine_.open();
      if (!database) fatal("cannot open a raw handle: " + database.error().detail());
      raw_ = std::move(*database);
    }
    return *raw_;
  }

  // Runs `sql` on the raw handle and returns its rows (a failure fails the test).
  Rows query(std::string_view sql, std::initializer_list<SqlValue> params = {}) {
    Result<Rows> rows = transact_value(raw(), [&](Transaction& tx) { return tx.query(sql, params); });
    EXPECT_THAT(rows, wik::testing::IsOk()) << sql;
    return rows ? std::move(*rows) : Rows{};
  }

  // Returns the number of rows `sql` (a SELECT COUNT(*)) counts.
  std::int64_t count(std::string_view sql, std::initializer_list<SqlValue> params = {}) {
    Rows rows = query(sql, params);
    return rows.empty() ? -1 : rows.front().integer(0);
  }

  wik::testing::FakeClock clock_;
  core::KeyRing ring_ = core::KeyRing::generate("k1");
  Engine engine_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<Database> raw_;
};

}  // namespace wik::store::testing
