// The token exchange of the Graph host: GET or POST /oauth/access_token (PROTOCOL.md §2.1–§2.3).
//
// Takes client_id, client_secret, redirect_uri and code (query, form or JSON body; grant_type is
// accepted and ignored), exchanges the code through PlatformState::exchange_code and answers
// {"access_token":…,"token_type":"bearer"} (no expires_in: install tokens do not expire). Every
// failure is one of the §2.3 rows (HTTP 400 with WWW-Authenticate); the secret is never echoed.
// Thread-safe (PlatformState is).
#pragma once

#include "emulator/graph_api/graph_call.h"
#include "emulator/state/platform_state.h"

namespace wik::emulator {

// Returns the body of a successful exchange, or the §2.3 error.
Reply exchange_access_token(PlatformState& state, const GraphParams& params);

}  // namespace wik::emulator
