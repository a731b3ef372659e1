#include "install/pending_installs.h"

#include "core/hex.h"
#include "core/hmac.h"
#include "core/secure_random.h"

namespace wik::install {
namespace {

std::string key_of(const Secret& id) { return core::to_hex(core::sha256(id.expose())); }

}  // namespace

PendingInstalls::PendingInstalls(const core::Clock& clock, std::size_t capacity, std::chrono::seconds tombstone_for)
    : clock_(clock), capacity_(capacity), tombstone_for_(tombstone_for) {
  if (capacity == 0) fatal("PendingInstalls: capacity must be > 0");
}

Result<Secret> PendingInstalls::add(PendingInstall install) {
  const std::lock_guard lock(mutex_);
  expire_locked(clock_.now());
  if (entries_.size() >= capacity_) {
    return Error(ErrorCode::kRateLimited, "too many installs are waiting for confirmation");
  }
  Secret id(core::secure_random_token(32));
  entries_.insert_or_assign(key_of(id), Entry{std::move(install.token), std::move(install.summary)});
  return id;
}

Result<PendingSummary> PendingInstalls::find(const Secret& id) {
  const std::lock_guard lock(mutex_);
  auto found = find_locked(id);
  if (!found.ok()) return found.error();
  return (*found)->second.summary;
}

Result<PendingInstall> PendingInstalls::take(const Secret& id) {
  const std::lock_guard lock(mutex_);
  auto found = find_locked(id);
  if (!found.ok()) return found.error();
  PendingInstall install{std::move(*(*found)->second.token), std::move((*found)->second.summary)};
  entries_.erase(*found);
  return install;
}

void PendingInstalls::discard(const Secret& id) {
  const std::lock_guard lock(mutex_);
  entries_.erase(key_of(id));
}

void PendingInstalls::expire() {
  const std::lock_guard lock(mutex_);
  expire_locked(clock_.now());
}

void PendingInstalls::expire_locked(TimePoint now) {
  for (auto it = entries_.begin(); it != entries_.end();) {
    if (it->second.summary.deadline > now) {
      ++it;
      continue;
    }
    it->second.token.reset();  // the token dies at the deadline; a tombstone remains for a while
    it = it->second.summary.deadline + tombstone_for_ <= now ? entries_.erase(it) : std::next(it);
  }
}

Result<std::map<std::string, PendingInstalls::Entry>::iterator> PendingInstalls::find_locked(const Secret& id) {
  expire_locked(clock_.now());
  const auto found = entries_.find(key_of(id));
  if (found == entries_.end()) return Error(ErrorCode::kNotFound, "no install is waiting for confirmation");
  if (!found->second.token) return Error(ErrorCode::kExpired, "the time to confirm the install ran out");
  return found;
}

}  // namespace wik::install
