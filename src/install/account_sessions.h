// AccountSessions: the vendor's own accounts signed in on one browser.
//
// A browser keeps one cookie whose value lists up to max_accounts opaque session ids separated by
// '.'; the store keeps only their hashes (Store::create_session), so the cookie is the only place
// an id exists. resolve() turns that value into the live accounts it names, in order, dropping
// unknown, expired and malformed entries. sign_in() checks an email and password (argon2id, in the
// store) behind two LoginThrottles, one per email and one per client address, and answers an
// unknown email exactly as a wrong password.
//
// Sessions and accounts live in the store only: each resolve() reads the session and its account
// (Store::find_account) as they are now, so sessions survive a restart and work on every replica,
// and a deleted account, or one whose role changed, resolves accordingly at once.
//
// Thread-safe; blocks on the store. Borrows the store and clock, which must outlive it.
#pragma once

#include <wik/result.h>
#include <wik/secret.h>

#include <chrono>
#include <cstddef>
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
  // Checks `email` and `password`, sent from `client_address`, and starts a session for the
  // account; returns the new cookie value, which names the accounts of `signed_in` plus this one
  // (replacing an earlier session of the same account, and signing out the oldest when
  // max_accounts are signed in already). kUnauthenticated for a wrong email or password;
  // kRateLimited (its reason says why and how long to wait) after too many failures for that
  // email, or from that address (client_key(): IPv6 by /64) whatever the emails. A success forgets
  // the email's failures but not the address's, so one's own account cannot reset the count.
  Result<std::string> sign_in(const std::vector<SignedInAccount>& signed_in, std::string_view email,
                              const Secret& password, std::string_view client_address);
  // Ends every session in `signed_in`.
  void sign_out(const std::vector<SignedInAccount>& signed_in);

 private:
  // Returns the cookie value that names `accounts`.
  static std::string cookie_value(const std::vector<SignedInAccount>& accounts);

  store::Store& store_;
  const std::chrono::seconds lifetime_;
  const std::size_t max_accounts_;
  LoginThrottle emails_;
  LoginThrottle addresses_;
};

}  // namespace wik::install
