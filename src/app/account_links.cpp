#include "app/account_links.h"

#include <boost/json/value.hpp>

#include <algorithm>
#include <functional>
#include <utility>
#include <vector>

#include "app/community_context.h"
#include "core/ascii.h"
#include "http/offload.h"
#include "identity/link_pages.h"

namespace wik::app {
namespace {

namespace asio = boost::asio;
using boost::beast::http::verb;

constexpr std::chrono::seconds kStoreDeadline{30};
constexpr std::string_view kReadEmail = "read_user_email";
// The most of a person's name or email kept with a link (the page shows the name).
constexpr std::size_t kMaxFieldBytes = 320;

Error no_person() {
  return Error(ErrorCode::kInvalidArgument, "the event came from no person, so there is no one to link");
}

Error no_answer() { return Error(ErrorCode::kUnavailable, "the database did not answer in time"); }

// Returns the string field `name` of a Graph object, or "" (absent, withheld, not a string, too long).
std::string string_field(const boost::json::value& object, std::string_view name) {
  const auto* fields = object.if_object();
  const auto* value = fields ? fields->if_contains(name) : nullptr;
  if (value == nullptr || !value->is_string() || value->as_string().size() > kMaxFieldBytes) return {};
  return std::string(value->as_string());
}

}  // namespace

std::string link_base_url(const Config& config, std::uint16_t port) {
  std::string base = config.server.public_url;
  if (base.empty()) {
    std::string host = config.server.address;
    if (host.empty() || host == "0.0.0.0") host = "127.0.0.1";
    if (host == "::") host = "::1";
    if (host.find(':') != std::string::npos) host = "[" + host + "]";
    base = "http://" + host + ":" + std::to_string(port);
  }
  while (base.ends_with('/')) base.pop_back();
  return base;
}

asio::awaitable<Result<std::optional<LinkedAccount>>> linked_account(ContextServices& services, const Context& context,
                                                                     const std::string& person_id) {
  if (!is_platform_id(person_id)) co_return no_person();
  // The pool may still run the lookup after the deadline: it owns copies of what it uses.
  std::function<Result<std::optional<store::Account>>()> lookup =
      [&store = services.store, community_id = context.community_id(), person_id]()
      -> Result<std::optional<store::Account>> {
    Result<store::CommunityScope> scope = store.community(community_id);
    if (!scope) return scope.error();
    return scope->linked_account(person_id);
  };
  auto account = co_await http::run_blocking(services.blocking, std::move(lookup), kStoreDeadline);
  if (!account) co_return no_answer();
  if (!account->ok()) co_return account->error();
  if (!**account) co_return std::optional<LinkedAccount>();
  co_return std::optional<LinkedAccount>(LinkedAccount{.id = (**account)->id, .email = (**account)->email});
}

asio::awaitable<Result<std::string>> account_link_url(ContextServices& services, Context& context,
                                                      const std::string& person_id) {
  if (!is_platform_id(person_id)) co_return no_person();
  if (services.account_links == nullptr) {
    co_return Error(ErrorCode::kUnavailable, "account links are not served here");
  }
  const AccountLinkSettings& settings = *services.account_links;
  std::function<Result<store::InstallationSummary>()> install =
      [&store = services.store, community_id = context.community_id()]() -> Result<store::InstallationSummary> {
    Result<store::CommunityScope> scope = store.community(community_id);
    if (!scope) return scope.error();
    return scope->installation_summary();
  };
  auto installed = co_await http::run_blocking(services.blocking, std::move(install), kStoreDeadline);
  if (!installed) co_return no_answer();
  if (!installed->ok()) co_return installed->error();
  if ((*installed)->state != store::InstallState::kActive) {
    co_return Error(ErrorCode::kNotFound, "the app is no longer installed in this community");
  }
  const std::vector<std::string>& granted = (*installed)->permissions;
  const bool read_email =
      std::ranges::any_of(granted, [](const std::string& permission) { return core::ascii_lower(permission) == kReadEmail; });

  std::string path = "/" + person_id;
  std::vector<std::pair<std::string, std::string>> fields{{"fields", read_email ? "name,email" : "name"}};
  std::optional<boost::json::value> no_body;
  auto person = co_await context.graph(verb::get, std::move(path), std::move(fields), std::move(no_body));
  if (!person.ok()) co_return person.error();

  store::AccountLinkInput input{.user_id = person_id,
                                .email = read_email ? string_field(*person, "email") : std::string(),
                                .person_name = string_field(*person, "name")};
  std::function<Result<Secret>()> create = [&store = services.store, community_id = context.community_id(),
                                            input = std::move(input), lifetime = settings.lifetime]() -> Result<Secret> {
    Result<store::CommunityScope> scope = store.community(community_id);
    if (!scope) return scope.error();
    return scope->create_account_link(input, lifetime);
  };
  auto token = co_await http::run_blocking(services.blocking, std::move(create), kStoreDeadline);
  if (!token) co_return no_answer();
  if (!token->ok()) co_return token->error();
  co_return settings.base_url + identity::link_target(settings.path, context.community_id(), **token);
}

asio::awaitable<Result<void>> unlink_account(ContextServices& services, const Context& context,
                                             const std::string& person_id) {
  if (!is_platform_id(person_id)) co_return no_person();
  std::function<Result<bool>()> unlink = [&store = services.store, community_id = context.community_id(),
                                          person_id]() -> Result<bool> {
    Result<store::CommunityScope> scope = store.community(community_id);
    if (!scope) return scope.error();
    return scope->unlink_identity(person_id);
  };
  auto unlinked = co_await http::run_blocking(services.blocking, std::move(unlink), kStoreDeadline);
  if (!unlinked) co_return no_answer();
  if (!unlinked->ok()) co_return unlinked->error();
  co_return ok_result();
}

}  // namespace wik::app
