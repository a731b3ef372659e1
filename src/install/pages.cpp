#include "install/pages.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cstdint>

#include "http/html.h"

namespace wik::install {
namespace {

using boost::beast::http::status;
using http::html_escape;

struct FailureText {
  Failure failure;
  status code;
  std::string_view title;
  std::string_view happened;
  std::string_view to_do;
};

// The admin overview wik::App serves next to these pages (src/admin), with links to every admin page.
constexpr std::string_view kAdminOverviewPath = "/admin";

constexpr std::string_view kPressInstallAgain =
    "Start the install again: press Install on the app in Workplace's Integrations tab, or use "
    "\"Add to Workplace\" on the admin page.";

constexpr std::array<FailureText, 18> kFailures = {{
    {Failure::kDenied, status::ok, "The install was cancelled",
     "The install was not approved in Workplace, so nothing was installed.",
     "If you meant to install, start again and press Install in the Workplace dialog."},
    {Failure::kMissingCode, status::bad_request, "The install could not start",
     "Workplace sent the browser here without the code an install needs. Nothing was installed.",
     kPressInstallAgain},
    {Failure::kStateUnknown, status::bad_request, "This install link was already used",
     "The link that brought you here is unknown or was used once already (a reload or the back button "
     "does that). Nothing new was installed.",
     "If you just installed, the admin page lists the install. Otherwise press \"Add to Workplace\" again."},
    {Failure::kStateExpired, status::bad_request, "The install took too long",
     "The install was started too long ago, so it was not completed. Nothing was installed.",
     "Press \"Add to Workplace\" on the admin page again and finish within a few minutes."},
    {Failure::kStateOtherSession, status::forbidden, "The install was started elsewhere",
     "This install was started by another browser or another signed-in account than the one here, so "
     "it was not completed. Nothing was installed.",
     "Sign in with the account that started the install, or press \"Add to Workplace\" again here."},
    {Failure::kNotSignedIn, status::forbidden, "Please sign in",
     "No signed-in account of yours could be matched to this install. Nothing was installed.",
     "Sign in with an admin account and start the install again."},
    {Failure::kNotAdmin, status::forbidden, "This account may not install",
     "Only an account with the admin role may install the app. Nothing was installed.",
     "Choose or sign in with an admin account, or ask an admin of your organisation to install."},
    {Failure::kCodeExpired, status::bad_request, "The install code expired",
     "Workplace's install code is valid for 5 minutes and that time had passed. Nothing was installed.",
     kPressInstallAgain},
    {Failure::kCodeUsed, status::conflict, "The install code was already used",
     "Workplace says this install code was used once already (a reload can do that). Nothing new was "
     "installed by this request.",
     "If you just installed, the admin page lists the install. Otherwise start the install again."},
    {Failure::kCodeRejected, status::bad_request, "Workplace refused the install code",
     "Workplace did not accept the install code. Nothing was installed.", kPressInstallAgain},
    {Failure::kAppMisconfigured, status::internal_server_error, "The app is not set up correctly",
     "Workplace refused this app's id or secret, so no install can complete. Nothing was installed.",
     "Please tell the app's operator: the app id and secret in its configuration need checking."},
    {Failure::kPlatformError, status::bad_gateway, "Workplace could not complete the install",
     "Workplace could not be reached or answered with an error. Nothing was installed.",
     "Wait a minute, then start the install again."},
    {Failure::kNothingPending, status::not_found, "No install is waiting",
     "No install from Workplace is waiting for confirmation in this browser. Nothing was installed.",
     kPressInstallAgain},
    {Failure::kConfirmExpired, status::gone, "The time to confirm ran out",
     "An install must be confirmed within 5 minutes of pressing Install in Workplace, and that time has "
     "passed. The install was discarded; nothing was installed.",
     kPressInstallAgain},
    {Failure::kForgedForm, status::forbidden, "The form could not be accepted",
     "The form was not sent from this site's own page (it lacked this browser's security token), so it "
     "was ignored. Nothing was changed.",
     "Go back, reload the page and send the form again."},
    {Failure::kTooBusy, status::too_many_requests, "Too many installs at once",
     "Too many installs are waiting for confirmation right now. Nothing was installed.",
     "Wait a few minutes, then start the install again."},
    {Failure::kStoreFailed, status::service_unavailable, "The install could not be saved",
     "The install could not be saved, so it was not made. Nothing was installed.",
     "Wait a minute, then start the install again."},
    {Failure::kCancelled, status::ok, "The install was cancelled",
     "You cancelled the install. Nothing was installed.",
     "To install later, press Install in Workplace's Integrations tab again."},
}};

const FailureText& text_of(Failure failure) {
  for (const FailureText& text : kFailures) {
    if (text.failure == failure) return text;
  }
  fatal("install: a Failure without a page");
}

std::string hidden_csrf(const PageContext& context) {
  return fmt::format("<input type=\"hidden\" name=\"csrf\" value=\"{}\">", html_escape(context.csrf));
}

std::string sign_out_form(const PageContext& context) {
  return fmt::format(
      "<form method=\"post\" action=\"{}\">{}<button type=\"submit\">Sign out of every account</button></form>",
      html_escape(context.sign_out_path), hidden_csrf(context));
}

// Returns the account chooser: one radio button per account; only admins can be chosen, the first
// of them is preselected.
std::string account_chooser(const std::vector<AccountChoice>& accounts) {
  std::string out = "<fieldset><legend>Install as</legend>\n";
  bool checked = false;
  for (const AccountChoice& account : accounts) {
    const bool check = account.may_install && !checked;
    checked = checked || check;
    out += fmt::format("<label><input type=\"radio\" name=\"account\" value=\"{}\"{}{}> {}{}</label>\n", account.id,
                       account.may_install ? "" : " disabled", check ? " checked" : "", html_escape(account.email),
                       account.may_install ? "" : " <span class=\"note\">(not an admin: cannot install)</span>");
  }
  out += "</fieldset>\n";
  return out;
}

bool any_may_install(const std::vector<AccountChoice>& accounts) {
  for (const AccountChoice& account : accounts) {
    if (account.may_install) return true;
  }
  return false;
}

}  // namespace

boost::beast::http::status failure_status(Failure failure) { return text_of(failure).code; }

std::string sign_in_page(const PageContext& context, const SignInView& view) {
  std::string body = fmt::format("<h1>Sign in to {}</h1>\n", html_escape(context.app_name));
  if (!view.error.empty()) body += fmt::format("<p class=\"error\">{}</p>\n", html_escape(view.error));
  if (!view.signed_in.empty()) {
    body += "<p class=\"note\">Already signed in here:";
    for (const std::string& email : view.signed_in) body += " " + html_escape(email);
    body += ". Signing in adds another account.</p>\n";
  }
  body += fmt::format(
      "<form method=\"post\" action=\"{}\">{}<input type=\"hidden\" name=\"next\" value=\"{}\">\n"
      "<label>Email <input type=\"email\" name=\"email\" value=\"{}\" required autocomplete=\"username\"></label>\n"
      "<label>Password <input type=\"password\" name=\"password\" required autocomplete=\"current-password\">"
      "</label>\n<button type=\"submit\">Sign in</button></form>\n",
      html_escape(context.sign_in_path), hidden_csrf(context), html_escape(view.next), html_escape(view.email));
  return http::html_page("Sign in", body);
}

std::string admin_page(const PageContext& context, const AdminView& view) {
  std::string body = fmt::format("<h1>{} for Workplace</h1>\n", html_escape(context.app_name));
  if (!view.notice.empty()) body += fmt::format("<p><strong>{}</strong></p>\n", html_escape(view.notice));
  if (any_may_install(view.accounts)) {
    body += fmt::format(
        "<form method=\"post\" action=\"{}\">{}\n{}<button type=\"submit\">Add to Workplace</button></form>\n",
        html_escape(view.start_path), hidden_csrf(context), account_chooser(view.accounts));
    body += "<h2>Installed communities</h2>\n<ul>\n";
    for (const store::InstallationSummary& install : view.installations) {
      body += fmt::format("<li>{} ({}){}</li>\n", html_escape(install.community_name),
                          html_escape(install.community_id),
                          install.state == store::InstallState::kActive ? "" : " — uninstalled");
    }
    body += "</ul>\n";
    body += fmt::format("<p><a href=\"{}\">Back to the admin overview</a></p>\n", kAdminOverviewPath);
  } else {
    body += account_chooser(view.accounts);
    body += "<p class=\"error\">None of the accounts signed in here has the admin role, and only an admin may "
            "install the app.</p>\n";
  }
  body += fmt::format("<p><a href=\"{}\">Sign in with another account</a></p>\n",
                      html_escape(context.sign_in_path + "?next=" + view.start_path));
  body += sign_out_form(context);
  return http::html_page(context.app_name + " for Workplace", body);
}

std::string confirm_page(const PageContext& context, const ConfirmView& view) {
  const std::string community = html_escape(view.community.name);
  std::string body = fmt::format(
      "<h1>Connect {} to {}?</h1>\n<p>Workplace asks to install {} into the community <strong>{}</strong> "
      "(id {}).</p>\n<p>You have <strong>{}</strong> left to confirm: Workplace's install code is valid for 5 "
      "minutes after Install was pressed. This page reloads when the time is up.</p>\n",
      html_escape(context.app_name), community, html_escape(context.app_name), community,
      html_escape(view.community.id), http::time_left(view.remaining));
  if (view.accounts.empty()) {
    body += fmt::format("<p>Sign in with your {} admin account to continue.</p>\n<p><a href=\"{}\">Sign in</a></p>\n",
                        html_escape(context.app_name), html_escape(view.sign_in_href));
  } else if (!any_may_install(view.accounts)) {
    body += account_chooser(view.accounts);
    body += fmt::format(
        "<p class=\"error\">Only an admin may install. <a href=\"{}\">Sign in with an admin account</a>.</p>\n",
        html_escape(view.sign_in_href));
  } else {
    body += fmt::format(
        "<form method=\"post\" action=\"{}\">{}\n{}<button type=\"submit\" name=\"action\" value=\"install\">"
        "Install into {}</button><button type=\"submit\" name=\"action\" value=\"cancel\">Cancel</button></form>\n"
        "<p><a href=\"{}\">Sign in with another account</a></p>\n",
        html_escape(view.confirm_path), hidden_csrf(context), account_chooser(view.accounts), community,
        html_escape(view.sign_in_href));
  }
  const std::string refresh =
      fmt::format("<meta http-equiv=\"refresh\" content=\"{}\">\n", std::max<std::int64_t>(view.remaining.count(), 1));
  return http::html_page("Confirm the install", body, refresh);
}

std::string success_page(const PageContext& context, const SuccessView& view) {
  std::string body = fmt::format("<h1>Installed</h1>\n<p>{} is now installed into <strong>{}</strong> by {}.</p>\n",
                                 html_escape(context.app_name), html_escape(view.community_name),
                                 html_escape(view.account_email));
  std::string head;
  if (!view.return_url.empty()) {
    body += fmt::format("<p>Returning to Workplace… <a href=\"{}\">Go now</a></p>\n", html_escape(view.return_url));
    head = fmt::format("<meta http-equiv=\"refresh\" content=\"3;url={}\">\n", html_escape(view.return_url));
  }
  body += fmt::format("<p><a href=\"{}\">Admin page</a></p>\n", html_escape(view.admin_path));
  return http::html_page("Installed", body, head);
}

std::string failure_page(Failure failure, const std::vector<http::PageLink>& links) {
  const FailureText& text = text_of(failure);
  return http::problem_page(text.title, text.happened, text.to_do, links);
}

}  // namespace wik::install
