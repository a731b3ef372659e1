// The records the store keeps, as plain values. Community records carry their community id so a
// record taken from a cross-community worker call (claims, purge jobs) says whose it is.
// Secrets (access tokens, passwords, session ids, OAuth states) travel only in AccessToken and
// Secret; what is stored of them is sealed (tokens) or hashed (the rest), never plain.
#pragma once

#include <wik/result.h>
#include <wik/secret.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace wik::store {

using TimePoint = std::chrono::system_clock::time_point;
using CommunityId = std::string;  // Workplace community ids are decimal strings
using AccountId = std::int64_t;

enum class InstallState { kActive, kRevoked };

struct InstallationInput {
  std::string community_name;
  AccessToken access_token;
  std::vector<std::string> permissions;
  std::optional<AccountId> installed_by;  // the vendor account that ran the install, if known
};

struct Installation {
  CommunityId community_id;
  std::string community_name;
  AccessToken access_token;  // empty once revoked
  std::vector<std::string> permissions;
  std::optional<AccountId> installed_by;
  InstallState state = InstallState::kActive;
  TimePoint installed_at;
  TimePoint updated_at;
};

// What the kit last saw of one community (issue 8): when a webhook of it was last stored, how the
// kit's own Graph calls for it went, and when its token was last found working. Never the token;
// the error is a public reason (no secret). A time is nullopt until it first happens.
struct CommunityHealth {
  std::optional<TimePoint> last_webhook_at;   // an event of a delivery was stored (not a duplicate)
  std::optional<TimePoint> last_graph_ok_at;  // a reply was accepted, or the token check answered
  std::string last_graph_error;               // the reason of the last failed call; empty: none yet
  std::optional<TimePoint> last_graph_error_at;
  std::optional<TimePoint> token_checked_at;  // the re-verify sweep found the token working
};

// An installation as operators list it: no token.
struct InstallationSummary {
  CommunityId community_id;
  std::string community_name;
  InstallState state = InstallState::kActive;
  TimePoint updated_at;
  TimePoint installed_at;
  std::vector<std::string> permissions;
  std::optional<std::string> installed_by_email;  // the vendor account that installed it, if known
  CommunityHealth health;
};

struct Account {
  AccountId id = 0;
  std::string email;
  std::string role;
  TimePoint created_at;
};

struct Session {
  AccountId account_id = 0;
  TimePoint created_at;
  TimePoint expires_at;
};

// A new session: the id goes to the browser (cookie) and is stored only as its SHA-256.
struct NewSession {
  Secret session_id;
  Session session;
};

// The OAuth `state` of one install attempt, bound to the browser session that started it.
struct OAuthState {
  std::string session_hash;  // hex SHA-256 of the session id that created the state
  std::string return_to;     // where the flow resumes (a path of ours, never a secret)
  TimePoint created_at;
  TimePoint expires_at;
};

// What a browser is asked to confirm of a pending install: everything but the token.
struct PendingInstallSummary {
  CommunityId community_id;
  std::string community_name;
  std::vector<std::string> permissions;  // lower-cased
  std::string return_url;  // a trusted Workplace URL to return to after the install, or ""
  std::string code_hash;   // hex SHA-256 of the code, to recognise a reloaded redirect
  TimePoint deadline;      // the code's lifetime from the redirect: the token is destroyed then
  TimePoint tombstone_until;  // until then an expired install is still known as such (after deadline)
};

// A Workplace-initiated install whose code was exchanged, waiting for a signed-in admin's
// confirmation (Store::add_pending_install, docs/install.md).
struct PendingInstall {
  AccessToken token;
  PendingInstallSummary summary;
};

struct Identity {
  CommunityId community_id;
  std::string user_id;  // app-scoped user id
  std::string email;
  std::optional<AccountId> account_id;  // the vendor account it is linked to, if any
  TimePoint updated_at;
};

// A person a link to the vendor's account is made for (CommunityScope::create_account_link).
struct AccountLinkInput {
  std::string user_id;      // app-scoped user id
  std::string email;        // as Workplace gave it (read_user_email); "" when unknown
  std::string person_name;  // as Workplace gave it, for the link page; "" when unknown
};

