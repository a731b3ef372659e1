// Installer: both install flows of issue 6 — the vendor's own sign-in (several accounts per
// browser, an account chooser), the developer-initiated install ("Add to Workplace" with a state
// bound to the session) and the Workplace-initiated one (code first, then sign-in and a
// CSRF-protected confirmation naming the community), the code exchange, the GET /community check,
// and the record of the install (docs/install.md).
//
// Promises: only a signed-in account with the admin role installs; an install is bound
// (Store put_installation: sealed token, permissions, installing account, audit entry) only after
// every check passed, so a failure leaves no half-made install; every failure ends on a page that
// says what happened and what to do; an access token never appears in a page, URL, form field,
// cookie, log line or error message; the untrusted redirect_uri of a Workplace-initiated redirect
// is followed only to the configured Workplace host; every POST checks the browser's CSRF token and
// is answered with 303, never 307/308.
//
// Everything an install waits on (sessions, OAuth states, pending installs) is kept in the store, so
// each step may reach another replica. Thread-safe (handlers run on any I/O thread); handlers block
// on the store. Borrows the store,
// Graph client and clock, which must outlive it and the server whose routes it added.
#pragma once

#include <wik/config.h>
#include <wik/result.h>

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "graph/graph_client.h"
#include "http/server/router.h"
#include "install/account_sessions.h"
#include "install/cookies.h"
#include "install/login_throttle.h"
#include "install/pages.h"
#include "store/store.h"

namespace wik::install {

struct InstallerOptions {
  std::string app_name = "This app";
  // The app's registered Redirect URL; its path is where the install redirect is served.
  // REQUIRES: an absolute http(s) URL whose path is not "/".
  std::string redirect_url;
  // The base of the install dialog and the only host a Workplace-initiated install returns to.
  // REQUIRES: an absolute http(s) URL.
  std::string workplace_url = "https://work.workplace.com";
  // Cookies are Secure (and __Host- prefixed); true when the public URL is https.
  bool secure_cookies = true;
  std::string sign_in_path = "/signin";
  std::string sign_out_path = "/signout";
  std::string admin_path = "/admin/install";  // the admin page with "Add to Workplace"
  std::string admin_role = "admin";           // the only role that may install
  std::chrono::seconds state_lifetime = std::chrono::minutes(10);  // developer-initiated: dialog round trip
  std::chrono::seconds code_lifetime = std::chrono::seconds(300);  // the platform's code lifetime
  std::chrono::seconds session_lifetime = std::chrono::hours(12);
  std::size_t max_accounts_per_browser = 4;
  // Workplace-initiated installs waiting for confirmation at once, counted in the store across
  // every replica; one more is answered 429.
  std::size_t max_pending_installs = 1000;
  std::size_t max_form_bytes = 4096;  // larger form bodies are answered 413
  LoginLimits login_limits;
  // The reverse proxies in front of the server that append to X-Forwarded-For, which then names the
  // client a sign-in is throttled by (login_throttle.h client_address()). 0: the socket's peer; a
  // client's own X-Forwarded-For is never trusted then.
  std::size_t trusted_proxy_hops = 0;
  // More pages of ours the sign-in may return to (`next`), such as the account-link page: each a
  // plain absolute path ("/link"), matched by a `next` that is the path itself or the path, '?' and
  // a query of [A-Za-z0-9_=&%.-] only.
  std::vector<std::string> sign_in_returns;
};

// Returns the options `config` implies: redirect_url from [app] redirect_url, else
// {server.public_url}/workplace/install; workplace_url from [app]; Secure cookies when the public
// URL (or the redirect URL) is https; trusted_proxy_hops from [server]. kConfig when no redirect
// URL can be formed.
Result<InstallerOptions> installer_options(const Config& config);

class Installer {
 public:
  Installer(store::Store& store, graph::GraphClient& graph, const core::Clock& clock, InstallerOptions options);

  // Registers the sign-in, sign-out, admin, redirect and confirmation routes.
  void add_routes(http::Router& router);
  // Calls `listener` after each install (or reinstall) is recorded, on the I/O thread that
  // completed it. Set before add_routes().
  void on_installed(std::function<void(const store::Installation&)> listener) { installed_ = std::move(listener); }

  // ---- For the kit's other pages behind the same sign-in (admin/)
  // The signed-in accounts of the browser that sent `request`, in its order.
  std::vector<SignedInAccount> signed_in(const http::Request& request);
  // Returns the browser's CSRF token, a fresh one when it has none.
  std::string csrf_token(const http::Request& request) const;
  // Returns the fields of a POST whose CSRF token matches the browser's and that no other site sent.
  std::optional<http::Params> checked_form(const http::Request& request) const;
  bool may_install(const store::Account& account) const { return account.role == options_.admin_role; }
  // Returns `page` as an HTML response that also (re)sets the CSRF cookie to `csrf`.
  http::Response page(std::string page, std::string_view csrf,
                      boost::beast::http::status status = boost::beast::http::status::ok) const;
  http::Response see_other(std::string_view location) const;
  const InstallerOptions& options() const noexcept { return options_; }

 private:
  enum class Flow { kDeveloper, kWorkplace };
  struct VerifiedInstall {
    AccessToken token;
    VerifiedCommunity community;
  };

  static boost::asio::awaitable<http::Response> on_sign_in_form(Installer* self, http::Request& request);
  static boost::asio::awaitable<http::Response> on_sign_in(Installer* self, http::Request& request);
  static boost::asio::awaitable<http::Response> on_sign_out(Installer* self, http::Request& request);
  static boost::asio::awaitable<http::Response> on_admin_page(Installer* self, http::Request& request);
  static boost::asio::awaitable<http::Response> on_start(Installer* self, http::Request& request);
  static boost::asio::awaitable<http::Response> on_redirect(Installer* self, http::Request& request);
  static boost::asio::awaitable<http::Response> on_confirm_page(Installer* self, http::Request& request);
  static boost::asio::awaitable<http::Response> on_confirm(Installer* self, http::Request& request);

  boost::asio::awaitable<http::Response> finish_developer_install(const http::Request& request, std::string code,
                                                                  std::string state);
  boost::asio::awaitable<http::Response> hold_workplace_install(const http::Request& request, std::string code);
  // Exchanges `code` and asks GET /community whose token it is.
  boost::asio::awaitable<Result<VerifiedInstall>> exchange_and_verify(std::string code);

  // Returns `url` when it is on the configured Workplace host (scheme, host and port), else "".
  std::string trusted_return_url(std::string_view url) const;
  std::vector<AccountChoice> choices(const std::vector<SignedInAccount>& accounts) const;
  PageContext page_context(std::string csrf) const;
  http::Response failure(Failure failure, Flow flow) const;
  // Returns where a person goes after signing in: `next` when it is the confirmation page, an
  // admin page (a plain /admin path) or one of options_.sign_in_returns, else the install admin
  // page. Never another site.
  std::string next_path(std::string_view next) const;
  // Tells the listener, if any, that `installation` was recorded.
  void announce(const store::Installation& installation) const;

  store::Store& store_;
  graph::GraphClient& graph_;
  const core::Clock& clock_;
  const InstallerOptions options_;
  const std::string redirect_path_;
  const std::string confirm_path_;
  const std::string workplace_origin_;  // scheme://host:port of options_.workplace_url
  const CookiePolicy cookies_;
  AccountSessions sessions_;
  std::function<void(const store::Installation&)> installed_;
};

}  // namespace wik::install
