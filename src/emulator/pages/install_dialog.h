// InstallRequest: what an install dialog asks of a system administrator, checked against the app's
// registration before anything is shown (PROTOCOL.md §1.2, §1.3, §1.5).
//
// The same checks run when the dialog is shown and again when Install or Cancel is pressed (the
// form's hidden fields are never trusted). An unknown app, a redirect_uri that is not the app's
// registered Redirect URL, or a permission the app did not register is an error for an error page,
// never a redirect, so the dialog cannot be used as an open redirect. The answers the dialog sends
// back (code, or the Facebook denial parameters) are built here with proper URL encoding.
// Pure functions, thread-safe.
#pragma once

#include <wik/result.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "emulator/state/platform_state.h"
#include "http/server/message.h"

namespace wik::emulator {

// Bounds on what a dialog URL may carry.
inline constexpr std::size_t kMaxRequestedPermissions = 64;
inline constexpr std::size_t kMaxStateBytes = 2048;
inline constexpr std::size_t kMaxSuggestedPageNameBytes = 200;

struct InstallRequest {
  App app;
  std::string redirect_uri;               // the registered Redirect URL (checked)
  std::optional<std::string> state;       // the app's state, echoed back; nullopt when not given
  std::vector<std::string> permissions;   // lower-case codes, each one the app registered
  std::string suggested_page_name;
  bool workplace_initiated = false;       // started from the Integrations tab, not by the app
};

// Returns the request described by dialog parameters (`app_id`, `redirect_uri`, `state`,
// `permissions[]` repeated and/or `permissions` comma lists, `suggested_page_name`).
// A missing redirect_uri means the registered Redirect URL (the legacy URL carried none);
// no permissions mean all the app registered. kNotFound: unknown or missing app;
// kInvalidArgument: a redirect_uri other than the registered one, an app without a Redirect URL,
// an unregistered permission, too many permissions or an over-long value.
Result<InstallRequest> parse_install_request(const PlatformState& state, const http::Params& parameters);

// Returns the request of an Install pressed on the Integrations tab: every registered permission,
// answered to the registered Redirect URL, no state. kNotFound / kInvalidArgument as above.
Result<InstallRequest> workplace_install_request(const PlatformState& state, const Id& app_id);

// Returns where Install sends the browser: {redirect_uri}?code=…&state=… (state only when given),
// or for a Workplace-initiated install {redirect_uri}?code=…&redirect_uri={admin_page_url}.
std::string install_redirect(const InstallRequest& request, const std::string& code, const std::string& admin_page_url);

// Returns where Cancel sends the browser of a developer-initiated install:
// {redirect_uri}?error_reason=user_denied&error=access_denied&error_description=Permissions+error[&state=…].
std::string cancel_redirect(const InstallRequest& request);

// Returns the readable name of a permission code ("read_user_email" → "Read user email"), or the
// code itself when it is not one PROTOCOL.md §8 names.
std::string permission_display_name(std::string_view code);

}  // namespace wik::emulator
