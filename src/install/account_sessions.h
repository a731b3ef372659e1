// AccountSessions: the vendor's own accounts signed in on one browser.
//
// A browser keeps one cookie whose value lists up to max_accounts opaque session ids separated by
// '.'; the store keeps only their hashes (Store::create_session), so the cookie is the only place
// an id exists. resolve() turns that value into the live accounts it names, in order, dropping
// unknown, expired and malformed entries. sign_in() checks an email and password (argon2id, in the
// store) behind a LoginThrottle, and answers an unknown email exactly as a wrong password.
//
// The store can look an account up by email and password only, not by id, so the account behind a
// session (email, role) is remembered in memory when it signs in: a session started before this
// process did resolves to nothing and its person signs in again (docs/install.md).
//
// Thread-safe; blocks on the store. Borrows the store and clock, which must outlive it.
#pragma once

#include <wik/result.h>
#include <wik/secret.h>

#include <chrono>
#include <cstddef>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "install/login_throttle.h"
#include "store/store.h"

namespace wik::install {

struct SignedInAccount {
  Secret session_id;
  store::Account account;
};

class AccountSessions {
 public:
  // REQUIRES: max_accounts > 0, lifetime > 0.
  AccountSessions(store::Store& store, const core::Clock& clock, std::chrono::seconds lifetime,
                  std::size_t max_accounts, LoginLimits limits);

  // Returns the live accounts the cookie value `cookie` names, in its order.
  std::vector<SignedInAccount> resolve(std::string_view cookie);
  // Checks `email` and `password` and starts a session for the account; returns the new cookie
  // value, which names the accounts of `signed_in` plus this one (replacing an earlier session of
  // the same account, and signing out the oldest when max_accounts are signed in already).
  // kUnauthenticated for a wrong email or password; kRateLimited (its reason says how long to
  // wait) after too many failures for that email.
  Result<std::string> sign_in(const std::vector<SignedInAccount>& signed_in, std::string_view email,
                              const Secret& password);
  // Ends every session in `signed_in`.
  void sign_out(const std::vector<SignedInAccount>& signed_in);

 private:
  // Returns the cookie value that names `accounts`.
  static std::string cookie_value(const std::vector<SignedInAccount>& accounts);

  store::Store& store_;
  const std::chrono::seconds lifetime_;
  const std::size_t max_accounts_;
  LoginThrottle throttle_;
  std::mutex mutex_;
  std::map<store::AccountId, store::Account> known_;  // accounts that signed in through this process
};

}  // namespace wik::install
