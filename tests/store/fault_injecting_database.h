// FaultInjectingDatabase: a Database that fails its Nth operation, to walk every failure point of
// a scenario (STYLE.md practice 11, after leveldb's fault_injection_test).
//
// Operations are counted in order by a FaultPlan: each statement, each commit and each
// reclaim_space call. When the count reaches fail_at, that operation fails with kUnavailable, once.
// A failing commit either rolls the transaction back (kBeforeCommit) or lets it commit and still
// reports the failure (kAfterCommit: the caller cannot tell whether it was stored, as after a lost
// connection). kKillProcess instead kills the whole process with SIGKILL at that operation: a crash
// at an exact point, for tests that fork a child to die there. One plan can span several wrappers,
// so a scenario that reopens its store keeps counting. The plan also keeps the distinct SQL texts
// of the statements it counted (statement_texts()), for tests of what the store sends. The wrapper
// owns the real engine and borrows the plan. Thread-safe.
#pragma once

#include "store/database.h"

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>

namespace wik::store::testing {

enum class Fault { kBeforeCommit, kAfterCommit, kKillProcess };

class FaultPlan {
 public:
  // Fails operation number `fail_at` (1-based); 0 never fails.
  FaultPlan(std::int64_t fail_at, Fault fault) : fail_at_(fail_at), fault_(fault) {}

  // Counts one operation and returns true when it is the one to fail (or kills the process).
  bool next_fails();
  // Counts one statement, as next_fails(), and keeps its text.
  bool next_statement_fails(std::string_view sql);
  // Returns the distinct texts of the statements counted so far.
  std::set<std::string, std::less<>> statement_texts() const;
  // Returns true once the planned fault has fired.
  bool fired() const noexcept { return fired_.load(); }
  Fault fault() const noexcept { return fault_; }

 private:
  const std::int64_t fail_at_;
  const Fault fault_;
  std::atomic<std::int64_t> count_{0};
  std::atomic<bool> fired_{false};
  mutable std::mutex texts_mutex_;
  std::set<std::string, std::less<>> texts_;  // guarded by texts_mutex_
};

class FaultInjectingDatabase final : public Database {
 public:
  FaultInjectingDatabase(std::unique_ptr<Database> inner, FaultPlan& plan) : inner_(std::move(inner)), plan_(plan) {}

  // wik::store::Database
  Dialect dialect() const noexcept override { return inner_->dialect(); }
  Result<void> transact(const std::function<Result<void>(Transaction&)>& work) override;
  Result<ReclaimReport> reclaim_space(std::span<const ReclaimTarget> tables) override;

 private:
  class FaultingTransaction;

  std::unique_ptr<Database> inner_;
  FaultPlan& plan_;
};

}  // namespace wik::store::testing
