#include "graph/graph_client.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/url/url.hpp>

#include "core/appsecret_proof.h"
#include "graph/graph_error.h"
#include "http/url.h"

namespace wik::graph {
namespace {

namespace asio = boost::asio;
using boost::beast::http::verb;

constexpr std::string_view kAppBudget = "app";

asio::awaitable<Result<void>> sleep_for(std::chrono::milliseconds duration) {
  if (duration.count() <= 0) co_return ok_result();
  asio::steady_timer timer(co_await asio::this_coro::executor);
  timer.expires_after(duration);
  auto [ec] = co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
  if (ec) co_return Error(ErrorCode::kUnavailable, "graph call cancelled");
  co_return ok_result();
}

bool idempotent(verb method) { return method == verb::get || method == verb::delete_ || method == verb::head; }

// True when `path` names a node or edge ("/me/messages", "/123_456/comments"): it starts with '/'
// and has no empty, "." or ".." segment, so an id taken from a payload cannot climb to another
// node (url_for percent-encodes '?' and '#' itself).
bool is_node_path(std::string_view path) {
  if (!path.starts_with('/')) return false;
  for (std::size_t start = 1; start <= path.size();) {
    const std::size_t end = std::min(path.find('/', start), path.size());
    const std::string_view segment = path.substr(start, end - start);
    if (segment.empty() || segment == "." || segment == "..") return false;
    start = end + 1;
  }
  return true;
}

std::string join_path(std::string_view base_path, std::string_view version, std::string_view path) {
  std::string joined(base_path);
  while (!joined.empty() && joined.back() == '/') joined.pop_back();
  if (!version.empty()) joined.append("/").append(version);
  if (!path.starts_with('/')) joined += '/';
  joined += path;
  return joined;
}

// Maps a failed code exchange (PROTOCOL.md §2.3) to what the install flow tells the person.
Error exchange_error(unsigned status, const std::optional<GraphErrorBody>& body) {
  if (!body) return graph_error(status, body);
  const Error mapped = graph_error(status, body);
  if (body->code == 1 || body->code == 101) {
    return Error(ErrorCode::kConfig, "the platform refused the app id or secret (" + mapped.reason() + ")",
                 mapped.detail());
  }
  if (body->code == 100 && body->subcode == 36007) {
    return Error(ErrorCode::kExpired, "the install code has expired (" + mapped.reason() + ")", mapped.detail());
  }
  if (body->code == 100 && body->subcode == 36009) {
    return Error(ErrorCode::kConflict, "the install code was already used (" + mapped.reason() + ")", mapped.detail());
  }
  if (body->code == 100) {
    return Error(ErrorCode::kInvalidArgument, "the platform refused the install code (" + mapped.reason() + ")",
                 mapped.detail());
  }
  return mapped;
}

}  // namespace

// How one call authenticates: as an install (token + proof), as the app (app token), or not at all.
struct GraphClient::Auth {
  const AccessToken* token = nullptr;
  bool sign = false;  // attach appsecret_proof + appsecret_time
  std::string budget_key;
};

GraphClient::GraphClient(http::Client& http, GraphOptions options, AppCredentials app, const core::Clock& clock,
                         core::RandomSource& random)
    : http_(http),
      options_(std::move(options)),
      app_(std::move(app)),
      clock_(clock),
      random_(random),
      governor_(clock, options_.rate),
      budget_(options_.retry) {}

Result<std::string> GraphClient::url_for(const GraphRequest& request, const Auth& auth) const {
  if (!is_node_path(request.path)) {
    return Error(ErrorCode::kInvalidArgument, "a Graph path is /node[/edge...]: no empty, '.' or '..' segment");
  }
  const auto base = http::parse_absolute_url(options_.base_url);
  if (!base.ok()) return Error(ErrorCode::kConfig, "graph base URL: " + base.error().reason());
  boost::urls::url url(*base);
  url.set_path(join_path(base->path(), options_.version, request.path));
  auto query = request.query;
  if (auth.sign) {
    auto proof = core::make_appsecret_proof(app_.app_secret, *auth.token, clock_.unix_seconds());
    query.emplace_back("appsecret_proof", std::move(proof.proof));
    query.emplace_back("appsecret_time", std::move(proof.time));
  }
  if (query.empty()) {
    url.remove_query();
  } else {
    url.set_encoded_query(http::encode_form(query));
  }
  return std::string(url.buffer());
}

asio::awaitable<Result<boost::json::value>> GraphClient::attempt(const Auth& auth, const GraphRequest& request,
                                                               bool& platform_answered) {
  auto url = url_for(request, auth);
  if (!url.ok()) co_return url.error();
  http::ClientRequest outgoing;
  outgoing.method = request.method;
  outgoing.url = std::move(*url);
  outgoing.headers.set(boost::beast::http::field::accept, "application/json");
  if (auth.token != nullptr) {
    outgoing.headers.set(boost::beast::http::field::authorization, "Bearer " + std::string(auth.token->expose()));
  }
  if (request.body) {
    outgoing.headers.set(boost::beast::http::field::content_type, "application/json");
    outgoing.body = boost::json::serialize(*request.body);
  }
  auto response = co_await http_.request(std::move(outgoing));
  if (!response.ok()) co_return response.error();
  platform_answered = true;

  const Usage usage = parse_usage(response->header("X-App-Usage"), response->header("X-Page-Usage"),
                                  response->header("X-Business-Use-Case-Usage"));
  const auto error_body = parse_graph_error(response->body);
  if (response->status >= 400 || error_body) {
    Error error = graph_error(response->status, error_body);
    governor_.after_call(auth.budget_key, usage, error.code() == ErrorCode::kRateLimited);
    co_return error;
  }
  governor_.after_call(auth.budget_key, usage, false);
  boost::system::error_code ec;
  auto body = boost::json::parse(response->body, ec);
  if (ec) co_return Error(ErrorCode::kMalformed, "the graph response is not JSON");
  co_return body;
}

asio::awaitable<Result<boost::json::value>> GraphClient::send(const Auth& auth, const GraphRequest& request) {
  budget_.on_first_attempt();
  for (int attempt_number = 1;; ++attempt_number) {
    const CallPermit permit = governor_.before_call(auth.budget_key);
    if (permit.blocked_until) {
      const auto wait = std::chrono::duration_cast<std::chrono::seconds>(*permit.blocked_until - clock_.now());
      co_return Error(ErrorCode::kRateLimited,
                      "the platform's rate limit is in force for " + std::to_string(wait.count() + 1) + " s more");
    }
    if (auto paced = co_await sleep_for(permit.pace); !paced.ok()) co_return paced.error();

    bool platform_answered = false;
    auto result = co_await attempt(auth, request, platform_answered);
    if (result.ok()) co_return result;
    if (attempt_number >= options_.retry.max_attempts ||
        !is_retryable(result.error(), idempotent(request.method), platform_answered) || !budget_.try_spend()) {
      co_return result;
    }
    if (auto slept = co_await sleep_for(retry_delay(options_.retry, attempt_number, random_)); !slept.ok()) {
      co_return slept.error();
    }
  }
}

asio::awaitable<Result<boost::json::value>> GraphClient::call(const InstallAuth& install, GraphRequest request) {
  if (install.token.empty()) co_return Error(ErrorCode::kUnauthenticated, "the install has no access token");
  const Auth auth{.token = &install.token, .sign = true, .budget_key = install.community_id};
  co_return co_await send(auth, request);
}

asio::awaitable<Result<boost::json::value>> GraphClient::call_as_app(GraphRequest request) {
  const AccessToken app_token(app_.app_id + "|" + std::string(app_.app_secret.expose()));
  const Auth auth{.token = &app_token, .sign = false, .budget_key = std::string(kAppBudget)};
  co_return co_await send(auth, request);
}

asio::awaitable<Result<std::vector<boost::json::value>>> GraphClient::get_all(const InstallAuth& install,
                                                                              GraphRequest request) {
  std::vector<boost::json::value> items;
  for (std::size_t page = 0; page < options_.max_pages; ++page) {
    auto response = co_await call(install, request);
    if (!response.ok()) co_return response.error();
    if (!response->is_object()) co_return Error(ErrorCode::kMalformed, "a list response is not an object");
    const auto& object = response->as_object();
    const auto* data = object.if_contains("data");
    if (data == nullptr || !data->is_array()) co_return Error(ErrorCode::kMalformed, "a list response has no data");
    items.insert(items.end(), data->as_array().begin(), data->as_array().end());

    const auto* paging = object.if_contains("paging");
    if (paging == nullptr || !paging->is_object() || !paging->as_object().contains("next")) co_return items;
    const auto* cursors = paging->as_object().if_contains("cursors");
    const auto* after = cursors != nullptr && cursors->is_object() ? cursors->as_object().if_contains("after") : nullptr;
    if (after == nullptr || !after->is_string() || after->as_string().empty()) {
      co_return Error(ErrorCode::kMalformed, "a list response has a next page but no after cursor");
    }
    std::erase_if(request.query, [](const auto& parameter) { return parameter.first == "after"; });
    request.query.emplace_back("after", std::string(after->as_string()));
  }
  co_return Error(ErrorCode::kTooLarge, "more than " + std::to_string(options_.max_pages) + " pages");
}

asio::awaitable<Result<AccessToken>> GraphClient::exchange_code(const std::string& code,
                                                                const std::string& redirect_uri) {
  const Auth no_auth{.budget_key = std::string(kAppBudget)};
  auto url = url_for(GraphRequest{.path = "/oauth/access_token"}, no_auth);
  if (!url.ok()) co_return url.error();
  http::ClientRequest outgoing;
  outgoing.method = verb::post;
  outgoing.url = std::move(*url);
  outgoing.headers.set(boost::beast::http::field::content_type, "application/x-www-form-urlencoded");
  outgoing.body = http::encode_form({{"client_id", app_.app_id},
                                     {"client_secret", std::string(app_.app_secret.expose())},
                                     {"redirect_uri", redirect_uri},
                                     {"code", code}});

  auto response = co_await http_.request(std::move(outgoing));
  if (!response.ok()) co_return response.error();
  const auto error_body = parse_graph_error(response->body);
  if (response->status >= 400 || error_body) co_return exchange_error(response->status, error_body);
  boost::system::error_code ec;
  const auto body = boost::json::parse(response->body, ec);
  const auto* token = !ec && body.is_object() ? body.as_object().if_contains("access_token") : nullptr;
  if (token == nullptr || !token->is_string() || token->as_string().empty()) {
    co_return Error(ErrorCode::kMalformed, "the token exchange answered without an access_token");
  }
  co_return AccessToken(std::string(token->as_string()));
}

}  // namespace wik::graph
