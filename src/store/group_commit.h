// GroupCommitter: turns many concurrent inbox inserts into few durable commits.
//
// Callers hand in the writes of one delivery together; one committer thread takes everything
// queued (up to a batch limit) and writes it with one transaction through the batch writer, which
// fills in every write's outcome. A delivery is reported done only after every one of its writes
// committed (or failed), so a reported kStored is durable. A caller either blocks (write_all) or
// is called back on the committer's thread (submit), so no thread need wait for each delivery.
// Batches form naturally while the previous commit is in flight: an idle committer adds no
// latency. Thread-safe; the destructor finishes queued writes first.
#pragma once

#include <wik/result.h>

#include "store/records.h"

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <span>
#include <string_view>
#include <thread>
#include <vector>

namespace wik::store {

struct InboxWrite {
  std::string_view community_id;
  const InboxEventInput* event = nullptr;
  bool active_only = false;  // stored only while the community's installation is active (kNotFound otherwise)
  std::optional<Result<InsertOutcome>> outcome;  // set by the batch writer
};

class GroupCommitter {
 public:
  // Writes one batch in one transaction and sets every write's outcome.
  using BatchWriter = std::function<void(std::span<InboxWrite* const>)>;
  // Receives a delivery's outcomes, in the order of its writes.
  using Done = std::function<void(std::vector<Result<InsertOutcome>>)>;

  // REQUIRES: max_batch > 0.
  GroupCommitter(BatchWriter writer, std::size_t max_batch);
  ~GroupCommitter();
  GroupCommitter(const GroupCommitter&) = delete;
  GroupCommitter& operator=(const GroupCommitter&) = delete;

  // Queues every write at once (they land in one batch, or consecutive batches past max_batch)
  // and returns at once; `done` runs on the committer's thread once all of them are written. The
  // writes' community ids and events must stay valid until then.
  void submit(std::vector<InboxWrite> writes, Done done);
  // As submit(), but waits and returns the outcomes.
  std::vector<Result<InsertOutcome>> write_all(std::vector<InboxWrite> writes);
  // Returns once the `done` of every delivery submitted so far has returned.
  void wait_until_done();

 private:
  struct Delivery {
    std::vector<InboxWrite> writes;
    std::size_t unwritten = 0;  // touched by the committer's thread only
    Done done;
  };
  struct Queued {
    InboxWrite* write;
    Delivery* delivery;
  };

  void run();

  const BatchWriter writer_;
  const std::size_t max_batch_;
  std::mutex mutex_;
  std::condition_variable queued_;
  std::deque<Queued> queue_;  // guarded by mutex_; each Delivery is owned by its writes' entries
  std::size_t unfinished_ = 0;  // deliveries submitted whose `done` has not returned; guarded by mutex_
  std::condition_variable finished_;
  bool stopping_ = false;     // guarded by mutex_
  std::thread thread_;        // last: starts after the members it uses
};

}  // namespace wik::store
