// Deauthorizer: the integration's deauthorize callback (PROTOCOL.md §5; DESIGN.md invariants 5–7).
//
// A POST carries a signed_request (form field, or a JSON body with the same field). It is verified
// against the app secret — or, during a secret rotation, the previous secret too, until
// previous_secrets_until on the clock, checked per request — in constant time, never echoing the
// expected signature; "algorithm" must be HMAC-SHA256 when present; "issued_at", when present,
// must be within max_age; "community_id" may be a string or a number. A bad request changes
// nothing and gets a 4xx whose reason reveals nothing.
//
// A verified request revokes the community's installation at once (its token is forgotten, so no
// further Graph call can use it), requests the purge of every row of that community (kit tables
// and registered app tables; PurgeRunner runs it) and records an audit entry. Replays are harmless:
// revoking twice and requesting a purge twice do nothing more. A request issued before the
// community's current installation (a deauthorization captured before a reinstall) is ignored and
// audited, so it cannot wipe the new install.
//
// Thread-safe (the store is); handle() blocks on the store.
#pragma once

#include <wik/result.h>
#include <wik/secret.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/signed_request.h"
#include "http/server/router.h"
#include "store/store.h"

namespace wik::deauth {

struct DeauthOptions {
  std::string path = "/workplace/deauthorize";           // the Deauthorize Callback URL's path
  std::chrono::seconds max_age = std::chrono::hours(1);  // for an issued_at the request carries
  std::chrono::hours purge_deadline = std::chrono::hours(24 * 30);  // the platform's 30 days
  // The end of an app secret rotation: from then on only the first secret verifies. nullopt: no end.
  std::optional<std::chrono::system_clock::time_point> previous_secrets_until;
};

enum class DeauthResult {
  kRevoked,         // the installation was active: revoked, purge requested
  kAlreadyRevoked,  // a replay, or a community never installed: purge (re)requested, nothing else
  kStaleIgnored,    // issued before the current installation: nothing changed
};

struct DeauthOutcome {
  std::string community_id;
  DeauthResult result = DeauthResult::kRevoked;
  std::optional<std::int64_t> purge_job;
};

// Returns the signed_request of a callback body: the form field of an
// application/x-www-form-urlencoded body, or the "signed_request" member of a JSON body.
// kMalformed when it has none; kUnsupported for another media type.
Result<std::string> signed_request_from_body(std::optional<std::string_view> content_type, std::string_view body);

class Deauthorizer {
 public:
  // `app_secrets`: the current secret first, then any accepted until options.previous_secrets_until.
  // REQUIRES: at least one non-empty secret.
  Deauthorizer(store::Store& store, std::vector<Secret> app_secrets, const core::Clock& clock, DeauthOptions options = {});

  // Verifies and acts on one signed_request (see above).
  Result<DeauthOutcome> handle(std::string_view signed_request);

  // Registers POST options.path. The answer is 200 with {"result": …} once the installation is
  // revoked and the purge requested; errors go through the error table.
  void add_routes(http::Router& router);
  // Calls `listener` with the community id after each deauthorization that revoked an active
  // install, on the thread that handled it. Set before add_routes().
  void on_revoked(std::function<void(const std::string&)> listener) { revoked_ = std::move(listener); }

 private:
  Result<core::SignedRequest> verify(std::string_view signed_request) const;

  store::Store& store_;
  std::vector<Secret> app_secrets_;
  const core::Clock& clock_;
  DeauthOptions options_;
  std::function<void(const std::string&)> revoked_;
};

// PurgeRunner: runs requested purge jobs to the end (Store::run_purge_job), oldest first.
// Safe to run in several processes at once (the store makes each job idempotent).
class PurgeRunner {
 public:
  explicit PurgeRunner(store::Store& store) : store_(store) {}
  // Runs every pending or interrupted job and returns the jobs it finished.
  Result<std::vector<store::PurgeJob>> run_pending();

 private:
  store::Store& store_;
};

}  // namespace wik::deauth
