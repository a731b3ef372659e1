#include "store/group_commit.h"

#include <vector>

namespace wik::store {

GroupCommitter::GroupCommitter(BatchWriter writer, std::size_t max_batch)
    : writer_(std::move(writer)), max_batch_(max_batch), thread_([this] { run(); }) {
  if (max_batch_ == 0) fatal("GroupCommitter needs a batch limit above 0");
}

GroupCommitter::~GroupCommitter() {
  {
    const std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  queued_.notify_one();
  thread_.join();
}

std::vector<Result<InsertOutcome>> GroupCommitter::write_all(std::span<InboxWrite> writes) {
  std::vector<std::future<Result<InsertOutcome>>> pending;
  pending.reserve(writes.size());
  for (InboxWrite& write : writes) pending.push_back(write.outcome.get_future());
  {
    const std::lock_guard lock(mutex_);
    for (InboxWrite& write : writes) queue_.push_back(&write);
  }
  queued_.notify_one();
  std::vector<Result<InsertOutcome>> outcomes;
  outcomes.reserve(pending.size());
  for (auto& outcome : pending) outcomes.push_back(outcome.get());
  return outcomes;
}

void GroupCommitter::run() {
  std::vector<InboxWrite*> batch;
  batch.reserve(max_batch_);
  for (;;) {
    {
      std::unique_lock lock(mutex_);
      queued_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, and everything queued is written
      while (!queue_.empty() && batch.size() < max_batch_) {
        batch.push_back(queue_.front());
        queue_.pop_front();
      }
    }
    writer_(batch);
    batch.clear();
  }
}

}  // namespace wik::store
