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
// and registered app tables; PurgeRunner runs it) and records audit entries. revoke() does this
// for every uninstall, however it was noticed (InstallSweep in reverify.h). Replays are harmless:
// revoking twice and requesting a purge twice do nothing more. A request issued before the
// community's current installation (a deauthorization captured before a reinstall) is ignored and
// audited, so it cannot wipe the new install.
//
// Thread-safe (the store is); handle() and revoke() block on the store.
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

// How an uninstall became known, for Deauthorizer::revoke().
struct UninstallNotice {
  // Where it came from, for the audit trail and the log: "deauthorize callback", "re-verify sweep:
  // graph error 190/458". No personal data, no secret.
  std::string source;
  // The notice concerns installations made before this time: a later one (a reinstall) is kept and
  // the notice ignored (kStaleIgnored). nullopt: whatever installation there is.
  std::optional<std::chrono::system_clock::time_point> installed_before;
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
  // Acts on an uninstall of `community_id` known from `notice`: revokes the installation when it is
  // active (after an audit entry naming notice.source), requests the purge of the community's rows,
  // and calls the on_revoked listener. The one path of every uninstall, whichever part noticed it
  // (this callback, the re-verify sweep); idempotent, so several processes may race on one community.
  // kInvalidArgument for an invalid community id; store errors otherwise.
  Result<DeauthOutcome> revoke(std::string_view community_id, const UninstallNotice& notice);

  // Registers POST options.path. The answer is 200 with {"result": …} once the installation is
  // revoked and the purge requested; errors go through the error table.
  void add_routes(http::Router& router);
  // Calls `listener` with the community id after each revoke() (a deauthorization, or an uninstall
  // the re-verify sweep caught) that revoked an active install, on the thread that ran it. Set
  // before add_routes() and before any sweep starts.
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
// Safe to run in several processes at once: one runs each job (its lease), the others skip it.
class PurgeRunner {
 public:
  explicit PurgeRunner(store::Store& store) : store_(store) {}
  // Runs every pending or interrupted job no other worker holds and returns the jobs it finished.
  Result<std::vector<store::PurgeJob>> run_pending();

 private:
  store::Store& store_;
};

}  // namespace wik::deauth
