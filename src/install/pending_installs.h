// PendingInstalls: Workplace-initiated installs whose code was exchanged but which no signed-in
// admin has confirmed yet (docs/install.md explains why the exchange comes first).
//
// Each pending install holds its access token in memory only, never in the store, a page or a
// cookie, until its deadline (the code's 300 s lifetime, counted from the redirect). The browser
// that brought the code keeps an opaque id (a cookie); only its SHA-256 is kept here. take() hands
// the token out once. After the deadline the token is destroyed at the next call of any method and
// the entry stays as a token-less tombstone for `tombstone_for`, so the browser is told "the time
// ran out" rather than "nothing is waiting". At most `capacity` installs wait at once.
// Thread-safe; borrows the Clock, which must outlive it.
#pragma once

#include <wik/result.h>
#include <wik/secret.h>

#include <chrono>
#include <cstddef>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"

namespace wik::install {

using TimePoint = std::chrono::system_clock::time_point;

// The community an install token belongs to, as GET /community reported it.
struct VerifiedCommunity {
  std::string id;
  std::string name;
  std::vector<std::string> permissions;  // lower-cased
};

// What a browser is asked to confirm: everything but the token.
struct PendingSummary {
  VerifiedCommunity community;
  std::string return_url;  // a trusted Workplace URL to return to after the install, or ""
  std::string code_hash;   // hex SHA-256 of the code, to recognise a reloaded redirect
  TimePoint deadline;
};

struct PendingInstall {
  AccessToken token;
  PendingSummary summary;
};

class PendingInstalls {
 public:
  // REQUIRES: capacity > 0.
  PendingInstalls(const core::Clock& clock, std::size_t capacity, std::chrono::seconds tombstone_for);

  // Holds `install` until its deadline and returns the id its browser keeps; kRateLimited when
  // `capacity` installs are waiting already.
  Result<Secret> add(PendingInstall install);
  // Returns the summary of the install `id` names: kNotFound when unknown or already taken,
  // kExpired when its deadline has passed.
  Result<PendingSummary> find(const Secret& id);
  // Removes the install `id` names and returns it, token included: errors as find().
  Result<PendingInstall> take(const Secret& id);
  // Forgets the install `id` names, if any.
  void discard(const Secret& id);
  // Destroys the tokens of installs whose deadline has passed and forgets old tombstones.
  void expire();

 private:
  struct Entry {
    std::optional<AccessToken> token;  // destroyed at the deadline
    PendingSummary summary;
  };
  void expire_locked(TimePoint now);
  Result<std::map<std::string, Entry>::iterator> find_locked(const Secret& id);

  const core::Clock& clock_;
  const std::size_t capacity_;
  const std::chrono::seconds tombstone_for_;
  std::mutex mutex_;
  std::map<std::string, Entry> entries_;  // by hex SHA-256 of the id
};

}  // namespace wik::install
