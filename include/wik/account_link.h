// Account linking: a Workplace person connects their identity in one community to one of the
// vendor's own accounts (docs/identities.md), in the manner of Slack's account linking.
//
// A handler asks Context::account_link_url() for a single-use URL and sends it to the person; the
// person opens it, signs in to the vendor's account in that browser and confirms; from then on
// Context::linked_account() names that account in the person's events. A Workplace email equal to
// an account's email is only ever proposed on the link page, never linked by itself: a community's
// admin can give anyone any email. Plain value types.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace wik {

// A vendor account linked to a Workplace person of one community.
struct LinkedAccount {
  std::int64_t id = 0;  // the account's id in the kit's store
  std::string email;    // the account's email, lower-cased
};

// How the kit makes account-link URLs (App::account_links).
struct AccountLinkOptions {
  // How long a URL can be used (once). REQUIRES: 1 minute to 24 hours.
  std::chrono::seconds lifetime = std::chrono::minutes(15);
};

}  // namespace wik