// What a live account-link token stands for (CommunityScope::find_account_link): everything but
// the token, which only the person's URL holds (the store keeps its SHA-256).
struct AccountLinkOffer {
  CommunityId community_id;
  std::string community_name;
  std::string user_id;
  std::string person_name;
  std::string email;                       // the identity's email; "" when unknown
  std::optional<Account> linked_account;   // the account the person is linked to now, if any
  // The account whose email is the identity's (compared ignoring ASCII case), if any: what the
  // link page may propose, never a link by itself (anyone can be given any email in Workplace).
  std::optional<Account> same_email_account;
  TimePoint expires_at;
};

struct InboxEventInput {
  std::string topic;
  std::string dedupe_key;  // unique per community (for example the platform's entry id + time)
  std::string payload;     // the raw webhook body; sealed at rest with the community's data key
};

enum class InsertOutcome { kStored, kDuplicate };

// An inbox event handed to one worker under a lease.
struct ClaimedEvent {
  std::int64_t id = 0;
  CommunityId community_id;
  std::string topic;
  std::string dedupe_key;
  std::string payload;
  std::int64_t attempts = 0;  // attempts before this one
  TimePoint received_at;
  std::string claim_token;  // proves the lease when completing or failing the event
  TimePoint lease_until;  // in the store's injected clock
};

class Transaction;

// A write of a handler's, run inside its event's completion transaction: it commits exactly when
// the event is marked handled. It may run more than once (a failed commit is retried with the
// event), so it touches nothing but the transaction.
using CompletionWrite = std::function<Result<void>(Transaction&)>;

// A handled event, the replies its handler gave and its writes (Store::complete_inbox_events).
struct InboxCompletion {
  const ClaimedEvent& event;
  std::span<const std::string> replies;
  std::span<const CompletionWrite> writes = {};
};

// What became of one completion. Not completed: nothing of it was committed and the event stays
// pending — with its claim lost (another worker holds it now), or with its claim kept because its
// writes failed (`write_error`) or an earlier event of its community failed its writes in the same
// call (`behind_failure`): the caller records the failure, or gives the claim back.
struct CompletionOutcome {
  bool completed = false;
  std::optional<Error> write_error;
  bool behind_failure = false;
};

enum class FailOutcome { kRetryScheduled, kDeadLettered };

// A reply a handler gave, queued with its event's completion and claimed for sending
// (Store::claim_outbox).
struct OutboxMessage {
  std::int64_t id = 0;
  CommunityId community_id;
  std::string body;           // the Send API request body (JSON)
  std::int64_t attempts = 0;  // attempts before this one
  std::string claim_token;    // proves the lease when finishing or failing the send
};

enum class OutboxOutcome { kRetryScheduled, kDropped };

// One community's webhook backlog, as operators see it (Store::inbox_counts).
struct InboxCounts {
  CommunityId community_id;
  std::int64_t pending = 0;       // stored events not yet handled (claimed ones included)
  std::int64_t dead_letters = 0;  // events that ran out of attempts
};

struct DeadLetter {
  std::int64_t id = 0;
  CommunityId community_id;
  std::int64_t inbox_id = 0;
  std::string topic;
  std::string payload;
  std::int64_t attempts = 0;
  std::string last_error;
  TimePoint failed_at;
};

enum class PurgeState { kPending, kRunning, kDone };

struct PurgeJob {
  std::int64_t id = 0;
  std::optional<CommunityId> community_id;  // cleared when the job is done
  std::string community_ref;                // keyed hash of the community id, kept for the audit trail
  PurgeState state = PurgeState::kPending;
  TimePoint requested_at;
  TimePoint deadline;
  std::optional<TimePoint> completed_at;
  std::map<std::string, std::int64_t> rows_deleted;  // per table, across every run of the job
  std::int64_t runs = 0;  // times a worker took the job: more than 1 after a worker died running it
};

// What CommunityScope::uninstall did.
struct Uninstalled {
  bool revoked = false;  // an active installation was revoked (false: there was none, or it was revoked already)
  PurgeJob purge;        // the community's open purge job: requested now, or the one already open
};

struct AuditEntry {
  std::int64_t id = 0;
  TimePoint at;
  std::string community_ref;  // keyed hash of the community id, never the id itself
  std::string action;         // "installed", "revoked", "purge_requested", "purge_completed", ...
  std::string detail;         // no personal data: counts, states, key ids
};

// An application table that holds community rows, so purges reach it.
struct AppTable {
  std::string table;
  std::string community_column;
};

}  // namespace wik::store
