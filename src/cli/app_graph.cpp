#include "cli/app_graph.h"

#include "app/graph_access.h"
#include "config/config.h"

namespace wik::cli {

Result<std::unique_ptr<AppGraph>> connect_app_graph(const Config& config) {
  if (auto credentials = config::require_app_credentials(config); !credentials) return credentials.error();
  auto http = http::Client::create(app::graph_http_options(config));
  if (!http) return http.error();
  auto connected = std::make_unique<AppGraph>();
  connected->http = std::move(*http);
  connected->graph =
      std::make_unique<graph::GraphClient>(*connected->http, app::graph_options(config),
                                           graph::AppCredentials{config.app.id, config.app.secret}, connected->clock,
                                           connected->random);
  return connected;
}

}  // namespace wik::cli
