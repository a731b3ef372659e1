#include "emulator/graph_api/graph_api.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/http/verb.hpp>
#include <boost/json/serialize.hpp>

#include <algorithm>
#include <array>
#include <cctype>

#include "core/appsecret_proof.h"
#include "core/constant_time.h"
#include "emulator/graph_api/endpoints.h"
#include "emulator/graph_api/oauth.h"

namespace wik::emulator {
namespace {

namespace asio = boost::asio;
namespace json = boost::json;
using boost::beast::http::verb;

// Which tokens a route accepts (PROTOCOL.md §3.3, §7).
enum class TokenRule {
  kNone,     // /oauth/access_token: the secret is in the request
  kInstall,  // a community (install) token with appsecret_proof
  kApp,      // the app token "{app_id}|{app_secret}"
  kEither,   // /{id}: the endpoint decides (an app token may read only its own app)
};

using SyncEndpoint = Reply (*)(GraphServices&, const GraphCall&);
using AsyncEndpoint = asio::awaitable<Reply> (*)(GraphServices&, const GraphCall&);

struct Endpoint {
  std::string_view method;   // "get" | "post" | "delete"
  std::string_view pattern;  // after the version; "{id}" matches any segment
  TokenRule tokens;
  SyncEndpoint sync = nullptr;
  AsyncEndpoint async = nullptr;
};

Reply oauth_endpoint(GraphServices& services, const GraphCall& call) {
  return exchange_access_token(services.state, call.params);
}

// The dispatch table. The first row whose method and pattern match wins, so literal routes come
// before the "{id}" routes they would otherwise be taken for.
constexpr auto kEndpoints = std::to_array<Endpoint>({
    {"get", "/oauth/access_token", TokenRule::kNone, oauth_endpoint},
    {"post", "/oauth/access_token", TokenRule::kNone, oauth_endpoint},
    {"get", "/community", TokenRule::kInstall, get_community},
    {"get", "/community/members", TokenRule::kInstall, get_community_edge},
    {"get", "/community/organization_members", TokenRule::kInstall, get_community_edge},
    {"get", "/community/former_members", TokenRule::kInstall, get_community_edge},
    {"get", "/community/admins", TokenRule::kInstall, get_community_edge},
    {"get", "/community/groups", TokenRule::kInstall, get_community_edge},
    {"get", "/me", TokenRule::kInstall, get_me},
    {"post", "/me/messages", TokenRule::kInstall, post_message},
    {"get", "/me/messenger_profile", TokenRule::kInstall, get_messenger_profile},
    {"post", "/me/messenger_profile", TokenRule::kInstall, post_messenger_profile},
    {"delete", "/me/messenger_profile", TokenRule::kInstall, delete_messenger_profile},
    {"get", "/me/subscribed_apps", TokenRule::kInstall, subscribed_apps},
    {"post", "/me/subscribed_apps", TokenRule::kInstall, subscribed_apps},
    {"delete", "/me/subscribed_apps", TokenRule::kInstall, subscribed_apps},
    {"get", "/app", TokenRule::kApp, get_app},
    {"get", "/app/subscriptions", TokenRule::kApp, get_subscriptions},
    {"post", "/app/subscriptions", TokenRule::kApp, nullptr, post_subscription},
    {"delete", "/app/subscriptions", TokenRule::kApp, delete_subscriptions},
    {"get", "/{id}/subscriptions", TokenRule::kApp, get_subscriptions},
    {"post", "/{id}/subscriptions", TokenRule::kApp, nullptr, post_subscription},
    {"delete", "/{id}/subscriptions", TokenRule::kApp, delete_subscriptions},
    {"get", "/{id}/feed", TokenRule::kInstall, get_feed},
    {"post", "/{id}/feed", TokenRule::kInstall, post_feed},
    {"get", "/{id}/comments", TokenRule::kInstall, get_comments},
    {"post", "/{id}/comments", TokenRule::kInstall, post_comment},
    {"post", "/{id}/likes", TokenRule::kInstall, change_like},
    {"delete", "/{id}/likes", TokenRule::kInstall, change_like},
    {"get", "/{id}/messages", TokenRule::kInstall, get_thread_messages},
    {"get", "/", TokenRule::kInstall, get_objects},
    {"get", "/{id}", TokenRule::kEither, get_object},
});

// The deepest path routed here (a version and nine segments); every endpoint has at most four
// segments, so deeper paths still get the platform's unsupported-request error, and only paths
// deeper than this get the HTTP server's own 404.
constexpr std::size_t kMaxSegments = 10;

bool matches(std::string_view pattern, const std::vector<std::string>& segments) {
  std::size_t index = 0;
  for (std::size_t at = 1; at < pattern.size(); ++index) {
    std::size_t end = pattern.find('/', at);
    if (end == std::string_view::npos) end = pattern.size();
    const std::string_view part = pattern.substr(at, end - at);
    if (index >= segments.size() || (part != "{id}" && part != segments[index])) return false;
    at = end + 1;
  }
  return index == segments.size();
}

const Endpoint* find_endpoint(std::string_view method, const std::vector<std::string>& segments) {
  for (const Endpoint& endpoint : kEndpoints) {
    if (endpoint.method == method && matches(endpoint.pattern, segments)) return &endpoint;
  }
  return nullptr;
}

// True for "vN.N" (digits on both sides of one dot).
bool is_version(std::string_view segment) {
  if (segment.size() < 4 || segment.front() != 'v') return false;
  const std::string_view number = segment.substr(1);
  const std::size_t dot = number.find('.');
  const auto digits = [](std::string_view text) {
    return !text.empty() && std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
  };
  return dot != std::string_view::npos && digits(number.substr(0, dot)) && digits(number.substr(dot + 1));
}

std::string method_name(verb method) {
  switch (method) {
    case verb::post:
      return "post";
    case verb::delete_:
      return "delete";
    default:
      return "get";
  }
}

// Returns the token of the request: the access_token parameter, else Authorization: Bearer/OAuth.
std::optional<std::string> token_of(const http::Request& request, const GraphParams& params) {
  if (auto token = params.text("access_token"); token && !token->empty()) return token;
  const auto header = request.header("Authorization");
  if (!header) return std::nullopt;
  for (const std::string_view scheme : {"Bearer ", "OAuth "}) {
    if (header->size() > scheme.size() &&
        std::equal(scheme.begin(), scheme.end(), header->begin(),
                   [](char a, char b) { return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b)); })) {
      std::string token(header->substr(scheme.size()));
      std::erase_if(token, [](char c) { return c == ' ' || c == '\t'; });
      if (!token.empty()) return token;
    }
  }
  return std::nullopt;
}

