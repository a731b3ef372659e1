#include "http/server/task_group.h"

#include <boost/asio/post.hpp>

namespace wik::http {

namespace asio = boost::asio;

TaskGroup::Ticket TaskGroup::join(asio::any_io_executor executor) {
  auto member = std::make_shared<Member>();
  member->executor = std::move(executor);
  const std::lock_guard lock(mutex_);
  const std::uint64_t id = next_id_++;
  Ticket ticket{id, member->signal.slot()};
  members_.emplace(id, std::move(member));
  return ticket;
}

void TaskGroup::leave(std::uint64_t id) {
  std::shared_ptr<Member> member;  // released outside the lock
  const std::lock_guard lock(mutex_);
  if (auto it = members_.find(id); it != members_.end()) {
    member = std::move(it->second);
    members_.erase(it);
  }
  if (members_.empty()) empty_.notify_all();
}

void TaskGroup::emit(asio::cancellation_type type) {
  const std::lock_guard lock(mutex_);
  for (const auto& entry : members_) {
    std::shared_ptr<Member> member = entry.second;
    asio::post(member->executor, [member, type] { member->signal.emit(type); });
  }
}

bool TaskGroup::wait_until_empty(std::chrono::steady_clock::time_point deadline) {
  std::unique_lock lock(mutex_);
  return empty_.wait_until(lock, deadline, [this] { return members_.empty(); });
}

std::size_t TaskGroup::size() const {
  const std::lock_guard lock(mutex_);
  return members_.size();
}

}  // namespace wik::http
