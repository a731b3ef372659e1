// How wik reaches the Graph API from its configuration and store: the HTTP client options and the
// Graph client options a Config implies, and the install a call is made as. Shared by `wik serve`
// (App) and the operator commands (`wik api`), so both refuse plain http and dead installs alike.
// Thread-safe; install_auth blocks on the store, as every Store call does.
#pragma once

#include <wik/config.h>
#include <wik/result.h>

#include <string_view>

#include "graph/graph_client.h"
#include "http/client/client.h"
#include "store/store.h"

namespace wik::app {

// Returns the HTTP client options for Graph calls: plain http is allowed only when
// config.app.graph_url names a loopback host (the emulator).
http::ClientOptions graph_http_options(const Config& config);

// Returns the Graph client options config.app names (base URL and version).
graph::GraphOptions graph_options(const Config& config);

// Returns the install `community_id` calls are made as, token opened from the store:
// kUnauthenticated when the app is no longer installed there, kNotFound when it never was,
// kInvalidArgument for a malformed community id.
Result<graph::InstallAuth> install_auth(store::Store& store, std::string_view community_id);

}  // namespace wik::app