// True for text shaped like the community tokens this platform issues ("DQV…", base64url): such a
// token that is not live belonged to an install that was removed or replaced (PROTOCOL.md §5.4).
bool looks_like_community_token(std::string_view token) {
  return token.size() >= 32 && token.starts_with("DQV") && std::all_of(token.begin(), token.end(), [](char c) {
           return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '-' || c == '_';
         });
}

Checked<Caller> identify(GraphServices& services, const std::string& token, const GraphParams& params) {
  Caller caller;
  if (const auto bar = token.find('|'); bar != std::string::npos) {
    auto app = services.state.app(token.substr(0, bar));
    const std::string_view secret = std::string_view(token).substr(bar + 1);
    if (!app || !core::constant_time_equal(app->secret, secret)) {
      return GraphFailure{GraphError::kAppTokenSignatureInvalid, {}};
    }
    caller.kind = Caller::Kind::kApp;
    caller.app = std::move(*app);
    return caller;
  }
  auto install = services.state.install_by_token(token);
  std::optional<App> app = install ? services.state.app(install->app_id) : std::nullopt;
  if (!install || !app) {
    return GraphFailure{looks_like_community_token(token) ? GraphError::kAppNotInstalled : GraphError::kTokenInvalid, {}};
  }
  const auto proof = params.text("appsecret_proof");
  const auto time = params.text("appsecret_time");
  if (!proof || !time) return GraphFailure{GraphError::kProofRequired, {}};
  const auto checked = core::check_appsecret_proof(Secret(app->secret), AccessToken(token), *proof, *time,
                                                   services.state.clock().unix_seconds(), core::ProofWindow{});
  if (!checked.ok()) return GraphFailure{GraphError::kProofInvalid, {}};
  caller.kind = Caller::Kind::kInstall;
  caller.app = std::move(*app);
  caller.install = std::move(install);
  return caller;
}

