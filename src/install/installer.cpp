#include "install/installer.h"

#include <boost/beast/http/field.hpp>
#include <boost/json/value.hpp>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <charconv>

#include "core/ascii.h"
#include "core/constant_time.h"
#include "core/hex.h"
#include "core/hmac.h"
#include "core/secure_random.h"
#include "http/html.h"
#include "http/url.h"

namespace wik::install {
namespace {

namespace asio = boost::asio;
using boost::beast::http::status;
using boost::beast::http::verb;

constexpr std::string_view kSessionsCookie = "wik_sessions";
constexpr std::string_view kCsrfCookie = "wik_csrf";
constexpr std::string_view kPendingCookie = "wik_pending";
constexpr std::string_view kInstallAsCookie = "wik_install_as";
constexpr std::size_t kCsrfTokenLength = 43;  // base64url of 32 random bytes
constexpr std::size_t kMaxEmailBytes = 320;
constexpr std::size_t kMaxPasswordBytes = 1024;
// How long a pending install stays known after its deadline, to say "the time ran out".
constexpr std::chrono::seconds kTombstoneFor = std::chrono::minutes(10);
// The rate-limit budget of the GET /community call that verifies a new token.
constexpr std::string_view kVerificationBudget = "install-verification";

bool is_base64url(std::string_view text) {
  return std::ranges::all_of(text, [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
  });
}

// Returns "scheme://host:port" of an absolute http(s) URL without user info, or "" for anything else.
std::string origin_of(std::string_view url) {
  const auto parsed = http::parse_absolute_url(url);
  if (!parsed.ok() || parsed->has_userinfo()) return {};
  const std::string scheme = core::ascii_lower(parsed->scheme());
  if (scheme != "https" && scheme != "http") return {};
  const std::string port = parsed->has_port() ? std::string(parsed->port()) : scheme == "https" ? "443" : "80";
  return fmt::format("{}://{}:{}", scheme, core::ascii_lower(parsed->encoded_host()), port);
}

// Returns true when the browser says another site sent `request`: Sec-Fetch-Site "cross-site", or
// an Origin that names a site other than the Host the request was sent to (compared as host and
// port; a proxy must pass the Host on, docs/deploying.md). An absent Origin, or "null" (which our
// own pages' no-referrer policy makes browsers send with a form), says nothing.
bool sent_by_another_site(const http::Request& request) {
  if (request.header("Sec-Fetch-Site") == "cross-site") return true;
  const std::string_view origin = request.header("Origin").value_or("");
  if (origin.empty() || origin == "null") return false;
  const auto parsed = http::parse_absolute_url(origin);
  if (!parsed.ok() || parsed->has_userinfo()) return true;
  const std::string authority =
      core::ascii_lower(parsed->encoded_host()) + (parsed->has_port() ? ":" + std::string(parsed->port()) : "");
  return authority != core::ascii_lower(request.header("Host").value_or(""));
}

// Returns the path of the redirect URL. REQUIRES (fatal otherwise): an absolute URL whose path is not "/".
std::string redirect_path_of(std::string_view url) {
  const auto parsed = http::parse_absolute_url(url);
  if (!parsed.ok() || origin_of(url).empty()) fatal("Installer: redirect_url must be an absolute http(s) URL");
  std::string path(parsed->encoded_path());
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  if (path.empty() || path == "/") fatal("Installer: redirect_url needs a path other than /");
  return path;
}

// Returns the page a failed code exchange or verification ends on.
Failure failure_of_exchange(const Error& error) {
  switch (error.code()) {
    case ErrorCode::kExpired: return Failure::kCodeExpired;
    case ErrorCode::kConflict: return Failure::kCodeUsed;
    case ErrorCode::kInvalidArgument: return Failure::kCodeRejected;
    case ErrorCode::kConfig: return Failure::kAppMisconfigured;
    default: return Failure::kPlatformError;
  }
}

Failure failure_of_state(const Error& error) {
  switch (error.code()) {
    case ErrorCode::kNotFound: return Failure::kStateUnknown;
    case ErrorCode::kExpired: return Failure::kStateExpired;
    case ErrorCode::kPermissionDenied: return Failure::kStateOtherSession;
    default: return Failure::kStoreFailed;
  }
}

Failure failure_of_pending(const Error& error) {
  switch (error.code()) {
    case ErrorCode::kNotFound: return Failure::kNothingPending;
    case ErrorCode::kExpired: return Failure::kConfirmExpired;
    default:
      spdlog::warn("install: the store failed on a pending install: {}", error.reason());
      return Failure::kStoreFailed;
  }
}

Failure failure_of_holding(const Error& error) {
  switch (error.code()) {
    case ErrorCode::kRateLimited: return Failure::kTooBusy;
    case ErrorCode::kInvalidArgument: return Failure::kPlatformError;  // GET /community named no valid id
    default:
      spdlog::warn("install: could not hold a pending install: {}", error.reason());
      return Failure::kStoreFailed;
  }
}

// Returns the community a pending install is for, as the confirmation page names it.
VerifiedCommunity community_of(const store::PendingInstallSummary& pending) {
  return {.id = pending.community_id, .name = pending.community_name, .permissions = pending.permissions};
}

// Returns the community a GET /community?fields=id,name,install answer describes.
Result<VerifiedCommunity> parse_community(const boost::json::value& body) {
  const auto* object = body.if_object();
  const auto* id = object ? object->if_contains("id") : nullptr;
  VerifiedCommunity community;
  if (id && id->is_string()) community.id = std::string(id->as_string());
  if (id && id->is_int64()) community.id = std::to_string(id->as_int64());
  if (community.id.empty()) return Error(ErrorCode::kMalformed, "GET /community answered without an id");
  const auto* name = object->if_contains("name");
  community.name = name && name->is_string() ? std::string(name->as_string()) : community.id;
  const auto* install = object->if_contains("install");
  const auto* permissions = install && install->is_object() ? install->as_object().if_contains("permissions") : nullptr;
  if (permissions && permissions->is_array()) {
    for (const auto& permission : permissions->as_array()) {
      if (permission.is_string()) community.permissions.push_back(core::ascii_lower(permission.as_string()));
    }
  }
  return community;
}

const SignedInAccount* find_account(const std::vector<SignedInAccount>& accounts, std::optional<std::string_view> id) {
  if (!id) return nullptr;
  store::AccountId wanted = 0;
  const auto [end, error] = std::from_chars(id->data(), id->data() + id->size(), wanted);
  if (error != std::errc() || end != id->data() + id->size()) return nullptr;
  const auto found = std::ranges::find_if(accounts, [&](const SignedInAccount& a) { return a.account.id == wanted; });
  return found == accounts.end() ? nullptr : &*found;
}

std::string_view flow_name(bool developer) { return developer ? "developer-initiated" : "Workplace-initiated"; }

}  // namespace

Result<InstallerOptions> installer_options(const Config& config) {
  InstallerOptions options;
  options.redirect_url = config.app.redirect_url;
  if (options.redirect_url.empty()) {
    if (config.server.public_url.empty()) {
      return Error(ErrorCode::kConfig, "app.redirect_url: not set, and server.public_url is not set to derive it");
    }
    options.redirect_url = config.server.public_url + "/workplace/install";
  }
  options.workplace_url = config.app.workplace_url;
  const std::string& public_url = config.server.public_url.empty() ? options.redirect_url : config.server.public_url;
  options.secure_cookies = public_url.starts_with("https://");
  options.trusted_proxy_hops = config.server.trusted_proxy_hops;
  return options;
}

Installer::Installer(store::Store& store, graph::GraphClient& graph, const core::Clock& clock, InstallerOptions options)
    : store_(store),
      graph_(graph),
      clock_(clock),
      options_(std::move(options)),
      redirect_path_(redirect_path_of(options_.redirect_url)),
      confirm_path_(redirect_path_ + "/confirm"),
      workplace_origin_(origin_of(options_.workplace_url)),
      cookies_(options_.secure_cookies),
      sessions_(store, clock, options_.session_lifetime, options_.max_accounts_per_browser, options_.login_limits) {
  if (workplace_origin_.empty()) fatal("Installer: workplace_url must be an absolute http(s) URL");
}

void Installer::add_routes(http::Router& router) {
  const http::RouteOptions form_limit{.max_body_bytes = options_.max_form_bytes};
  router.get(options_.sign_in_path, [this](http::Request& r) { return on_sign_in_form(this, r); }, form_limit);
  router.post(options_.sign_in_path, [this](http::Request& r) { return on_sign_in(this, r); }, form_limit);
  router.post(options_.sign_out_path, [this](http::Request& r) { return on_sign_out(this, r); }, form_limit);
  router.get(options_.admin_path, [this](http::Request& r) { return on_admin_page(this, r); }, form_limit);
  router.post(options_.admin_path, [this](http::Request& r) { return on_start(this, r); }, form_limit);
  router.get(redirect_path_, [this](http::Request& r) { return on_redirect(this, r); }, form_limit);
  router.get(confirm_path_, [this](http::Request& r) { return on_confirm_page(this, r); }, form_limit);
  router.post(confirm_path_, [this](http::Request& r) { return on_confirm(this, r); }, form_limit);
}

// ---- Sign-in and sign-out

asio::awaitable<http::Response> Installer::on_sign_in_form(Installer* self, http::Request& request) {
  SignInView view{.next = self->next_path(request.query("next").value_or(""))};
  for (const SignedInAccount& account : self->signed_in(request)) view.signed_in.push_back(account.account.email);
  const std::string csrf = self->csrf_token(request);
  co_return self->page(sign_in_page(self->page_context(csrf), view), csrf);
}

asio::awaitable<http::Response> Installer::on_sign_in(Installer* self, http::Request& request) {
  const auto form = self->checked_form(request);
  if (!form) co_return self->failure(Failure::kForgedForm, Flow::kDeveloper);
  const std::string_view email = form->find("email").value_or("");
  const std::string_view password = form->find("password").value_or("");
  SignInView view{.next = self->next_path(form->find("next").value_or("")),
                  .email = std::string(email.substr(0, kMaxEmailBytes))};
  std::vector<SignedInAccount> accounts = self->signed_in(request);
  Result<std::string> cookie = Error(ErrorCode::kUnauthenticated, "the email or password is wrong");
  if (!email.empty() && email.size() <= kMaxEmailBytes && !password.empty() && password.size() <= kMaxPasswordBytes) {
    std::vector<std::string_view> forwarded_for;
    for (auto [it, end] = request.message().equal_range("X-Forwarded-For"); it != end; ++it) {
      forwarded_for.push_back(it->value());
    }
    const std::string client =
        client_address(request.peer_address(), forwarded_for, self->options_.trusted_proxy_hops);
    cookie = self->sessions_.sign_in(accounts, email, Secret(std::string(password)), client);
  }
  if (cookie.ok()) {
    http::Response response = self->see_other(view.next);
    self->cookies_.write(response, kSessionsCookie, *cookie, self->options_.session_lifetime);
    co_return response;
  }
  status code = status::unauthorized;
  switch (cookie.error().code()) {
    case ErrorCode::kUnauthenticated: view.error = "The email or password is wrong."; break;
    case ErrorCode::kRateLimited:
      code = status::too_many_requests;
      view.error = "Signing in is paused: " + cookie.error().reason() + ".";
      break;
    default:
      spdlog::warn("install: sign-in failed: {}", cookie.error().reason());
      code = status::service_unavailable;
      view.error = "Signing in is not possible right now. Please try again in a minute.";
  }
  for (const SignedInAccount& account : accounts) view.signed_in.push_back(account.account.email);
  const std::string csrf = self->csrf_token(request);
  co_return self->page(sign_in_page(self->page_context(csrf), view), csrf, code);
}

asio::awaitable<http::Response> Installer::on_sign_out(Installer* self, http::Request& request) {
  if (!self->checked_form(request)) co_return self->failure(Failure::kForgedForm, Flow::kDeveloper);
  self->sessions_.sign_out(self->signed_in(request));
  http::Response response = self->see_other(self->options_.sign_in_path);
  self->cookies_.clear(response, kSessionsCookie);
  co_return response;
}

// ---- Developer-initiated install

asio::awaitable<http::Response> Installer::on_admin_page(Installer* self, http::Request& request) {
  const std::vector<SignedInAccount> accounts = self->signed_in(request);
  if (accounts.empty()) {
    co_return self->see_other(self->options_.sign_in_path + "?next=" + self->options_.admin_path);
  }
  AdminView view{.start_path = self->options_.admin_path, .accounts = self->choices(accounts)};
  const bool admin = std::ranges::any_of(accounts, [&](const SignedInAccount& a) { return self->may_install(a.account); });
  if (admin) {
    auto installations = self->store_.list_installations();
    if (installations.ok()) view.installations = std::move(*installations);
    const auto installed = request.query("installed");
    for (const store::InstallationSummary& install : view.installations) {
      if (installed && install.community_id == *installed) view.notice = "Installed into " + install.community_name + ".";
    }
  }
  const std::string csrf = self->csrf_token(request);
  co_return self->page(admin_page(self->page_context(csrf), view), csrf);
}

asio::awaitable<http::Response> Installer::on_start(Installer* self, http::Request& request) {
  const auto form = self->checked_form(request);
  if (!form) co_return self->failure(Failure::kForgedForm, Flow::kDeveloper);
  const std::vector<SignedInAccount> accounts = self->signed_in(request);
  const SignedInAccount* chosen = find_account(accounts, form->find("account"));
  if (chosen == nullptr) co_return self->failure(Failure::kNotSignedIn, Flow::kDeveloper);
  if (!self->may_install(chosen->account)) co_return self->failure(Failure::kNotAdmin, Flow::kDeveloper);
  auto state = self->store_.create_oauth_state(chosen->session_id, self->options_.admin_path,
                                               self->options_.state_lifetime);
  if (!state.ok()) {
    spdlog::warn("install: could not create an OAuth state: {}", state.error().reason());
    co_return self->failure(Failure::kStoreFailed, Flow::kDeveloper);
  }
  const std::string dialog =
      self->options_.workplace_url + "/dialog/work/app_install/?" +
      http::encode_form({{"app_id", self->graph_.app_id()},
                         {"redirect_uri", self->options_.redirect_url},
                         {"state", std::string(state->expose())}});
  http::Response response = self->see_other(dialog);
  self->cookies_.write(response, kInstallAsCookie, std::to_string(chosen->account.id), self->options_.state_lifetime);
  co_return response;
}

// ---- The redirect from Workplace

asio::awaitable<http::Response> Installer::on_redirect(Installer* self, http::Request& request) {
  const auto state = request.query("state");
  const Flow flow = state ? Flow::kDeveloper : Flow::kWorkplace;
  if (request.query("error")) {
    if (state) (void)self->store_.take_oauth_state(Secret(std::string(*state)), Secret());  // used up either way
    co_return self->failure(Failure::kDenied, flow);
  }
  const auto code = request.query("code");
  if (!code || code->empty()) co_return self->failure(Failure::kMissingCode, flow);
  if (state) co_return co_await self->finish_developer_install(request, std::string(*code), std::string(*state));
  co_return co_await self->hold_workplace_install(request, std::string(*code));
}

asio::awaitable<http::Response> Installer::finish_developer_install(const http::Request& request, std::string code,
                                                                    std::string state) {
  const std::vector<SignedInAccount> accounts = signed_in(request);
  const auto installing_as = cookies_.read(request, kInstallAsCookie);
  const SignedInAccount* chosen = find_account(accounts, installing_as);
  // Taking the state uses it up even when it belongs to another session.
  auto taken = store_.take_oauth_state(Secret(std::move(state)), chosen ? chosen->session_id : Secret());
  if (!taken.ok()) co_return failure(failure_of_state(taken.error()), Flow::kDeveloper);
  if (chosen == nullptr) co_return failure(Failure::kNotSignedIn, Flow::kDeveloper);
  if (!may_install(chosen->account)) co_return failure(Failure::kNotAdmin, Flow::kDeveloper);

  auto verified = co_await exchange_and_verify(std::move(code));
  if (!verified.ok()) co_return failure(failure_of_exchange(verified.error()), Flow::kDeveloper);
  auto scope = store_.community(verified->community.id);
  if (!scope.ok()) co_return failure(Failure::kPlatformError, Flow::kDeveloper);
  auto installed = scope->put_installation({.community_name = verified->community.name,
                                            .access_token = std::move(verified->token),
                                            .permissions = verified->community.permissions,
                                            .installed_by = chosen->account.id});
  if (!installed.ok()) {
    spdlog::warn("install: could not save the install of community {}: {}", scope->community_id(),
                 installed.error().reason());
    co_return failure(Failure::kStoreFailed, Flow::kDeveloper);
  }
  spdlog::info("install: community {} installed by account {} ({})", scope->community_id(), chosen->account.id,
               flow_name(true));
  announce(*installed);
  http::Response response =
      see_other(options_.admin_path + "?" + http::encode_form({{"installed", scope->community_id()}}));
  cookies_.clear(response, kInstallAsCookie);
  co_return response;
}

asio::awaitable<http::Response> Installer::hold_workplace_install(const http::Request& request, std::string code) {
  const std::string code_hash = core::to_hex(core::sha256(code));
  const auto earlier = cookies_.read(request, kPendingCookie);
  if (earlier) {
    const auto found = store_.find_pending_install(Secret(*earlier));
    if (found.ok() && found->code_hash == code_hash) co_return see_other(confirm_path_);  // a reload
  }
  const store::TimePoint deadline = clock_.now() + options_.code_lifetime;
  std::string return_url = trusted_return_url(request.query("redirect_uri").value_or(""));
  auto verified = co_await exchange_and_verify(std::move(code));
  if (!verified.ok()) co_return failure(failure_of_exchange(verified.error()), Flow::kWorkplace);
  const store::PendingInstall pending{.token = std::move(verified->token),
                                      .summary = {.community_id = std::move(verified->community.id),
                                                  .community_name = std::move(verified->community.name),
                                                  .permissions = std::move(verified->community.permissions),
                                                  .return_url = std::move(return_url),
                                                  .code_hash = code_hash,
                                                  .deadline = deadline,
                                                  .tombstone_until = deadline + kTombstoneFor}};
  auto id = store_.add_pending_install(pending, options_.max_pending_installs);
  if (!id.ok()) co_return failure(failure_of_holding(id.error()), Flow::kWorkplace);
  if (earlier) (void)store_.discard_pending_install(Secret(*earlier));  // else it expires unconfirmed
  http::Response response = see_other(confirm_path_);
  cookies_.write(response, kPendingCookie, id->expose(), options_.code_lifetime + kTombstoneFor);
  co_return response;
}

asio::awaitable<Result<Installer::VerifiedInstall>> Installer::exchange_and_verify(std::string code) {
  auto token = co_await graph_.exchange_code(code, options_.redirect_url);
  if (!token.ok()) {
    spdlog::info("install: the code exchange failed: {}", token.error().reason());
    co_return token.error();
  }
  const graph::InstallAuth auth{.community_id = std::string(kVerificationBudget), .token = *token};
  graph::GraphRequest request{.path = "/community"};
  request.query.emplace_back("fields", "id,name,install");  // not a braced list: g++ 12 miscompiles those in co_await
  auto body = co_await graph_.call(auth, std::move(request));
  Result<VerifiedCommunity> community = body.ok() ? parse_community(*body) : Result<VerifiedCommunity>(body.error());
  if (!community.ok()) {
    spdlog::info("install: GET /community failed for a new token: {}", community.error().reason());
    co_return Error(ErrorCode::kUnavailable, "Workplace did not confirm the install");
  }
  co_return VerifiedInstall{.token = std::move(*token), .community = std::move(*community)};
}

// ---- Confirmation of a Workplace-initiated install

asio::awaitable<http::Response> Installer::on_confirm_page(Installer* self, http::Request& request) {
  const auto id = self->cookies_.read(request, kPendingCookie);
  if (!id) co_return self->failure(Failure::kNothingPending, Flow::kWorkplace);
  const auto found = self->store_.find_pending_install(Secret(*id));
  if (!found.ok()) co_return self->failure(failure_of_pending(found.error()), Flow::kWorkplace);
  const ConfirmView view{
      .confirm_path = self->confirm_path_,
      .sign_in_href = self->options_.sign_in_path + "?next=" + self->confirm_path_,
      .community = community_of(*found),
      .remaining = std::chrono::ceil<std::chrono::seconds>(found->deadline - self->clock_.now()),
      .accounts = self->choices(self->signed_in(request))};
  const std::string csrf = self->csrf_token(request);
  co_return self->page(confirm_page(self->page_context(csrf), view), csrf);
}

asio::awaitable<http::Response> Installer::on_confirm(Installer* self, http::Request& request) {
  const auto form = self->checked_form(request);
  if (!form) co_return self->failure(Failure::kForgedForm, Flow::kWorkplace);
  const auto id_text = self->cookies_.read(request, kPendingCookie);
  if (!id_text) co_return self->failure(Failure::kNothingPending, Flow::kWorkplace);
  const Secret id(*id_text);
  const auto found = self->store_.find_pending_install(id);
  if (!found.ok()) co_return self->failure(failure_of_pending(found.error()), Flow::kWorkplace);
  if (form->find("action") == "cancel") {
    if (const auto discarded = self->store_.discard_pending_install(id); !discarded.ok()) {
      co_return self->failure(failure_of_pending(discarded.error()), Flow::kWorkplace);
    }
    http::Response response = self->failure(Failure::kCancelled, Flow::kWorkplace);
    self->cookies_.clear(response, kPendingCookie);
    co_return response;
  }
  const std::vector<SignedInAccount> accounts = self->signed_in(request);
  const SignedInAccount* chosen = find_account(accounts, form->find("account"));
  if (chosen == nullptr) co_return self->failure(Failure::kNotSignedIn, Flow::kWorkplace);
  if (!self->may_install(chosen->account)) co_return self->failure(Failure::kNotAdmin, Flow::kWorkplace);

  auto install = self->store_.take_pending_install(id);
  if (!install.ok()) co_return self->failure(failure_of_pending(install.error()), Flow::kWorkplace);
  const store::PendingInstallSummary& pending = install->summary;
  auto scope = self->store_.community(pending.community_id);
  if (!scope.ok()) co_return self->failure(Failure::kPlatformError, Flow::kWorkplace);
  auto installed = scope->put_installation({.community_name = pending.community_name,
                                            .access_token = std::move(install->token),
                                            .permissions = pending.permissions,
                                            .installed_by = chosen->account.id});
  if (!installed.ok()) {
    spdlog::warn("install: could not save the install of community {}: {}", scope->community_id(),
                 installed.error().reason());
    co_return self->failure(Failure::kStoreFailed, Flow::kWorkplace);
  }
  spdlog::info("install: community {} installed by account {} ({})", scope->community_id(), chosen->account.id,
               flow_name(false));
  self->announce(*installed);
  const SuccessView view{.community_name = pending.community_name,
                         .account_email = chosen->account.email,
                         .return_url = pending.return_url,
                         .admin_path = self->options_.admin_path};
  const std::string csrf = self->csrf_token(request);
  http::Response response = self->page(success_page(self->page_context(csrf), view), csrf);
  self->cookies_.clear(response, kPendingCookie);
  co_return response;
}

// ---- Helpers

std::string Installer::next_path(std::string_view next) const {
  const bool admin_page = next == "/admin" || (next.starts_with("/admin/") && std::ranges::all_of(next, [](char c) {
                            return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                                   c == '/' || c == '_' || c == '-';
                          }));
  const bool return_page = std::ranges::any_of(options_.sign_in_returns, [&](const std::string& path) {
    if (!path.starts_with('/') || path.starts_with("//") || !next.starts_with(path)) return false;
    const std::string_view query = next.substr(path.size());
    return query.empty() || (query.front() == '?' && std::ranges::all_of(query.substr(1), [](char c) {
                               return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                                      c == '_' || c == '=' || c == '&' || c == '%' || c == '.' || c == '-';
                             }));
  });
  if (next == confirm_path_ || admin_page || return_page) return std::string(next);
  return options_.admin_path;
}

void Installer::announce(const store::Installation& installation) const {
  if (installed_) installed_(installation);
}

std::vector<SignedInAccount> Installer::signed_in(const http::Request& request) {
  const auto cookie = cookies_.read(request, kSessionsCookie);
  return cookie ? sessions_.resolve(*cookie) : std::vector<SignedInAccount>{};
}

std::string Installer::csrf_token(const http::Request& request) const {
  auto token = cookies_.read(request, kCsrfCookie);
  if (token && token->size() == kCsrfTokenLength && is_base64url(*token)) return std::move(*token);
  return core::secure_random_token(32);
}

std::optional<http::Params> Installer::checked_form(const http::Request& request) const {
  if (sent_by_another_site(request)) return std::nullopt;
  auto form = request.form();
  if (!form.ok()) return std::nullopt;
  const auto sent = form->find("csrf");
  const auto expected = cookies_.read(request, kCsrfCookie);
  if (!sent || !expected || expected->size() != kCsrfTokenLength || !core::constant_time_equal(*sent, *expected)) {
    return std::nullopt;
  }
  return std::move(*form);
}

std::string Installer::trusted_return_url(std::string_view url) const {
  if (url.empty() || origin_of(url) != workplace_origin_) return {};
  return std::string(url);
}

std::vector<AccountChoice> Installer::choices(const std::vector<SignedInAccount>& accounts) const {
  std::vector<AccountChoice> out;
  for (const SignedInAccount& account : accounts) {
    out.push_back({.id = account.account.id, .email = account.account.email, .may_install = may_install(account.account)});
  }
  return out;
}

PageContext Installer::page_context(std::string csrf) const {
  return {.app_name = options_.app_name,
          .csrf = std::move(csrf),
          .sign_in_path = options_.sign_in_path,
          .sign_out_path = options_.sign_out_path};
}

http::Response Installer::page(std::string html, std::string_view csrf, status code) const {
  http::Response response = http::html_response(std::move(html), code);
  cookies_.write(response, kCsrfCookie, csrf, options_.session_lifetime);
  return response;
}

http::Response Installer::failure(Failure failure, Flow flow) const {
  std::vector<http::PageLink> links{{options_.admin_path, "Go to the admin page of " + options_.app_name}};
  if (flow == Flow::kWorkplace) links.push_back({options_.workplace_url, "Open Workplace"});
  return http::html_response(failure_page(failure, links), failure_status(failure));
}

http::Response Installer::see_other(std::string_view location) const {
  http::Response response(status::see_other);
  response.set_header(boost::beast::http::field::location, location);
  response.set_header(boost::beast::http::field::cache_control, "no-store");
  response.set_header("Referrer-Policy", "no-referrer");
  return response;
}

}  // namespace wik::install
