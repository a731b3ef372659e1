#include "store/group_commit.h"

#include <future>
#include <memory>

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

void GroupCommitter::submit(std::vector<InboxWrite> writes, Done done) {
  if (writes.empty()) {
    done({});
    return;
  }
  const std::size_t count = writes.size();
  auto delivery =
      std::make_unique<Delivery>(Delivery{.writes = std::move(writes), .unwritten = count, .done = std::move(done)});
  {
    const std::lock_guard lock(mutex_);
    for (InboxWrite& write : delivery->writes) queue_.push_back({&write, delivery.get()});
    ++unfinished_;
  }
  delivery.release();  // the committer deletes it once its last write is written
  queued_.notify_one();
}

void GroupCommitter::wait_until_done() {
  std::unique_lock lock(mutex_);
  finished_.wait(lock, [this] { return unfinished_ == 0; });
}

std::vector<Result<InsertOutcome>> GroupCommitter::write_all(std::vector<InboxWrite> writes) {
  std::promise<std::vector<Result<InsertOutcome>>> outcomes;
  std::future<std::vector<Result<InsertOutcome>>> written = outcomes.get_future();
  submit(std::move(writes), [&outcomes](std::vector<Result<InsertOutcome>> done) { outcomes.set_value(std::move(done)); });
  return written.get();
}

void GroupCommitter::run() {
  std::vector<InboxWrite*> batch;
  std::vector<Delivery*> deliveries;  // of each write of the batch
  batch.reserve(max_batch_);
  deliveries.reserve(max_batch_);
  for (;;) {
    {
      std::unique_lock lock(mutex_);
      queued_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, and everything queued is written
      while (!queue_.empty() && batch.size() < max_batch_) {
        batch.push_back(queue_.front().write);
        deliveries.push_back(queue_.front().delivery);
        queue_.pop_front();
      }
    }
    writer_(batch);
    std::size_t finished = 0;
    for (Delivery* delivery : deliveries) {
      if (--delivery->unwritten > 0) continue;
      const std::unique_ptr<Delivery> written(delivery);
      std::vector<Result<InsertOutcome>> outcomes;
      outcomes.reserve(written->writes.size());
      for (InboxWrite& write : written->writes) outcomes.push_back(std::move(*write.outcome));
      written->done(std::move(outcomes));
      ++finished;
    }
    if (finished > 0) {
      {
        const std::lock_guard lock(mutex_);
        unfinished_ -= finished;
      }
      finished_.notify_all();
    }
    batch.clear();
    deliveries.clear();
  }
}

}  // namespace wik::store