std::optional<GraphFailure> check_token_rule(TokenRule rule, const Caller& caller) {
  if (rule == TokenRule::kInstall && caller.kind == Caller::Kind::kApp) {
    return GraphFailure{GraphError::kInstallTokenRequired, {}};
  }
  if (rule == TokenRule::kApp && caller.kind == Caller::Kind::kInstall) {
    return GraphFailure{GraphError::kAppTokenRequired, {}};
  }
  return std::nullopt;
}

std::string usage_header(std::uint32_t percent) {
  return json::serialize(json::object{{"call_count", percent}, {"total_time", percent}, {"total_cputime", percent}});
}

http::Response response_of(Reply reply) {
  if (const auto* failure = std::get_if<GraphFailure>(&reply)) return graph_error_response(*failure);
  http::Response response;
  response.set_body(json::serialize(std::get<json::value>(reply)));
  set_graph_content_type(response);
  return response;
}

// The (app, community) budget a request's token spends (community "" for the app token), when the
// token names a live install or a registered app; for the rate limits' record of arrivals.
std::optional<std::pair<Id, Id>> budget_of(GraphServices& services, const std::string& token) {
  if (const auto bar = token.find('|'); bar != std::string::npos) {
    auto app = services.state.app(token.substr(0, bar));
    if (!app) return std::nullopt;
    return std::pair<Id, Id>{app->id, Id()};
  }
  auto install = services.state.install_by_token(token);
  if (!install) return std::nullopt;
  return std::pair<Id, Id>{install->app_id, install->community_id};
}

// A back-off window a throttling answer tells its client.
struct BackoffTold {
  Id app_id;
  Id community_id;
  std::int64_t minutes = 0;
};

asio::awaitable<void> wait_for(std::chrono::milliseconds duration) {
  if (duration.count() <= 0) co_return;
  asio::steady_timer timer(co_await asio::this_coro::executor);
  timer.expires_after(duration);
  co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
}

}  // namespace

class GraphApi::Impl {
 public:
  Impl(PlatformState& state, WebhookDelivery& delivery, GraphFaults& faults, RateLimits& limits,
       GraphApiOptions options)
      : services_{state, delivery, std::move(options)}, faults_(faults), limits_(limits) {}

  asio::awaitable<http::Response> handle(const http::Request& request);

 private:
  // Applies the token rule and the rate limit; answers the endpoint. Sets `told` when the answer
  // is a throttling one.
  asio::awaitable<http::Response> answer(const Endpoint& endpoint, GraphCall& call, std::optional<BackoffTold>& told);
  // Runs the endpoint's handler.
  asio::awaitable<Reply> run(const Endpoint& endpoint, GraphCall& call);

  GraphServices services_;
  GraphFaults& faults_;
  RateLimits& limits_;
};

asio::awaitable<http::Response> GraphApi::Impl::handle(const http::Request& request) {
  auto target = http::parse_target(request.raw_target());
  std::vector<std::string> segments = target.ok() ? std::move(target->segments) : std::vector<std::string>();
  std::string version;
  if (!segments.empty() && is_version(segments.front())) {
    version = "/" + segments.front();
    segments.erase(segments.begin());
  }
  if (!segments.empty() && segments.front() == "company") segments.front() = "community";
  const std::string method = method_name(request.method());
  const Endpoint* endpoint = find_endpoint(method, segments);

  auto params = read_params(request);
  const std::string client(request.header("User-Agent").value_or(""));
  if (const auto* read = std::get_if<GraphParams>(&params)) {
    if (const auto token = token_of(request, *read)) {
      if (const auto budget = budget_of(services_, *token)) limits_.note_arrival(budget->first, budget->second, client);
    }
  }

  const std::string fault_endpoint = endpoint != nullptr ? std::string(endpoint->pattern) : std::string("*");
  const FaultKind fault = faults_.draw(fault_endpoint);
  const EndpointFaults faults = faults_.for_endpoint(fault_endpoint);
  co_await wait_for(faults.latency);
  if (fault == FaultKind::kDrop) co_return http::Response::no_answer();
  if (fault == FaultKind::kTimeout) {
    co_await wait_for(faults.hang);
    co_return http::Response::no_answer();
  }

  http::Response response;
  std::optional<BackoffTold> told;
  GraphCall call{request, method, version, segments, {}, {}};
  if (fault == FaultKind::kError) {
    response = graph_error_response(GraphFailure{GraphError::kServiceUnavailable, {}});
  } else if (const auto* failed = failure_of(params)) {
    response = graph_error_response(*failed);
  } else {
    call.params = std::move(std::get<GraphParams>(params));
    if (endpoint == nullptr) {
      const std::string object = segments.empty() ? std::string() : segments.front();
      response = graph_error_response(unsupported(call, object));
    } else {
      response = co_await answer(*endpoint, call, told);
    }
  }
  if (fault == FaultKind::kProcessedTimeout || fault == FaultKind::kProcessedDrop) {
    // The work is done; only its answer is lost, so the client is told nothing.
    if (static_cast<unsigned>(response.status()) < 300) faults_.count_lost_success(fault_endpoint);
    if (fault == FaultKind::kProcessedTimeout) co_await wait_for(faults.hang);
    co_return http::Response::no_answer();
  }
  if (told) limits_.note_backoff_told(told->app_id, told->community_id, client, told->minutes);
  if (!response.header("X-App-Usage")) response.set_header("X-App-Usage", usage_header(0));
  co_return response;
}

