#include "emulator/pages/install_dialog.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <utility>

#include "emulator/pages/html.h"

namespace wik::emulator {
namespace {

std::string_view trim(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front())) != 0) text.remove_prefix(1);
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back())) != 0) text.remove_suffix(1);
  return text;
}

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

// Returns the codes named by every `permissions[]` value and every comma-separated `permissions`
// value, lower-cased, in order, without repeats.
Result<std::vector<std::string>> requested_permissions(const http::Params& parameters) {
  std::vector<std::string> codes;
  for (const auto& [name, value] : parameters) {
    if (name != "permissions[]" && name != "permissions") continue;
    std::string_view rest = value;
    while (true) {
      const std::size_t comma = rest.find(',');
      const std::string code = lower(trim(rest.substr(0, comma)));
      if (!code.empty() && std::find(codes.begin(), codes.end(), code) == codes.end()) {
        if (codes.size() == kMaxRequestedPermissions) {
          return Error(ErrorCode::kInvalidArgument, "The install dialog asked for too many permissions.");
        }
        codes.push_back(code);
      }
      if (comma == std::string_view::npos) break;
      rest.remove_prefix(comma + 1);
    }
  }
  return codes;
}

Result<App> registered_app(const PlatformState& state, std::string_view app_id) {
  std::optional<App> app = app_id.empty() ? std::nullopt : state.app(std::string(app_id));
  if (!app) return Error(ErrorCode::kNotFound, "This app does not exist or is not available on this platform.");
  if (app->redirect_url.empty()) {
    return Error(ErrorCode::kInvalidArgument, "This app has no Redirect URL registered, so it cannot be installed.");
  }
  return std::move(*app);
}

}  // namespace

Result<InstallRequest> parse_install_request(const PlatformState& state, const http::Params& parameters) {
  auto app = registered_app(state, parameters.find("app_id").value_or(""));
  if (!app) return app.error();
  InstallRequest request{.app = std::move(*app)};

  const auto redirect_uri = parameters.find("redirect_uri");
  if (redirect_uri && *redirect_uri != request.app.redirect_url) {
    return Error(ErrorCode::kInvalidArgument,
                 "The redirect_uri is not the Redirect URL this app registered, so the dialog will not send you there.");
  }
  request.redirect_uri = request.app.redirect_url;

  if (const auto given_state = parameters.find("state"); given_state && !given_state->empty()) {
    if (given_state->size() > kMaxStateBytes) return Error(ErrorCode::kInvalidArgument, "The state parameter is too long.");
    request.state = std::string(*given_state);
  }

  const auto page_name = parameters.find("suggested_page_name").value_or("");
  if (page_name.size() > kMaxSuggestedPageNameBytes) {
    return Error(ErrorCode::kInvalidArgument, "The suggested_page_name parameter is too long.");
  }
  request.suggested_page_name = std::string(page_name);

  auto permissions = requested_permissions(parameters);
  if (!permissions) return permissions.error();
  for (const auto& code : *permissions) {
    if (std::find(request.app.permissions.begin(), request.app.permissions.end(), code) == request.app.permissions.end()) {
      return Error(ErrorCode::kInvalidArgument, "The app asked for a permission it did not register: " + code);
    }
  }
  request.permissions = permissions->empty() ? request.app.permissions : std::move(*permissions);
  return request;
}

Result<InstallRequest> workplace_install_request(const PlatformState& state, const Id& app_id) {
  auto app = registered_app(state, app_id);
  if (!app) return app.error();
  InstallRequest request{.app = std::move(*app), .workplace_initiated = true};
  request.redirect_uri = request.app.redirect_url;
  request.permissions = request.app.permissions;
  return request;
}

std::string install_redirect(const InstallRequest& request, const std::string& code, const std::string& admin_page_url) {
  std::vector<std::pair<std::string, std::string>> parameters{{"code", code}};
  if (request.workplace_initiated) {
    parameters.emplace_back("redirect_uri", admin_page_url);
  } else if (request.state) {
    parameters.emplace_back("state", *request.state);
  }
  return html::with_query(request.redirect_uri, parameters);
}

std::string cancel_redirect(const InstallRequest& request) {
  std::vector<std::pair<std::string, std::string>> parameters{
      {"error_reason", "user_denied"}, {"error", "access_denied"}, {"error_description", "Permissions error"}};
  if (request.state) parameters.emplace_back("state", *request.state);
  return html::with_query(request.redirect_uri, parameters);
}

std::string permission_display_name(std::string_view code) {
  static constexpr std::array<std::pair<std::string_view, std::string_view>, 14> kNames{{
      {"read_group", "Read group content"},
      {"write_group", "Manage group content"},
      {"read_user_feed", "Read user timeline"},
      {"write_user_feed", "Manage user timeline"},
      {"bot_mention", "Mention bot"},
      {"manage_group", "Manage groups"},
      {"manage_accounts", "Manage accounts"},
      {"manage_badges", "Manage badges"},
      {"read_user_email", "Read user email"},
      {"read_user_work_profile", "Read work profile"},
      {"read_org_chart", "Read org chart"},
      {"message", "Message any member"},
      {"link_unfurling", "Link unfurling (authenticated previews)"},
      {"message_mention", "Chat mentions"},
  }};
  for (const auto& [known, name] : kNames) {
    if (known == code) return std::string(name);
  }
  return std::string(code);
}

}  // namespace wik::emulator
