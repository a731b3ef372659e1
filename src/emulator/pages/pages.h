// Pages: the emulated web host a person uses in a browser (server-rendered HTML, no external assets).
//
// Sign-in as a chosen person (no passwords, and the page says so), the Integrations tab for system
// administrators (apps, Install, Uninstall), the install dialog at /dialog/work/app_install (with
// or without a /vN.N prefix, plus the legacy /work/admin?section=apps&app_id=…) for both install
// flows, Work Chat with installed bots (quick replies and template buttons clickable), and group
// feeds (post, comment, mention a bot). Every form is protected by a per-session CSRF token; the
// session cookie is HttpOnly and SameSite=Lax. All text is HTML-escaped. Thread-safe.
// Paths are served without PROTOCOL.md's trailing slash ("/work/admin/"): the router matches none.
// docs/emulator/pages.md lists every route.
#pragma once

#include <memory>
#include <string>

#include "emulator/webhook_delivery/actions.h"
#include "emulator/state/platform_state.h"
#include "http/server/router.h"

namespace wik::emulator {

struct PagesOptions {
  std::string web_url;  // "http://127.0.0.1:{port}": for redirect_uri back to the admin page
};

class Pages {
 public:
  Pages(PlatformState& state, PlatformActions& actions, PagesOptions options);
  // Registers every page route. REQUIRES: called before the server starts.
  void add_routes(http::Router& router);

 private:
  class Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace wik::emulator
