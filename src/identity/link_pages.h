// LinkPages: the kit's account-link page (docs/identities.md), where a Workplace person connects
// their app-scoped identity in one community to one of the vendor's own accounts, in the manner of
// Slack's account linking.
//
// A bot gets a single-use URL for the person who wrote to it (wik::Context::account_link_url):
// GET {path}?c={community}&t={token}. The page names the community and the person, proposes the
// account whose email is the person's Workplace email (a proposal only: a community's admin can
// give anyone any email — the "nOAuth" takeover — so an email never links by itself), lists the
// accounts signed in on this browser and links to the sign-in, which returns here. POST {path}
// (csrf, c, t, account) links the person to an account signed in on this browser and uses the
// token up, atomically in the store, so two replicas cannot both use it.
//
// Promises: every read and write goes through the scope of the community the URL names, so a
// token of community A links or shows nothing of community B; a link is made only by a POST with
// this browser's CSRF token naming an account signed in on this browser; every failure ends on a
// page that says what happened, with its 4xx/5xx status, and changes nothing; the token never
// appears in a log line. Pages are sent with the kit's HTML headers (http/html.h).
//
// The sign-in and CSRF machinery belongs to the install part; the App hands it over as a Gate.
// Thread-safe; handlers block on the store, as the install pages do. Borrows the store and the
// clock, which must outlive it and the server whose routes it added.
#pragma once

#include <wik/secret.h>

#include <boost/beast/http/status.hpp>

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "http/server/message.h"
#include "http/server/router.h"
#include "identity/link_views.h"
#include "store/store.h"

namespace wik::identity {

// Where the link page is served by default.
inline constexpr std::string_view kLinkPath = "/link";

// The sign-in and CSRF machinery the page relies on (install::Installer provides it).
struct Gate {
  // The vendor accounts signed in on the browser that sent the request, in its order.
  std::function<std::vector<store::Account>(const http::Request&)> signed_in;
  std::function<std::string(const http::Request&)> csrf_token;  // the browser's, fresh if none
  std::function<std::optional<http::Params>(const http::Request&)> checked_form;  // nullopt: forged
  // The HTML response for `page`; also (re)sets the browser's CSRF cookie to `csrf`.
  std::function<http::Response(std::string page, std::string_view csrf, boost::beast::http::status status)> page;
  std::string sign_in_path;  // GET ?next=… signs in and returns to `next`
};

struct LinkPagesOptions {
  std::string app_name = "This app";
  std::string path = std::string(kLinkPath);  // REQUIRES: a plain absolute path
  std::size_t max_form_bytes = 4096;          // larger form bodies are answered 413
};

// Returns the path and query of the link page at `path` for `token` of `community_id`:
// "{path}?c={community}&t={token}", each value percent-encoded.
std::string link_target(std::string_view path, std::string_view community_id, const Secret& token);

class LinkPages {
 public:
  LinkPages(store::Store& store, Gate gate, const core::Clock& clock, LinkPagesOptions options);

  // Registers GET and POST on options.path.
  void add_routes(http::Router& router);

 private:
  // The community and token a request names; nullopt when they cannot name any link.
  struct Target {
    store::CommunityScope scope;
    Secret token;
  };

  http::Response show(const http::Request& request);
  http::Response confirm(const http::Request& request);
  std::optional<Target> target_of(std::optional<std::string_view> community, std::optional<std::string_view> token);
  std::string sign_in_href(const std::string& community_id, const Secret& token) const;
  http::Response failure(LinkFailure failure, std::string sign_in_href = {}) const;
  // Returns the failure page for a store error of a link lookup or use.
  http::Response store_failure(const Error& error, const std::string& community_id) const;

  store::Store& store_;
  const Gate gate_;
  const core::Clock& clock_;
  const LinkPagesOptions options_;
};

}  // namespace wik::identity
