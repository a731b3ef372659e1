#include "app/graph_access.h"

#include <string>

#include "http/url.h"

namespace wik::app {

http::ClientOptions graph_http_options(const Config& config) {
  const auto url = http::parse_absolute_url(config.app.graph_url);
  const bool loopback = url.ok() && (url->encoded_host() == "127.0.0.1" || url->encoded_host() == "localhost" ||
                                     url->encoded_host() == "[::1]");
  return {.allow_plain_http = loopback};
}

graph::GraphOptions graph_options(const Config& config) {
  return {.base_url = config.app.graph_url, .version = config.app.graph_version};
}

Result<graph::InstallAuth> install_auth(store::Store& store, std::string_view community_id) {
  auto scope = store.community(community_id);
  if (!scope.ok()) return scope.error();
  auto installation = scope->installation();
  if (!installation.ok()) return installation.error();
  if (installation->state != store::InstallState::kActive || installation->access_token.empty()) {
    return Error(ErrorCode::kUnauthenticated, "the app is no longer installed in this community");
  }
  return graph::InstallAuth{std::string(community_id), std::move(installation->access_token)};
}

}  // namespace wik::app
