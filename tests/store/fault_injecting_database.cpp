#include "store/fault_injecting_database.h"

#include <signal.h>

namespace wik::store::testing {
namespace {

Error injected(std::string_view where) {
  return Error(ErrorCode::kUnavailable, "injected fault", "fault injected at " + std::string(where));
}

}  // namespace

class FaultInjectingDatabase::FaultingTransaction final : public Transaction {
 public:
  FaultingTransaction(Transaction& inner, FaultPlan& plan) : inner_(inner), plan_(plan) {}

  // wik::store::Transaction
  Result<Rows> query_values(std::string_view sql, std::span<const SqlValue> params) override {
    if (plan_.next_statement_fails(sql)) return injected("statement");
    return inner_.query_values(sql, params);
  }
  Result<std::int64_t> execute_values(std::string_view sql, std::span<const SqlValue> params) override {
    if (plan_.next_statement_fails(sql)) return injected("statement");
    return inner_.execute_values(sql, params);
  }
  Result<void> execute_script(std::string_view sql) override {
    if (plan_.next_fails()) return injected("script");
    return inner_.execute_script(sql);
  }

 private:
  Transaction& inner_;
  FaultPlan& plan_;
};

bool FaultPlan::next_fails() {
  const bool fails = ++count_ == fail_at_;
  if (fails) {
    fired_ = true;
    if (fault_ == Fault::kKillProcess) ::raise(SIGKILL);
  }
  return fails;
}

bool FaultPlan::next_statement_fails(std::string_view sql) {
  {
    const std::lock_guard lock(texts_mutex_);
    if (!texts_.contains(sql)) texts_.emplace(sql);
  }
  return next_fails();
}

std::set<std::string, std::less<>> FaultPlan::statement_texts() const {
  const std::lock_guard lock(texts_mutex_);
  return texts_;
}

Result<void> FaultInjectingDatabase::transact(const std::function<Result<void>(Transaction&)>& work) {
  bool fail_after_commit = false;
  Result<void> done = inner_->transact([&](Transaction& tx) -> Result<void> {
    FaultingTransaction faulting(tx, plan_);
    if (Result<void> worked = work(faulting); !worked) return worked;
    if (plan_.next_fails()) {
      if (plan_.fault() == Fault::kBeforeCommit) return injected("commit");
      fail_after_commit = true;
    }
    return ok_result();
  });
  if (done && fail_after_commit) return injected("after commit");
  return done;
}

Result<ReclaimReport> FaultInjectingDatabase::reclaim_space(std::span<const ReclaimTarget> tables) {
  if (plan_.next_fails()) return injected("reclaim_space");
  return inner_->reclaim_space(tables);
}

}  // namespace wik::store::testing
