#include "admin/admin_pages.h"

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <charconv>
#include <map>

#include "core/utf8.h"
#include "http/error_status.h"
#include "http/html.h"
#include "http/url.h"

namespace wik {

std::optional<std::string> AdminRequest::field(std::string_view name) const {
  const auto found = std::ranges::find_if(fields, [&](const auto& entry) { return entry.first == name; });
  if (found == fields.end()) return std::nullopt;
  return found->second;
}

std::string html_escape(std::string_view text) { return http::html_escape(text); }

namespace admin {
namespace {

namespace asio = boost::asio;
using boost::beast::http::status;
using http::html_escape;

constexpr std::string_view kReplayPath = "/admin/replay";
constexpr std::string_view kSettingsSuffix = "/settings";
constexpr std::string_view kUnknownCommunity =
    "No installed community has this id. It may never have installed the app, or its data was purged after it "
    "uninstalled.";

bool is_plain_path(std::string_view path) {
  return std::ranges::all_of(path, [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '/' || c == '_' ||
           c == '-';
  });
}

std::string hidden_csrf(std::string_view csrf) {
  return fmt::format("<input type=\"hidden\" name=\"csrf\" value=\"{}\">", html_escape(csrf));
}

std::string when(store::TimePoint at) {
  return fmt::format("{:%Y-%m-%d %H:%M} UTC", std::chrono::floor<std::chrono::minutes>(at));
}

std::string when_or(const std::optional<store::TimePoint>& at, std::string_view otherwise) {
  return at ? when(*at) : std::string(otherwise);
}

std::string_view state_text(store::InstallState state) {
  return state == store::InstallState::kActive ? "installed" : "uninstalled";
}

// Returns the last Graph error as HTML: its reason and time, or "none".
std::string graph_error_html(const store::CommunityHealth& health) {
  if (!health.last_graph_error_at) return "none";
  const std::string reason = health.last_graph_error.empty() ? "(no reason given)" : health.last_graph_error;
  return fmt::format("{} <small>({})</small>", html_escape(reason), when(*health.last_graph_error_at));
}

// Returns what the kit knows of the community's token, never the token itself.
std::string token_status(const store::InstallationSummary& install) {
  if (install.state != store::InstallState::kActive) return "revoked";
  if (!install.health.token_checked_at) return "active, not yet checked";
  return "active, checked " + when(*install.health.token_checked_at);
}

// Returns the "N dead letter(s) put back" notice for a ?replayed=N query, or "".
std::string replayed_notice(const http::Request& request) {
  const auto replayed = request.query("replayed");
  if (!replayed) return {};
  std::int64_t count = 0;
  const auto [end, error] = std::from_chars(replayed->data(), replayed->data() + replayed->size(), count);
  if (error != std::errc() || end != replayed->data() + replayed->size()) return {};
  return fmt::format("<p role=\"status\"><strong>{} dead letter(s) put back in the queue.</strong></p>\n", count);
}

// Returns the replay button for `community_id`'s dead letters; `back` says where the browser
// returns ("community": the community's page, otherwise the overview).
std::string replay_form(std::string_view csrf, std::string_view community_id, std::string_view back) {
  std::string back_field;
  if (!back.empty()) {
    back_field = fmt::format("<input type=\"hidden\" name=\"back\" value=\"{}\">", html_escape(back));
  }
  return fmt::format("<form method=\"post\" action=\"{}\">{}<input type=\"hidden\" name=\"community\" "
                     "value=\"{}\">{}<button type=\"submit\">Replay dead letters</button></form>",
                     kReplayPath, hidden_csrf(csrf), html_escape(community_id), back_field);
}

// Returns the "Settings saved." notice for a ?saved=1 query, or "".
std::string saved_notice(const http::Request& request) {
  if (request.query("saved") != "1") return {};
  return "<p role=\"status\"><strong>Settings saved.</strong></p>\n";
}

// Returns the id of setting `name`'s input; names are [a-z0-9_], so it is a valid HTML id.
std::string input_id(std::string_view name) { return fmt::format("setting-{}", name); }

}  // namespace

struct AdminPages::SettingsForm {
  std::map<std::string, std::string> values;  // as sent, by declared name
  std::map<std::string, std::string> errors;  // why a value was refused, by declared name
  std::vector<std::string> unknown;           // names sent that the app did not declare
};

std::optional<std::string> setting_value_problem(const CommunitySetting& setting, std::string_view value) {
  const std::optional<std::size_t> length = core::utf8_length(value);
  if (!length) return "This is not valid text (UTF-8). Type it again.";
  if (core::has_control_character(value)) {
    return std::string("This holds a control character (such as a line break or a tab). Write it on one line.");
  }
  if (*length > setting.max_length) {
    return fmt::format("This is too long: {} characters, at most {}.", *length, setting.max_length);
  }
  return std::nullopt;
}

std::string community_path(std::string_view community_id) {
  return std::string(AdminPages::kCommunityPathPrefix) + http::percent_encode(community_id);
}

bool is_local_path(std::string_view path) noexcept {
  if (path.empty() || path.front() != '/' || path.starts_with("//")) return false;
  return std::ranges::none_of(path, [](char c) { return c == '\\' || static_cast<unsigned char>(c) < 0x20 || c == 0x7f; });
}

AdminPages::AdminPages(store::Store& store, Gate gate, std::string app_name, std::vector<CommunitySetting> settings)
    : store_(store), gate_(std::move(gate)), app_name_(std::move(app_name)), settings_(std::move(settings)) {}

void AdminPages::add_page(std::string path, std::string title, PageHandler handler) {
  if (!path.starts_with("/admin/") || path.size() == 7 || !is_plain_path(path) || path == kReplayPath ||
      path == gate_.install_path || path.starts_with(kCommunityPathPrefix) ||
      path == kCommunityPathPrefix.substr(0, kCommunityPathPrefix.size() - 1)) {
    fatal("admin_page: the path must start with /admin/, be a plain path and not be one of the kit's");
  }
  if (std::ranges::any_of(pages_, [&](const Page& page) { return page.path == path; })) {
    fatal("admin_page: the path is registered twice");
  }
  pages_.push_back({.path = std::move(path), .title = std::move(title), .handler = std::move(handler)});
}

void AdminPages::add_routes(http::Router& router) {
  const http::RouteOptions form_limit{.max_body_bytes = 64 * 1024};
  router.get(std::string(kOverviewPath),
             [this](http::Request& r) -> asio::awaitable<http::Response> { co_return overview(r); }, form_limit);
  router.get(std::string(kCommunityPathPrefix) + "{id}",
             [this](http::Request& r) -> asio::awaitable<http::Response> { co_return community(r); }, form_limit);
  router.post(std::string(kCommunityPathPrefix) + "{id}" + std::string(kSettingsSuffix),
              [this](http::Request& r) -> asio::awaitable<http::Response> { co_return save_settings(r); }, form_limit);
  router.post(std::string(kReplayPath),
              [this](http::Request& r) -> asio::awaitable<http::Response> { co_return replay(r); }, form_limit);
  for (const Page& page : pages_) {
    auto handle = [this, &page](http::Request& r) { return serve(page, r); };
    router.get(page.path, handle, form_limit);
    router.post(page.path, handle, form_limit);
  }
}

std::variant<Visitor, http::Response> AdminPages::admit(const http::Request& request) const {
  const std::vector<Visitor> visitors = gate_.signed_in(request);
  if (visitors.empty()) {
    http::Response response(status::see_other);
    response.set_header(boost::beast::http::field::location,
                        gate_.sign_in_path + "?" + http::encode_form({{"next", request.path()}}));
    return response;
  }
  const auto admin = std::ranges::find_if(visitors, [](const Visitor& v) { return v.admin; });
  if (admin == visitors.end()) {
    return message_page("Admins only",
                        "None of the accounts signed in on this browser has the admin role, and these pages are "
                        "for admins only. Sign in with an admin account.",
                        request, status::forbidden);
  }
  return *admin;
}

std::string AdminPages::layout(std::string_view title, std::string_view body, std::string_view csrf) const {
  std::string nav = fmt::format("<nav aria-label=\"Admin\"><a href=\"{}\">Overview</a> · <a href=\"{}\">Add to "
                                "Workplace</a>",
                                kOverviewPath, html_escape(gate_.install_path));
  for (const Page& page : pages_) {
    nav += fmt::format(" · <a href=\"{}\">{}</a>", html_escape(page.path), html_escape(page.title));
  }
  nav += fmt::format(" · <form method=\"post\" action=\"{}\" style=\"display:inline\">{}<button type=\"submit\">Sign "
                     "out</button></form></nav>\n",
                     html_escape(gate_.sign_out_path), hidden_csrf(csrf));
  return http::html_page(fmt::format("{} — {} admin", title, app_name_),
                         fmt::format("{}<main>\n<h1>{}</h1>\n{}</main>\n", nav, html_escape(title), body));
}

http::Response AdminPages::message_page(std::string_view title, std::string_view text, const http::Request& request,
                                        status code) const {
  const std::string csrf = gate_.csrf_token(request);
  return gate_.page(layout(title, fmt::format("<p>{}</p>\n", html_escape(text)), csrf), csrf, code);
}

asio::awaitable<http::Response> AdminPages::serve(const Page& page, http::Request& request) {
  auto admitted = admit(request);
  if (auto* refused = std::get_if<http::Response>(&admitted)) co_return std::move(*refused);
  AdminRequest admin_request{.path = page.path,
                             .post = request.method() == boost::beast::http::verb::post,
                             .fields = request.query_params().entries(),
                             .account_email = std::get<Visitor>(admitted).email,
                             .csrf_field = {}};
  if (admin_request.post) {
    const auto form = gate_.checked_form(request);
    if (!form) {
      co_return message_page("The form could not be accepted",
                             "The form was not sent from this site's own page (it lacked this browser's security "
                             "token), so it was ignored. Nothing was changed. Reload the page and send it again.",
                             request, status::forbidden);
    }
    for (const auto& [name, value] : *form) {
      if (name != "csrf") admin_request.fields.emplace_back(name, value);
    }
  }
  const std::string csrf = gate_.csrf_token(request);
  admin_request.csrf_field = hidden_csrf(csrf);
  Result<AdminPage> answer = co_await page.handler(admin_request);
  if (!answer.ok()) {
    spdlog::warn("admin: page {} failed: {}", page.path, answer.error().reason());
    const http::ErrorStatus error = http::error_status(answer.error().code());
    const std::string reason = answer.error().reason().empty() ? std::string(error.public_reason) : answer.error().reason();
    co_return message_page("Something went wrong", reason, request, error.status);
  }
  if (!answer->redirect.empty()) {
    if (!is_local_path(answer->redirect)) {
      spdlog::error("admin: page {} asked to redirect off the site; refused", page.path);
      co_return message_page("Something went wrong", "The page tried to send the browser elsewhere.", request,
                             status::internal_server_error);
    }
    http::Response response(status::see_other);
    response.set_header(boost::beast::http::field::location, answer->redirect);
    co_return response;
  }
  const std::string title = answer->title.empty() ? page.title : answer->title;
  co_return gate_.page(layout(title, answer->body_html, csrf), csrf, status::ok);
}

http::Response AdminPages::overview(const http::Request& request) {
  auto admitted = admit(request);
  if (auto* refused = std::get_if<http::Response>(&admitted)) return std::move(*refused);
  const std::string csrf = gate_.csrf_token(request);
  std::string body = replayed_notice(request);

  body += "<h2>Installed communities</h2>\n";
  auto installations = store_.list_installations();
  if (!installations.ok()) {
    body += "<p>The installations could not be read right now.</p>\n";
  } else if (installations->empty()) {
    body += fmt::format("<p>No community has installed the app yet. <a href=\"{}\">Add to Workplace</a>.</p>\n",
                        html_escape(gate_.install_path));
  } else {
    body += "<table>\n<thead><tr><th scope=\"col\">Community</th><th scope=\"col\">Id</th><th scope=\"col\">State</th>"
            "<th scope=\"col\">Last change</th><th scope=\"col\">Last webhook</th>"
            "<th scope=\"col\">Last Graph error</th><th scope=\"col\">Token</th></tr></thead>\n<tbody>\n";
    for (const store::InstallationSummary& install : *installations) {
      body += fmt::format(
          "<tr><th scope=\"row\"><a href=\"{}\">{}</a></th><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>"
          "<td>{}</td></tr>\n",
          html_escape(community_path(install.community_id)), html_escape(install.community_name),
          html_escape(install.community_id), state_text(install.state), when(install.updated_at),
          when_or(install.health.last_webhook_at, "never"), graph_error_html(install.health), token_status(install));
    }
    body += "</tbody></table>\n";
  }

  body += "<h2>Webhook queue</h2>\n";
  auto counts = store_.inbox_counts();
  if (!counts.ok()) {
    body += "<p>The queue could not be read right now.</p>\n";
  } else if (counts->empty()) {
    body += "<p>Every event received has been handled; there are no dead letters.</p>\n";
  } else {
    body += "<table>\n<thead><tr><th scope=\"col\">Community</th><th scope=\"col\">Waiting</th>"
            "<th scope=\"col\">Dead letters</th><th scope=\"col\">Action</th></tr></thead>\n<tbody>\n";
    for (const store::InboxCounts& count : *counts) {
      const std::string action = count.dead_letters > 0 ? replay_form(csrf, count.community_id, "") : "";
      body += fmt::format("<tr><th scope=\"row\"><a href=\"{}\">{}</a></th><td>{}</td><td>{}</td><td>{}</td></tr>\n",
                          html_escape(community_path(count.community_id)), html_escape(count.community_id),
                          count.pending, count.dead_letters, action);
    }
    body += "</tbody></table>\n";
  }

  body += "<h2>Purges in progress</h2>\n";
  auto jobs = store_.list_purge_jobs();
  std::vector<store::PurgeJob> open;
  if (jobs.ok()) {
    std::ranges::copy_if(*jobs, std::back_inserter(open),
                         [](const store::PurgeJob& job) { return job.state != store::PurgeState::kDone; });
  }
  if (!jobs.ok()) {
    body += "<p>The purges could not be read right now.</p>\n";
  } else if (open.empty()) {
    body += "<p>No purge is waiting: every uninstalled community's data is gone.</p>\n";
  } else {
    body += "<ul>\n";
    for (const store::PurgeJob& job : open) {
      body += fmt::format("<li>Community {}: requested {}, due by {}</li>\n",
                          html_escape(job.community_id.value_or("(unknown)")), when(job.requested_at),
                          when(job.deadline));
    }
    body += "</ul>\n";
  }
  return gate_.page(layout("Overview", body, csrf), csrf, status::ok);
}

http::Response AdminPages::community(const http::Request& request) {
  auto admitted = admit(request);
  if (auto* refused = std::get_if<http::Response>(&admitted)) return std::move(*refused);
  auto scope = store_.community(request.param("id"));
  if (!scope.ok()) return message_page("No such community", kUnknownCommunity, request, status::not_found);
  return community_page(request, *scope, nullptr, status::ok);
}

http::Response AdminPages::community_page(const http::Request& request, store::CommunityScope& scope,
                                          const SettingsForm* refused, status code) {
  auto install = scope.installation_summary();
  if (!install.ok() && install.error().code() == ErrorCode::kNotFound) {
    return message_page("No such community", kUnknownCommunity, request, status::not_found);
  }
  if (!install.ok()) {
    spdlog::warn("admin: the installation of community {} could not be read: {}", scope.community_id(),
                 install.error().reason());
    return message_page("Something went wrong", "The community could not be read right now. Try again shortly.",
                        request, status::service_unavailable);
  }
  const store::InstallationSummary& community = *install;
  const std::string csrf = gate_.csrf_token(request);
  std::string permissions;
  for (const std::string& permission : community.permissions) {
    permissions += fmt::format("<li><code>{}</code></li>", html_escape(permission));
  }
  std::string body = replayed_notice(request) + saved_notice(request);
  body += fmt::format(
      "<dl>\n<dt>Name</dt><dd>{}</dd>\n<dt>Community id</dt><dd>{}</dd>\n<dt>State</dt><dd>{}</dd>\n"
      "<dt>Installed</dt><dd>{}</dd>\n<dt>Installed by</dt><dd>{}</dd>\n<dt>Permissions granted</dt><dd>{}</dd>\n"
      "</dl>\n",
      html_escape(community.community_name), html_escape(community.community_id), state_text(community.state),
      when(community.installed_at), html_escape(community.installed_by_email.value_or("unknown")),
      permissions.empty() ? std::string("none") : "<ul>" + permissions + "</ul>");
  body += fmt::format(
      "<h2>Health</h2>\n<dl>\n<dt>Last webhook</dt><dd>{}</dd>\n<dt>Last successful Graph call</dt><dd>{}</dd>\n"
      "<dt>Last Graph error</dt><dd>{}</dd>\n<dt>Token</dt><dd>{}</dd>\n</dl>\n",
      when_or(community.health.last_webhook_at, "never"), when_or(community.health.last_graph_ok_at, "never"),
      graph_error_html(community.health), token_status(community));

  body += settings_section(csrf, community, scope, refused);

  body += "<h2>Webhook queue</h2>\n";
  auto counts = scope.inbox_counts();
  auto letters = scope.dead_letters();
  if (!counts.ok() || !letters.ok()) {
    body += "<p>The queue could not be read right now.</p>\n";
  } else {
    body += fmt::format("<p>{} event(s) waiting to be handled, {} dead letter(s).</p>\n", counts->pending,
                        counts->dead_letters);
    if (!letters->empty()) {
      body += "<table>\n<thead><tr><th scope=\"col\">Dead letter</th><th scope=\"col\">Topic</th>"
              "<th scope=\"col\">Attempts</th><th scope=\"col\">Last error</th><th scope=\"col\">Failed</th>"
              "</tr></thead>\n<tbody>\n";
      for (const store::DeadLetter& letter : *letters) {
        body += fmt::format("<tr><th scope=\"row\">{}</th><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n",
                            letter.id, html_escape(letter.topic), letter.attempts, html_escape(letter.last_error),
                            when(letter.failed_at));
      }
      body += "</tbody></table>\n" + replay_form(csrf, community.community_id, "community");
    }
  }
  const std::string title = "Community " + community.community_name;
  return gate_.page(layout(title, body, csrf), csrf, code);
}

std::string AdminPages::settings_section(std::string_view csrf, const store::InstallationSummary& community,
                                         store::CommunityScope& scope, const SettingsForm* refused) const {
  std::string out = "<h2>Settings</h2>\n";
  if (settings_.empty()) return out + "<p>The app has no settings for its communities.</p>\n";
  if (community.state != store::InstallState::kActive) {
    return out + "<p>The app is uninstalled from this community, so its settings cannot be changed.</p>\n";
  }
  auto stored = scope.settings();
  if (!stored.ok()) return out + "<p>The settings could not be read right now.</p>\n";
  if (refused != nullptr) {
    for (const std::string& name : refused->unknown) {
      out += fmt::format("<p role=\"alert\">The form named a setting the app does not have (<code>{}</code>). "
                         "Nothing was saved.</p>\n",
                         html_escape(name));
    }
    if (!refused->errors.empty()) {
      out += "<p role=\"alert\">Nothing was saved: correct the fields marked below and save again.</p>\n";
    }
  }
  out += fmt::format("<form method=\"post\" action=\"{}\">{}\n",
                     html_escape(community_path(community.community_id) + std::string(kSettingsSuffix)),
                     hidden_csrf(csrf));
  for (const CommunitySetting& setting : settings_) {
    std::string value = setting.default_value;
    if (const auto found = stored->find(setting.name); found != stored->end()) value = found->second;
    std::string error;
    if (refused != nullptr) {
      if (const auto sent = refused->values.find(setting.name); sent != refused->values.end()) value = sent->second;
      if (const auto problem = refused->errors.find(setting.name); problem != refused->errors.end()) error = problem->second;
    }
    const std::string id = input_id(setting.name);
    std::string described_by = id + "-help";
    std::string invalid;
    std::string error_html;
    if (!error.empty()) {
      described_by += " " + id + "-error";
      invalid = " aria-invalid=\"true\"";
      error_html = fmt::format("<br><strong id=\"{}-error\" role=\"alert\">{}</strong>", id, html_escape(error));
    }
    out += fmt::format(
        "<p><label for=\"{0}\">{1}</label><br><input type=\"text\" id=\"{0}\" name=\"{2}\" value=\"{3}\" "
        "maxlength=\"{4}\" aria-describedby=\"{5}\"{6}><br><small id=\"{0}-help\">{7}</small>{8}</p>\n",
        id, html_escape(setting.label), setting.name, html_escape(value), setting.max_length, described_by, invalid,
        html_escape(setting.help), error_html);
  }
  out += "<button type=\"submit\">Save settings</button></form>\n";
  return out;
}

http::Response AdminPages::forged_form_page(const http::Request& request) const {
  return message_page("The form could not be accepted",
                      "The form lacked this browser's security token, so it was ignored. Nothing was changed.",
                      request, status::forbidden);
}

http::Response AdminPages::save_settings(const http::Request& request) {
  auto admitted = admit(request);
  if (auto* refused = std::get_if<http::Response>(&admitted)) return std::move(*refused);
  const auto form = gate_.checked_form(request);
  if (!form) return forged_form_page(request);
  auto scope = store_.community(request.param("id"));
  if (!scope.ok()) return message_page("No such community", kUnknownCommunity, request, status::not_found);
  auto install = scope->install_state();
  if (!install.ok() && install.error().code() != ErrorCode::kNotFound) {
    return message_page("Something went wrong", "The community could not be read right now. Nothing was changed.",
                        request, status::service_unavailable);
  }
  if (!install.ok() || *install != store::InstallState::kActive) {
    return message_page("No such community", kUnknownCommunity, request, status::not_found);
  }

  SettingsForm sent;
  for (const auto& [name, value] : *form) {
    if (name == "csrf") continue;
    const std::string& field_name = name;
    const auto setting =
        std::ranges::find_if(settings_, [&](const CommunitySetting& s) { return s.name == field_name; });
    if (setting == settings_.end()) {
      sent.unknown.push_back(name);
      continue;
    }
    if (sent.values.contains(name)) continue;  // the first of a repeated field counts, as AdminRequest::field
    if (auto problem = setting_value_problem(*setting, value)) sent.errors.emplace(name, std::move(*problem));
    sent.values.emplace(name, value);
  }
  if (!sent.unknown.empty() || !sent.errors.empty()) {
    return community_page(request, *scope, &sent, status::bad_request);
  }
  for (const auto& [name, value] : sent.values) {
    Result<void> saved = scope->put_setting(name, value);
    if (!saved.ok() && saved.error().code() == ErrorCode::kNotFound) {
      return message_page("No such community", kUnknownCommunity, request, status::not_found);
    }
    if (!saved.ok()) {
      spdlog::warn("admin: setting {} of community {} could not be saved: {}", name, scope->community_id(),
                   saved.error().reason());
      return message_page("Something went wrong", "The settings could not be saved right now. Try again shortly.",
                          request, status::service_unavailable);
    }
  }
  spdlog::info("admin: {} saved the settings of community {}", std::get<Visitor>(admitted).email,
               scope->community_id());
  http::Response response(status::see_other);
  response.set_header(boost::beast::http::field::location, community_path(scope->community_id()) + "?saved=1");
  return response;
}

http::Response AdminPages::replay(const http::Request& request) {
  auto admitted = admit(request);
  if (auto* refused = std::get_if<http::Response>(&admitted)) return std::move(*refused);
  const auto form = gate_.checked_form(request);
  if (!form) return forged_form_page(request);
  auto scope = store_.community(form->find("community").value_or(""));
  if (!scope.ok()) return message_page("No such community", scope.error().reason(), request, status::bad_request);
  auto letters = scope->dead_letters();
  if (!letters.ok()) return message_page("Replay failed", letters.error().reason(), request, status::service_unavailable);
  std::size_t replayed = 0;
  for (const store::DeadLetter& letter : *letters) {
    if (scope->replay_dead_letter(letter.id).ok()) ++replayed;
  }
  spdlog::info("admin: {} replayed {} dead letter(s) of community {}", std::get<Visitor>(admitted).email, replayed,
               scope->community_id());
  const bool back_to_community = form->find("back") == "community";
  http::Response response(status::see_other);
  response.set_header(boost::beast::http::field::location,
                      (back_to_community ? community_path(scope->community_id()) : std::string(kOverviewPath)) +
                          "?replayed=" + std::to_string(replayed));
  return response;
}

}  // namespace admin
}  // namespace wik
