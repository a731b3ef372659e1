#include "identity/link_views.h"

#include <fmt/format.h>

#include <array>
#include <string_view>
#include <vector>

#include "core/ascii.h"
#include "http/html.h"

namespace wik::identity {
namespace {

using boost::beast::http::status;
using http::html_escape;

struct FailureText {
  LinkFailure failure;
  status code;
  std::string_view title;
  std::string_view happened;
  std::string_view to_do;
};

constexpr std::string_view kAskAgain = "Ask the bot in Workplace for a new link, and open it within a few minutes.";

constexpr std::array<FailureText, 7> kFailures = {{
    {LinkFailure::kUnknown, status::not_found, "This link is not valid",
     "The link is unknown here: it may have been cut short when it was copied. Nothing was changed.", kAskAgain},
    {LinkFailure::kUsed, status::conflict, "This link was already used",
     "Each link connects an account once, and this one has been used (a reload or the back button does "
     "that). Nothing new was changed.",
     "If you just connected your account, you are done. Otherwise ask the bot in Workplace for a new link."},
    {LinkFailure::kExpired, status::gone, "This link expired",
     "Links to connect an account work for a few minutes only, and this one is too old. Nothing was changed.",
     kAskAgain},
    {LinkFailure::kUninstalled, status::gone, "The app is no longer installed",
     "The app is no longer installed in this Workplace community, so no account can be connected to it. "
     "Nothing was changed.",
     "If your community installs the app again, ask its bot for a new link."},
    {LinkFailure::kNotSignedIn, status::forbidden, "Please sign in",
     "The account chosen is not signed in on this browser, so nothing was connected.",
     "Sign in with your account, then confirm again."},
    {LinkFailure::kForgedForm, status::forbidden, "The form could not be accepted",
     "The form was not sent from this site's own page (it lacked this browser's security token), so it "
     "was ignored. Nothing was changed.",
     "Go back, reload the page and send the form again."},
    {LinkFailure::kStoreFailed, status::service_unavailable, "The link could not be checked",
     "The app could not reach its database, so nothing was changed.", "Wait a minute, then open the link again."},
}};

const FailureText& text_of(LinkFailure failure) {
  for (const FailureText& text : kFailures) {
    if (text.failure == failure) return text;
  }
  fatal("identity: a LinkFailure without a page");
}

// Returns how the page names the person: their name, else "the Workplace person who asked".
std::string person_label(const std::string& name) {
  return name.empty() ? std::string("the Workplace person who asked for this link")
                      : "<strong>" + html_escape(name) + "</strong>";
}

// Returns the signed-in account whose email is the proposed one, if any.
const AccountChoice* proposed_account(const LinkView& view) {
  if (!view.proposed_email) return nullptr;
  const std::string proposed = core::ascii_lower(*view.proposed_email);
  for (const AccountChoice& account : view.accounts) {
    if (core::ascii_lower(account.email) == proposed) return &account;
  }
  return nullptr;
}

}  // namespace

boost::beast::http::status failure_status(LinkFailure failure) { return text_of(failure).code; }

std::string link_page(const LinkView& view) {
  const std::string app = html_escape(view.app_name);
  const std::string person = person_label(view.person_name);
  std::string body = fmt::format(
      "<h1>Connect your account to {}</h1>\n"
      "<p>This link connects the Workplace person {} of the community <strong>{}</strong> to an account of {}. "
      "It works once, for <strong>{}</strong> more.</p>\n"
      "<p class=\"note\">Connect only if you are this person and asked {}'s bot for this link yourself: once "
      "connected, {} treats what this Workplace person does as done by the account you choose.</p>\n",
      app, person, html_escape(view.community_name), app, http::time_left(view.remaining), app, app);
  if (view.linked_email) {
    body += fmt::format("<p>Connected now to <strong>{}</strong>. Connecting another account replaces it.</p>\n",
                        html_escape(*view.linked_email));
  }
  // Preselected: the proposed account when it is signed in here, else the only one.
  const AccountChoice* proposed = proposed_account(view);
  const std::optional<store::AccountId> chosen =
      proposed != nullptr ? std::optional(proposed->id)
                          : view.accounts.size() == 1 ? std::optional(view.accounts.front().id) : std::nullopt;
  if (view.proposed_email) {
    // A proposal only: the account is connected when someone signed in as it confirms below.
    body += proposed != nullptr
                ? fmt::format("<p>Your Workplace email is that of the account <strong>{}</strong>, signed in here.</p>\n",
                              html_escape(*view.proposed_email))
                : fmt::format("<p>Your Workplace email is that of an account of {}: <a href=\"{}\">sign in as {}</a> "
                              "to connect it.</p>\n",
                              app, html_escape(view.sign_in_href), html_escape(*view.proposed_email));
  }
  if (view.accounts.empty()) {
    body += fmt::format("<p><a href=\"{}\">Sign in to {}</a> with the account to connect.</p>\n",
                        html_escape(view.sign_in_href), app);
    return http::html_page("Connect your account to " + view.app_name, body);
  }
  body += fmt::format(
      "<form method=\"post\" action=\"{}\"><input type=\"hidden\" name=\"csrf\" value=\"{}\">"
      "<input type=\"hidden\" name=\"c\" value=\"{}\"><input type=\"hidden\" name=\"t\" value=\"{}\">\n"
      "<fieldset><legend>Connect as</legend>\n",
      html_escape(view.action_path), html_escape(view.csrf), html_escape(view.community_id), html_escape(view.token));
  for (const AccountChoice& account : view.accounts) {
    body += fmt::format("<label><input type=\"radio\" name=\"account\" value=\"{}\" required{}> {}</label>\n",
                        account.id, chosen == account.id ? " checked" : "", html_escape(account.email));
  }
  body += fmt::format("</fieldset>\n<button type=\"submit\">Connect</button></form>\n"
                      "<p><a href=\"{}\">Sign in with another account</a></p>\n",
                      html_escape(view.sign_in_href));
  return http::html_page("Connect your account to " + view.app_name, body);
}

std::string linked_page(const LinkedView& view) {
  const std::string body = fmt::format(
      "<h1>Connected</h1>\n<p>The Workplace person {} of the community <strong>{}</strong> is now connected to "
      "the {} account <strong>{}</strong>.</p>\n<p>You can close this page and go back to Workplace.</p>\n",
      person_label(view.person_name), html_escape(view.community_name), html_escape(view.app_name),
      html_escape(view.account_email));
  return http::html_page("Connected", body);
}

std::string failure_page(LinkFailure failure, const std::string& app_name, const std::string& sign_in_href) {
  const FailureText& text = text_of(failure);
  std::vector<http::PageLink> links;
  if (!sign_in_href.empty()) links.push_back({.href = sign_in_href, .label = "Sign in to " + app_name});
  return http::problem_page(text.title, text.happened, text.to_do, links);
}

}  // namespace wik::identity
