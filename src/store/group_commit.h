// GroupCommitter: turns many concurrent inbox inserts into few durable commits.
//
// Callers hand in one InboxWrite each and block; one committer thread takes everything queued
// (up to a batch limit) and writes it with one transaction through the batch writer, which fills
// in every write's outcome. A caller returns only after its batch committed (or failed), so a
// returned kStored is durable. Batches form naturally while the previous commit is in flight: an
// idle committer adds no latency. Thread-safe; the destructor finishes queued writes first.
#pragma once

#include <wik/result.h>

#include "store/records.h"

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <future>
#include <mutex>
#include <span>
#include <string_view>
#include <thread>
#include <vector>

namespace wik::store {

struct InboxWrite {
  std::string_view community_id;
  const InboxEventInput* event = nullptr;
  std::promise<Result<InsertOutcome>> outcome;
};

class GroupCommitter {
 public:
  // Writes one batch in one transaction and sets every write's outcome.
  using BatchWriter = std::function<void(std::span<InboxWrite* const>)>;

  // REQUIRES: max_batch > 0.
  GroupCommitter(BatchWriter writer, std::size_t max_batch);
  ~GroupCommitter();
  GroupCommitter(const GroupCommitter&) = delete;
  GroupCommitter& operator=(const GroupCommitter&) = delete;

  // Queues every write at once and returns their outcomes, in order, once all of them are done
  // (they land in one batch, or consecutive batches past max_batch).
  std::vector<Result<InsertOutcome>> write_all(std::span<InboxWrite> writes);

 private:
  void run();

  const BatchWriter writer_;
  const std::size_t max_batch_;
  std::mutex mutex_;
  std::condition_variable queued_;
  std::deque<InboxWrite*> queue_;  // guarded by mutex_
  bool stopping_ = false;          // guarded by mutex_
  std::thread thread_;             // last: starts after the members it uses
};

}  // namespace wik::store
