// The HTML of the account-link page (docs/identities.md): the page that names the Workplace person
// and community a link is for, proposes the vendor account with the person's email (a proposal
// only), lists the browser's signed-in accounts to connect, and says what happened after a POST,
// with one page per failure that says what happened and what to do.
//
// Every value that comes from elsewhere (person and community names, emails, the app's name) is
// escaped here. The only form carries the browser's CSRF token and the link's own token in hidden
// fields. Pure functions returning complete HTML documents; thread-safe.
#pragma once

#include <boost/beast/http/status.hpp>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "store/records.h"

namespace wik::identity {

// A vendor account signed in on the browser, as the page lists it.
struct AccountChoice {
  store::AccountId id = 0;
  std::string email;
};

struct LinkView {
  std::string app_name;
  std::string csrf;          // the browser's CSRF token
  std::string action_path;   // POST: connects
  std::string community_id;  // hidden fields of the form: the link itself
  std::string token;
  std::string community_name;
  std::string person_name;   // "" when Workplace did not say
  std::optional<std::string> linked_email;    // the account the person is connected to now
  std::optional<std::string> proposed_email;  // the account whose email is the person's
  std::vector<AccountChoice> accounts;        // signed in on this browser, in order
  std::string sign_in_href;                   // signs in and comes back to this page
  std::chrono::seconds remaining{0};          // until the link expires
};

struct LinkedView {
  std::string app_name;
  std::string community_name;
  std::string person_name;
  std::string account_email;
};

// Every way a link can fail; each changes nothing.
enum class LinkFailure {
  kUnknown,      // no such link in the community the URL names (malformed, cut, another community's)
  kUsed,         // the link was used already
  kExpired,      // the link is too old
  kUninstalled,  // the app is no longer installed in the community
  kNotSignedIn,  // the account chosen is not signed in on this browser (or no longer exists)
  kForgedForm,   // a form without the browser's CSRF token, or sent from another site
  kStoreFailed,  // the database did not answer
};

// Returns the HTTP status a failure page is sent with.
boost::beast::http::status failure_status(LinkFailure failure);

std::string link_page(const LinkView& view);
std::string linked_page(const LinkedView& view);
// Returns the page for `failure`; `sign_in_href`, when not empty, is offered to sign in and retry.
std::string failure_page(LinkFailure failure, const std::string& app_name, const std::string& sign_in_href = {});

}  // namespace wik::identity
