// AdminPages: the vendor's admin pages — the kit's overview and the app's own pages
// (App::admin_page) — behind the vendor's admin sign-in.
//
// The overview (/admin) lists the installed communities with their health (last webhook, last
// Graph error, token status), each community's webhook queue and dead letters with a replay
// button, and the purges not done yet with their deadlines. Each community has a page of its own
// (/admin/communities/{id}: its installation, health, queue and dead letters, with the same
// replay button, and a form for the community's settings that the app declared: App::community_setting,
// posted to /admin/communities/{id}/settings, checked per field and saved all or nothing). No
// page ever shows a token. Every page answers only a browser with a signed-in admin account: no account → 303 to
// the sign-in page, no admin account → 403. Every POST must carry the browser's CSRF token (the
// gate checks it) or is refused with 403 and changes nothing. Pages share one layout with a
// navigation bar; bodies from app handlers are wrapped, their errors shown as a page with the
// error's public reason only. Redirects go to local paths only.
//
// The sign-in and CSRF machinery belongs to the install part; the App hands it over as a Gate (the
// architecture keeps the duties apart). Thread-safe; the overview blocks on the store, as the
// install pages do. Borrows the store, which must outlive it and the server.
#pragma once

#include <wik/admin.h>
#include <wik/result.h>
#include <wik/settings.h>

#include <boost/asio/awaitable.hpp>

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "http/server/message.h"
#include "http/server/router.h"
#include "store/store.h"

namespace wik::admin {

// A signed-in account of the browser, as the gate knows it.
struct Visitor {
  std::string email;
  bool admin = false;
};

// The sign-in and CSRF machinery the pages rely on (install::Installer provides it).
struct Gate {
  std::function<std::vector<Visitor>(const http::Request&)> signed_in;
  std::function<std::string(const http::Request&)> csrf_token;  // the browser's, fresh if none
  std::function<std::optional<http::Params>(const http::Request&)> checked_form;  // nullopt: forged
  // The HTML response for `page`; also (re)sets the browser's CSRF cookie to `csrf`.
  std::function<http::Response(std::string page, std::string_view csrf, boost::beast::http::status status)> page;
  std::string sign_in_path;
  std::string sign_out_path;
  std::string install_path;  // the page with "Add to Workplace"
};

using PageHandler = std::function<boost::asio::awaitable<Result<AdminPage>>(const AdminRequest&)>;

class AdminPages {
 public:
  // `settings`: the community settings the app declared (names valid and unique), in the order
  // the community page shows them.
  AdminPages(store::Store& store, Gate gate, std::string app_name, std::vector<CommunitySetting> settings = {});

  // Adds a page at `path` (GET and POST). REQUIRES (fatal otherwise): `path` starts with "/admin/",
  // is a plain path ([A-Za-z0-9/_-]), is not taken and is not under kCommunityPathPrefix; called
  // before add_routes().
  void add_page(std::string path, std::string title, PageHandler handler);
  void add_routes(http::Router& router);

  static constexpr std::string_view kOverviewPath = "/admin";
  // Prefix of the community pages: kCommunityPathPrefix + the community id, percent-encoded.
  static constexpr std::string_view kCommunityPathPrefix = "/admin/communities/";

 private:
  struct Page {
    std::string path;
    std::string title;
    PageHandler handler;
  };

  struct SettingsForm;  // a settings form that was refused, with its values and errors

  boost::asio::awaitable<http::Response> serve(const Page& page, http::Request& request);
  http::Response overview(const http::Request& request);
  http::Response community(const http::Request& request);
  http::Response save_settings(const http::Request& request);
  // Returns the page of the community of `scope` (status `code`), the settings section showing
  // `refused` when set; or the not-found page when the community was never installed.
  http::Response community_page(const http::Request& request, store::CommunityScope& scope,
                                const SettingsForm* refused, boost::beast::http::status code);
  std::string settings_section(std::string_view csrf, const store::InstallationSummary& community,
                               store::CommunityScope& scope, const SettingsForm* refused) const;
  http::Response replay(const http::Request& request);
  // Returns the signed-in admin, or the response that turns the request away.
  std::variant<Visitor, http::Response> admit(const http::Request& request) const;
  std::string layout(std::string_view title, std::string_view body, std::string_view csrf) const;
  // The 403 page for a POST without this browser's CSRF token.
  http::Response forged_form_page(const http::Request& request) const;
  http::Response message_page(std::string_view title, std::string_view text, const http::Request& request,
                              boost::beast::http::status status) const;

  store::Store& store_;
  const Gate gate_;
  const std::string app_name_;
  const std::vector<CommunitySetting> settings_;
  std::vector<Page> pages_;
};

// Returns why `value` cannot be stored as `setting` (safe to show to the admin), or nullopt when it
// can: it must be well-formed UTF-8 of at most setting.max_length characters (code points) and hold
// no control character (C0, DEL or C1: no line breaks or tabs either).
std::optional<std::string> setting_value_problem(const CommunitySetting& setting, std::string_view value);

// Returns true when `path` is a local path safe to redirect to: starts with one '/', and holds
// no scheme, backslash, control character or "//".
bool is_local_path(std::string_view path) noexcept;

// Returns the path of `community_id`'s admin page, the id percent-encoded as one path segment
// (every byte outside A-Z a-z 0-9 - . _ ~).
std::string community_path(std::string_view community_id);

}  // namespace wik::admin