asio::awaitable<http::Response> GraphApi::Impl::answer(const Endpoint& endpoint, GraphCall& call,
                                                       std::optional<BackoffTold>& told) {
  if (endpoint.tokens != TokenRule::kNone) {
    const auto token = token_of(call.request, call.params);
    if (!token) co_return graph_error_response(GraphFailure{GraphError::kTokenMissing, {}});
    auto caller = identify(services_, *token, call.params);
    if (const auto* failed = failure_of(caller)) co_return graph_error_response(*failed);
    call.caller = std::move(std::get<Caller>(caller));
    if (auto refused = check_token_rule(endpoint.tokens, call.caller)) co_return graph_error_response(*refused);

    const bool app_token = call.caller.kind == Caller::Kind::kApp;
    const Id community_id = app_token ? Id() : call.install().community_id;
    const Usage usage = limits_.count_call(call.caller.app.id, community_id);
    if (usage.throttled) {
      http::Response refused = graph_error_response(
          GraphFailure{app_token ? GraphError::kAppRequestLimit : GraphError::kRateLimitExceeded, {}});
      const std::string object_id = app_token ? call.caller.app.id : community_id;
      json::object entry{{"type", "pages"},
                         {"call_count", usage.call_count_percent},
                         {"total_cputime", usage.call_count_percent},
                         {"total_time", usage.call_count_percent},
                         {"estimated_time_to_regain_access", usage.regain_access_minutes}};
      refused.set_header("X-Business-Use-Case-Usage",
                         json::serialize(json::object{{object_id, json::array{std::move(entry)}}}));
      refused.set_header("X-App-Usage", usage_header(usage.call_count_percent));
      told = BackoffTold{call.caller.app.id, community_id, usage.regain_access_minutes};
      co_return refused;
    }
    http::Response response = response_of(co_await run(endpoint, call));
    response.set_header("X-App-Usage", usage_header(usage.call_count_percent));
    co_return response;
  }
  co_return response_of(co_await run(endpoint, call));
}

asio::awaitable<Reply> GraphApi::Impl::run(const Endpoint& endpoint, GraphCall& call) {
  // (No co_await inside ?: — g++ 12 miscompiles it.)
  if (endpoint.async != nullptr) co_return co_await endpoint.async(services_, call);
  co_return endpoint.sync(services_, call);
}

GraphApi::GraphApi(PlatformState& state, WebhookDelivery& delivery, GraphFaults& faults, RateLimits& limits,
                   GraphApiOptions options)
    : impl_(std::make_shared<Impl>(state, delivery, faults, limits, std::move(options))) {}

void GraphApi::add_routes(http::Router& router) {
  // The router has no catch-all: register every depth up to kMaxSegments and dispatch here.
  const auto handler = [impl = impl_](http::Request& request) { return impl->handle(request); };
  std::string pattern;
  for (std::size_t depth = 0; depth <= kMaxSegments; ++depth) {
    if (depth > 0) pattern += "/{s" + std::to_string(depth) + "}";
    const std::string path = depth == 0 ? std::string("/") : pattern;
    for (const verb method : {verb::get, verb::post, verb::delete_}) router.add(method, path, handler);
  }
}

}  // namespace wik::emulator
