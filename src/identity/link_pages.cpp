#include "identity/link_pages.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <charconv>
#include <chrono>

#include "http/html.h"
#include "http/url.h"

namespace wik::identity {
namespace {

namespace asio = boost::asio;
using boost::beast::http::status;

// A token as the store makes them: base64url of 32 random bytes.
constexpr std::size_t kTokenLength = 43;

bool is_token(std::string_view text) {
  return text.size() == kTokenLength && std::ranges::all_of(text, [](char c) {
           return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
         });
}

LinkFailure failure_of(const Error& error) {
  switch (error.code()) {
    case ErrorCode::kNotFound: return LinkFailure::kUnknown;
    case ErrorCode::kConflict: return LinkFailure::kUsed;
    case ErrorCode::kExpired: return LinkFailure::kExpired;
    case ErrorCode::kPermissionDenied: return LinkFailure::kUninstalled;
    case ErrorCode::kUnauthenticated: return LinkFailure::kNotSignedIn;
    default: return LinkFailure::kStoreFailed;
  }
}

// Returns the account of `accounts` that the form field `id` names, or nullptr.
const store::Account* chosen_account(const std::vector<store::Account>& accounts, std::optional<std::string_view> id) {
  if (!id) return nullptr;
  store::AccountId wanted = 0;
  const auto [end, error] = std::from_chars(id->data(), id->data() + id->size(), wanted);
  if (error != std::errc() || end != id->data() + id->size()) return nullptr;
  const auto found = std::ranges::find_if(accounts, [&](const store::Account& a) { return a.id == wanted; });
  return found == accounts.end() ? nullptr : &*found;
}

}  // namespace

std::string link_target(std::string_view path, std::string_view community_id, const Secret& token) {
  return std::string(path) + "?" +
         http::encode_form({{"c", std::string(community_id)}, {"t", std::string(token.expose())}});
}

LinkPages::LinkPages(store::Store& store, Gate gate, const core::Clock& clock, LinkPagesOptions options)
    : store_(store), gate_(std::move(gate)), clock_(clock), options_(std::move(options)) {
  if (!options_.path.starts_with('/') || options_.path.starts_with("//")) {
    fatal("LinkPages: the path must be an absolute path");
  }
}

void LinkPages::add_routes(http::Router& router) {
  const http::RouteOptions form_limit{.max_body_bytes = options_.max_form_bytes};
  router.get(options_.path, [this](http::Request& r) -> asio::awaitable<http::Response> { co_return show(r); },
             form_limit);
  router.post(options_.path, [this](http::Request& r) -> asio::awaitable<http::Response> { co_return confirm(r); },
              form_limit);
}

http::Response LinkPages::show(const http::Request& request) {
  std::optional<Target> target = target_of(request.query("c"), request.query("t"));
  if (!target) return failure(LinkFailure::kUnknown);
  const std::string& community_id = target->scope.community_id();
  Result<store::AccountLinkOffer> offer = target->scope.find_account_link(target->token);
  if (!offer) return store_failure(offer.error(), community_id);

  LinkView view{.app_name = options_.app_name,
                .csrf = gate_.csrf_token(request),
                .action_path = options_.path,
                .community_id = community_id,
                .token = std::string(target->token.expose()),
                .community_name = offer->community_name,
                .person_name = offer->person_name,
                .linked_email = {},
                .proposed_email = {},
                .accounts = {},
                .sign_in_href = sign_in_href(community_id, target->token),
                .remaining = std::chrono::ceil<std::chrono::seconds>(offer->expires_at - clock_.now())};
  if (offer->linked_account) view.linked_email = offer->linked_account->email;
  if (offer->same_email_account) view.proposed_email = offer->same_email_account->email;
  for (const store::Account& account : gate_.signed_in(request)) view.accounts.push_back({account.id, account.email});
  const std::string csrf = view.csrf;
  return gate_.page(link_page(view), csrf, status::ok);
}

http::Response LinkPages::confirm(const http::Request& request) {
  const std::optional<http::Params> form = gate_.checked_form(request);
  if (!form) return failure(LinkFailure::kForgedForm);
  std::optional<Target> target = target_of(form->find("c"), form->find("t"));
  if (!target) return failure(LinkFailure::kUnknown);
  const std::string community_id = target->scope.community_id();
  Result<store::AccountLinkOffer> offer = target->scope.find_account_link(target->token);
  if (!offer) return store_failure(offer.error(), community_id);

  const std::vector<store::Account> accounts = gate_.signed_in(request);
  const store::Account* chosen = chosen_account(accounts, form->find("account"));
  if (chosen == nullptr) return failure(LinkFailure::kNotSignedIn, sign_in_href(community_id, target->token));
  Result<store::Identity> linked = target->scope.redeem_account_link(target->token, chosen->id);
  if (!linked) {
    if (linked.error().code() == ErrorCode::kUnauthenticated) {
      return failure(LinkFailure::kNotSignedIn, sign_in_href(community_id, target->token));
    }
    return store_failure(linked.error(), community_id);
  }
  spdlog::info("identity: a person of community {} connected account {}", community_id, chosen->id);
  const LinkedView view{.app_name = options_.app_name,
                        .community_name = offer->community_name,
                        .person_name = offer->person_name,
                        .account_email = chosen->email};
  return gate_.page(linked_page(view), gate_.csrf_token(request), status::ok);
}

std::optional<LinkPages::Target> LinkPages::target_of(std::optional<std::string_view> community,
                                                      std::optional<std::string_view> token) {
  if (!community || !token || !is_token(*token)) return std::nullopt;
  Result<store::CommunityScope> scope = store_.community(*community);
  if (!scope) return std::nullopt;
  return Target{.scope = std::move(*scope), .token = Secret(std::string(*token))};
}

std::string LinkPages::sign_in_href(const std::string& community_id, const Secret& token) const {
  return gate_.sign_in_path + "?" + http::encode_form({{"next", link_target(options_.path, community_id, token)}});
}

http::Response LinkPages::failure(LinkFailure failure, std::string sign_in_href) const {
  return http::html_response(failure_page(failure, options_.app_name, sign_in_href), failure_status(failure));
}

http::Response LinkPages::store_failure(const Error& error, const std::string& community_id) const {
  const LinkFailure failure = failure_of(error);
  if (failure == LinkFailure::kStoreFailed) {
    spdlog::warn("identity: an account link of community {} could not be checked: {}", community_id, error.reason());
  }
  return this->failure(failure);
}

}  // namespace wik::identity
