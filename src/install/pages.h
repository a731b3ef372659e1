// The HTML pages of the install flows: sign-in, the admin page with "Add to Workplace", the
// confirmation page of a Workplace-initiated install, success, and one page per failure that says
// what happened and what to do.
//
// Every value that comes from elsewhere (emails, community names, URLs) is escaped here; a page
// never carries an access token (the views have no field that could hold one). Forms carry the
// browser's CSRF token in a hidden field. Pure functions returning complete HTML documents;
// thread-safe.
#pragma once

#include <boost/beast/http/status.hpp>

#include <chrono>
#include <string>
#include <vector>

#include "http/html.h"
#include "store/records.h"

namespace wik::install {

// The community an install token belongs to, as GET /community reported it.
struct VerifiedCommunity {
  std::string id;
  std::string name;
  std::vector<std::string> permissions;  // lower-cased
};

// A signed-in account as the account chooser lists it.
struct AccountChoice {
  store::AccountId id = 0;
  std::string email;
  bool may_install = false;  // has the admin role
};

// Paths and names every page may link to.
struct PageContext {
  std::string app_name;
  std::string csrf;           // the browser's CSRF token, for forms
  std::string sign_in_path;   // GET: the form; POST: signs in
  std::string sign_out_path;  // POST: signs every account of the browser out
};

struct SignInView {
  std::string next;                      // a path of ours the person continues to
  std::string email;                     // to fill in again after a failed attempt
  std::string error;                     // why the last attempt failed, or ""
  std::vector<std::string> signed_in;    // emails already signed in on this browser
};

struct AdminView {
  std::string start_path;  // POST: starts the developer-initiated install
  std::vector<AccountChoice> accounts;
  std::vector<store::InstallationSummary> installations;  // shown to admins only
  std::string notice;      // e.g. "Installed into Acme.", or ""
};

struct ConfirmView {
  std::string confirm_path;  // POST: binds (or cancels) the pending install
  std::string sign_in_href;  // signs in and comes back here
  VerifiedCommunity community;
  std::chrono::seconds remaining{0};
  std::vector<AccountChoice> accounts;
};

struct SuccessView {
  std::string community_name;
  std::string account_email;
  std::string return_url;  // a trusted Workplace URL the page returns to after a few seconds, or ""
  std::string admin_path;
};

// Every way an install can fail or end without an install.
enum class Failure {
  kDenied,              // the admin cancelled in Workplace (error=access_denied)
  kMissingCode,         // the redirect carried no code
  kStateUnknown,        // our state is unknown or was used already
  kStateExpired,        // our state is too old
  kStateOtherSession,   // our state was made for another browser session
  kNotSignedIn,         // no signed-in account, or not the one that started
  kNotAdmin,            // the chosen account lacks the admin role
  kCodeExpired,         // the platform says the code expired
  kCodeUsed,            // the platform says the code was used already
  kCodeRejected,        // the platform refused the code (mismatched redirect_uri, unknown code)
  kAppMisconfigured,    // the platform refused the app id or secret
  kPlatformError,       // the platform could not be reached or answered an error
  kNothingPending,      // no Workplace-initiated install waits in this browser
  kConfirmExpired,      // the 300 s to confirm ran out
  kForgedForm,          // a form without the browser's CSRF token, or sent from another site
  kTooBusy,             // too many installs are waiting for confirmation
  kStoreFailed,         // the install could not be saved
  kCancelled,           // the person cancelled on our confirmation page
};

// Returns the HTTP status a failure page is sent with.
boost::beast::http::status failure_status(Failure failure);

std::string sign_in_page(const PageContext& context, const SignInView& view);
std::string admin_page(const PageContext& context, const AdminView& view);
std::string confirm_page(const PageContext& context, const ConfirmView& view);
std::string success_page(const PageContext& context, const SuccessView& view);
// Returns the page for `failure`, ending with `links` (where to start again).
std::string failure_page(Failure failure, const std::vector<http::PageLink>& links);

}  // namespace wik::install
