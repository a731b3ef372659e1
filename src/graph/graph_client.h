// GraphClient: the one way wik calls the Graph API (DESIGN.md invariant 3).
//
// A call made as an install carries the install's token in an Authorization header (never in the
// URL) and a freshly computed appsecret_proof + appsecret_time in the query: the proof is computed
// here, per attempt, from the clock, and there is no other way to send an install token. App-level
// calls carry the app access token ("{app_id}|{app_secret}") and no proof. The token exchange sends
// the app secret as the platform requires, only to the configured Graph host.
//
// Each call: waits for the rate governor (refusing at once with kRateLimited inside a back-off
// window, so no call is made there), sends, records the usage headers, maps an error envelope to a
// wik::Error (graph_error.h) and retries what retry_policy.h allows, re-signing each attempt.
// Paths are relative to the base URL and version ("/community", "/me/messages"); ids in paths are
// percent-encoded by the caller's use of path segments.
//
// Thread-safe: calls may run concurrently from any executor. Borrows the http::Client, clock and
// random source, which must outlive it.
#pragma once

#include <wik/result.h>
#include <wik/secret.h>

#include <boost/asio/awaitable.hpp>
#include <boost/beast/http/verb.hpp>
#include <boost/json/value.hpp>
#include <chrono>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/clock.h"
#include "core/secure_random.h"
#include "graph/rate_limit.h"
#include "graph/retry_policy.h"
#include "http/client/client.h"

namespace wik::graph {

struct GraphOptions {
  std::string base_url = "https://graph.workplace.com";  // the emulator: http://127.0.0.1:8090
  std::string version = "v3.2";                          // empty: no version prefix
  RetryPolicy retry;
  RateGovernorOptions rate;
  std::size_t max_pages = 100;  // get_all stops (kTooLarge) beyond this many pages
};

struct AppCredentials {
  std::string app_id;
  Secret app_secret;
};

// The install a call is made as: its community (the rate-limit budget key) and its token.
struct InstallAuth {
  std::string community_id;
  AccessToken token;
};

struct GraphRequest {
  boost::beast::http::verb method = boost::beast::http::verb::get;
  std::string path;                                         // "/community", "/me/messages"
  std::vector<std::pair<std::string, std::string>> query;  // e.g. {"fields", "id,name"}
  std::optional<boost::json::value> body;                   // sent as JSON
};

class GraphClient {
 public:
  GraphClient(http::Client& http, GraphOptions options, AppCredentials app, const core::Clock& clock,
              core::RandomSource& random);

  // Every call's path must be /node[/edge...] without an empty, '.' or '..' segment (kInvalidArgument
  // otherwise, before anything is sent).
  // Calls as an install (token + fresh proof). Returns the response's JSON body.
  boost::asio::awaitable<Result<boost::json::value>> call(const InstallAuth& install, GraphRequest request);
  // Calls as the app (app access token, no proof): /app/subscriptions and /{app_id}.
  boost::asio::awaitable<Result<boost::json::value>> call_as_app(GraphRequest request);
  // Follows the cursor paging of a list edge (paging.cursors.after while paging.next is present;
  // the `next` URL itself is never followed) and returns every `data` element.
  boost::asio::awaitable<Result<std::vector<boost::json::value>>> get_all(const InstallAuth& install,
                                                                          GraphRequest request);
  // Exchanges an install code for the install's token (PROTOCOL.md §2.1). Never retried (codes are
  // single use); kInvalidArgument for a used, expired or mismatched code.
  boost::asio::awaitable<Result<AccessToken>> exchange_code(const std::string& code, const std::string& redirect_uri);

  const std::string& app_id() const noexcept { return app_.app_id; }

 private:
  struct Auth;
  boost::asio::awaitable<Result<boost::json::value>> send(const Auth& auth, const GraphRequest& request);
  boost::asio::awaitable<Result<boost::json::value>> attempt(const Auth& auth, const GraphRequest& request,
                                                             bool& platform_answered);
  Result<std::string> url_for(const GraphRequest& request, const Auth& auth) const;

  http::Client& http_;
  GraphOptions options_;
  AppCredentials app_;
  const core::Clock& clock_;
  core::RandomSource& random_;
  RateGovernor governor_;
  RetryBudget budget_;
};

}  // namespace wik::graph
