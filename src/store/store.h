// Store: everything wik keeps, on SQLite or PostgreSQL (docs/storage.md).
//
// One engine-neutral implementation over the Database seam (database.h): every statement and
// every record mapping exists once, and an engine only runs statements. Community rows are
// reachable only through a CommunityScope (community_scope.h) bound to one community id; the
// cross-community calls here are the worker and operator ones (claims, purges, key rotation,
// listings) and the pending installs, found by their browser's id, and each record they return
// names its community.
//
// Thread-safe: every call may come from any thread, and blocks the caller (SQLite and libpq block
// anyway); coroutine callers offload calls to a blocking pool. Failures are wik::Error values:
// kNotFound, kConflict, kExpired, kUnauthenticated, kPermissionDenied, kInvalidArgument,
// kRateLimited as each call states, kUnavailable when the engine is busy or unreachable, kInternal for a bug.
// Time comes from the injected Clock only; on PostgreSQL, the queues' leases and due times are
// stamped in it shifted by how far the server's clock was ahead of it when the store opened, so
// replicas with skewed clocks agree on them. The Store borrows the Clock, which must outlive it.
#pragma once

#include <wik/result.h>
#include <wik/secret.h>

#include "core/clock.h"
#include "core/key_ring.h"
#include "store/claim_floors.h"
#include "store/community_scope.h"
#include "store/database.h"
#include "store/passwords.h"
#include "store/records.h"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace wik::store {

class GroupCommitter;
struct InboxWrite;

// One event of a webhook delivery and the community it belongs to (Store::insert_inbox_events).
struct ScopedInboxEvent {
  const CommunityScope* community = nullptr;
  InboxEventInput event;
};

struct StoreOptions {
  // Applies missing kit migrations in open(); when false, open() requires an up-to-date schema.
  bool migrate = true;
  // Batches concurrent inbox inserts into one transaction (one durable commit for many callers).
  // When false each insert commits on its own (for comparison in bench/store_bench.cpp).
  bool group_commit = true;
  // Most inbox inserts one group commit writes. REQUIRES: > 0.
  std::size_t max_batch = 512;
  // Failed attempts after which an inbox event becomes a dead letter. REQUIRES: > 0.
  std::int64_t max_attempts = 8;
  // Rows a purge deletes per transaction, so other communities' writes wait for one batch at most.
  // REQUIRES: > 0.
  std::int64_t purge_batch_rows = 5000;
  // How long a purge job stays with the worker that took it without a sign of progress (each batch
  // renews it): another worker takes the job over only once it runs out. REQUIRES: > 0.
  std::chrono::seconds purge_lease{300};
  PasswordCost password_cost;
};

class Store {
 public:
  // Returns a store over `database`: migrates it (if options.migrate), creates the audit key on
  // first use, and starts the group committer. kConfig when the schema is older than the kit's
  // and options.migrate is false; engine errors otherwise.
  static Result<std::unique_ptr<Store>> open(std::unique_ptr<Database> database, core::KeyRing key_ring,
                                             const core::Clock& clock, StoreOptions options = {});

  // Finishes the queued inbox inserts, then stops the committer.
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  // Returns the scope of `community_id`: kInvalidArgument unless it is 1-64 printable ASCII
  // characters. The community need not be installed yet.
  Result<CommunityScope> community(std::string_view community_id);

  // ---- Installations (cross-community, operators)
  // Returns every installation with its health and its installer's email, without tokens, ordered
  // by community id (one query).
  Result<std::vector<InstallationSummary>> list_installations();

  // ---- Inbox
  // Stores the events of one webhook delivery (of one or several communities) durably and
  // together: every event is queued for the group committer at once, and the call returns when all
  // of them have committed. Returns each event's outcome in order, as
  // CommunityScope::insert_inbox_event does, except that an event is stored only while its
  // community's installation is active: kNotFound otherwise (uninstalled, revoked or purged), checked
  // in the transaction that stores it. REQUIRES: every scope comes from this store.
  std::vector<Result<InsertOutcome>> insert_inbox_events(std::span<const ScopedInboxEvent> events);
  // As insert_inbox_events(), without waiting: returns at once, and `done` gets the outcomes on the
  // group committer's thread once all of them are durable or failed (without group commit, on this
  // thread before this returns). `events` must stay valid until then.
  void submit_inbox_events(std::span<const ScopedInboxEvent> events,
                           std::function<void(std::vector<Result<InsertOutcome>>)> done);
  // Returns once the `done` of every submit_inbox_events() call so far has returned.
  void wait_for_submitted_inbox_events();

  // ---- Inbox workers
  // Claims up to `limit` events for `worker` until now + `lease`, the lowest ids first. From each
  // community it takes a run of at most `per_community` of its oldest pending events, stopping
  // before one that is not due or still leased, and none while its oldest waits: so handling the
  // runs in order keeps per-community order. An event whose lease expired is claimable again.
  // A claim costs an index probe per community, whatever the backlog; on PostgreSQL concurrent
  // claimers take turns.
  Result<std::vector<ClaimedEvent>> claim_inbox_events(std::string_view worker, std::size_t limit,
                                                       std::chrono::milliseconds lease,
                                                       std::size_t per_community = 1);
  // Marks a claimed event handled (its dedupe key stays, its payload goes) and queues the
  // handler's `replies` (Send API bodies, sealed like payloads) in the same transaction, so a reply
  // is queued exactly when its event is done: kConflict when the claim was lost (another worker
  // reclaimed it after the lease ran out), and then nothing is queued.
  Result<void> complete_inbox_event(const ClaimedEvent& event, std::span<const std::string> replies = {});
  // complete_inbox_event for several events in one transaction (one durable commit), in order,
  // each with its handler's writes: returns what became of each (CompletionOutcome). An event's
  // writes run after it is marked done, under a savepoint: when one fails, that event is left
  // pending with its claim, and so is every later event of its community in `completions`, so
  // its community's order holds. A community being purged gets no writes and no replies.
  Result<std::vector<CompletionOutcome>> complete_inbox_events(std::span<const InboxCompletion> completions);
  // Gives up the claim on events that were not handled (they stay pending, claimable at once);
  // events whose claim was already lost are left alone.
  Result<void> release_inbox_events(std::span<const ClaimedEvent> events);
  // Records a failed attempt: schedules a retry at `retry_at`, or, after max_attempts or when
  // `retry_at` is nullopt (an event that can never succeed), moves the event to the dead letters. kConflict when the claim was lost. `error` must hold no secret.
  Result<FailOutcome> fail_inbox_event(const ClaimedEvent& event, std::string_view error,
                                       std::optional<TimePoint> retry_at);
  // Gives a claimed event back unhandled, to be claimed again from `not_before` on (its handler
  // was throttled by the platform: not the event's fault): it keeps its attempts and last error,
  // and its community's later events wait behind it. kConflict when the claim was lost (nothing
  // changes then).
  Result<void> defer_inbox_event(const ClaimedEvent& event, TimePoint not_before);
  // ---- Reply outbox
  // Claims up to `limit` queued replies whose retry time has come, only the oldest of each
  // community (so a community's replies go out in order), until now + `lease`. Costs an index
  // probe per community however many replies wait; on PostgreSQL concurrent claimers take turns.
  Result<std::vector<OutboxMessage>> claim_outbox(std::size_t limit, std::chrono::milliseconds lease);
  // Deletes a sent reply and records the accepted Graph call in the community's health:
  // kConflict when the claim was lost (nothing is recorded then).
  Result<void> finish_outbox(const OutboxMessage& message);
  // Records a failed send: schedules a retry at `retry_at`, or after max_attempts (or with no
  // `retry_at`: a reply the platform will never take) drops the reply; either way `error` becomes
  // the community's last Graph error. kConflict when the claim was lost (nothing is recorded then).
  // `error` must hold no secret: the admin pages show it.
  Result<OutboxOutcome> fail_outbox(const OutboxMessage& message, std::string_view error,
                                    std::optional<TimePoint> retry_at);
  // Gives a claimed reply back unsent, to be claimed again from `not_before` on (a reply the pacing
  // holds back): it keeps its attempts and last error, and its community's later replies wait
  // behind it. kConflict when the claim was lost (nothing changes then).
  Result<void> defer_outbox(const OutboxMessage& message, TimePoint not_before);

  // Returns, for every community with a pending event or a dead letter, how many of each it has,
  // ordered by community id. Payloads stay sealed.
  Result<std::vector<InboxCounts>> inbox_counts();

  // ---- Purges
  // Returns the purge jobs in `state` (all when empty), oldest first.
  Result<std::vector<PurgeJob>> list_purge_jobs(std::optional<PurgeState> state = {});
  // Runs purge job `job_id` to the end: destroys the community's data key, deletes its rows from
  // every kit table and registered app table in batches, reclaims the space, then marks the job
  // done and appends the audit record. A done job is returned as it is; an interrupted one
  // continues. One worker (Store) runs a job at a time: it takes the job's lease
  // (StoreOptions::purge_lease, renewed with each batch), and kConflict tells another worker that
  // the job is running in the one holding it, until its lease runs out (that worker died: the job
  // is then taken over). kNotFound for an unknown job.
  Result<PurgeJob> run_purge_job(std::int64_t job_id);

  // ---- Keys and audit
  // Re-wraps every community data key and the audit key under the ring's active key, re-seals the
  // tokens of pending installs under it, and returns how many community keys it re-wrapped.
  // kNotFound when a wrapped key or sealed token names a key id the ring lacks (nothing is changed
  // then).
  Result<std::int64_t> rewrap_data_keys();
  // Returns the audit entries of `community_id` (found by its keyed hash), oldest first.
  Result<std::vector<AuditEntry>> audit_trail(std::string_view community_id);

  // ---- The vendor's own accounts, sessions and OAuth states
  // Creates an account: kConflict when the email is taken, kInvalidArgument for an empty email
  // or password. Emails are compared case-insensitively (ASCII).
  Result<Account> create_account(std::string_view email, const Secret& password, std::string_view role);
  // Returns the account whose email and password match, or kUnauthenticated (the same error, and
  // the same argon2id work, for an unknown email and a wrong password).
  Result<Account> authenticate(std::string_view email, const Secret& password);
  // Returns the account `id` names as it is now (email, role): kNotFound when there is none (never
  // created, or deleted).
  Result<Account> find_account(AccountId id);
  // Starts a session for `account` lasting `lifetime`: kNotFound for an unknown account.
  Result<NewSession> create_session(AccountId account, std::chrono::seconds lifetime);
  // Returns the session `session_id` names: kNotFound when unknown or deleted, kExpired when it
  // ran out (prune_expired() deletes it later).
  Result<Session> find_session(const Secret& session_id);
  // Ends a session: kNotFound when there is none.
  Result<void> delete_session(const Secret& session_id);
  // Returns a fresh OAuth `state` value bound to `session_id`, usable once within `lifetime`.
  Result<Secret> create_oauth_state(const Secret& session_id, std::string_view return_to,
                                    std::chrono::seconds lifetime);
  // Consumes `state` (a second take finds nothing): kNotFound when unknown or already taken,
  // kExpired when too old, kPermissionDenied when another session created it.
  Result<OAuthState> take_oauth_state(const Secret& state, const Secret& session_id);
  // Deletes the handled (done) inbox events that arrived more than `retention` ago, in batches of
  // purge_batch_rows, and returns how many: a redelivery of one of them is then stored anew.
  // Pending events and dead letters' events are kept.
  Result<std::int64_t> forget_handled_events(std::chrono::hours retention);
  // Deletes expired sessions and OAuth states, destroys the sealed tokens of pending installs past
  // their deadline and forgets those past their tombstone period; returns how many rows it changed.
  Result<std::int64_t> prune_expired();

  // ---- Pending installs: Workplace-initiated installs waiting for an admin's confirmation
  // (docs/install.md), shared by every replica. The store keeps only the SHA-256 of the browser's
  // id, and the token sealed with the key ring for the community (core::seal_access_token). Every
  // call first destroys the sealed token of each pending install past its deadline (the row stays
  // as a token-less tombstone until its tombstone_until) and forgets the tombstones past it.
  // Holds `install` and returns the id its browser keeps: kRateLimited when `capacity` installs
  // are waiting already (replicas share the count: on PostgreSQL adds take turns),
  // kInvalidArgument for a malformed community id (as community() says).
  Result<Secret> add_pending_install(const PendingInstall& install, std::size_t capacity);
  // Returns what the browser holding `id` is asked to confirm: kNotFound when unknown, taken,
  // discarded or forgotten, kExpired when its deadline has passed (a tombstone).
  Result<PendingInstallSummary> find_pending_install(const Secret& id);
  // Removes the install `id` names and returns it, token included, to one caller only, however
  // many race on however many replicas: errors as find_pending_install().
  Result<PendingInstall> take_pending_install(const Secret& id);
  // Forgets the install `id` names, if any.
  Result<void> discard_pending_install(const Secret& id);

  // ---- Application tables
  // Runs an application's schema — parameterless statements separated by ';', written to be
  // re-runnable (CREATE TABLE IF NOT EXISTS ...) — in one transaction.
  Result<void> apply_app_schema(std::string_view sql);
  // Registers an application table holding community rows so purges reach it: kInvalidArgument
  // for a name that is not a plain identifier, kNotFound when the table or column does not exist.
  // Registering again replaces the column.
  Result<void> register_app_table(const AppTable& table);
  Result<std::vector<AppTable>> app_tables();

 private:
  friend class CommunityScope;

  Store(std::unique_ptr<Database> database, core::KeyRing key_ring, const core::Clock& clock, StoreOptions options,
        Secret audit_key, std::int64_t queue_clock_offset_ms);

  // Columns of community_health to set for one community; unset members are left as they are.
  struct HealthUpdate {
    std::optional<std::int64_t> last_webhook_at;
    std::optional<std::int64_t> last_graph_ok_at;
    std::optional<std::string_view> last_graph_error;  // set with last_graph_error_at
    std::optional<std::int64_t> last_graph_error_at;
    std::optional<std::int64_t> token_checked_at;
  };

  std::int64_t now_ms() const;
  // `time` (of the injected clock) on the queue clock: the database server's clock on PostgreSQL
  // (the injected clock plus the offset measured when the store opened), the injected clock on
  // SQLite. The inbox's and the outbox's leases and due times are stamped and checked in it, so
  // replicas whose clocks disagree agree on when a lease runs out and an event is due; what a
  // claim hands back (ClaimedEvent::lease_until) is in the injected clock.
  std::int64_t queue_time_ms(TimePoint time) const;
  std::int64_t queue_now_ms() const;
  // Upserts `update` into the community's health row within `tx` (one statement), only while the
  // community has a data key (locked on PostgreSQL, so a purge waits): a purged community never
  // gets a row back. `key_locked`: `tx` found and locked the key already, so it is not checked.
  Result<void> record_health(Transaction& tx, std::string_view community_id, const HealthUpdate& update,
                             bool key_locked = false);
  // Returns the installations (of `community_id` only, when given) as list_installations() does.
  Result<std::vector<InstallationSummary>> installation_summaries(Transaction& tx,
                                                                  std::optional<std::string_view> community_id);
  std::string ref_of(std::string_view community_id) const;
  // Makes the transactions that install or uninstall community `community_id` take turns until
  // `tx` ends (an advisory lock on PostgreSQL; SQLite's writer lock does it already), so each sees
  // whether the other's purge request or installation committed.
  Result<void> lock_install_changes(Transaction& tx, std::string_view community_id);
  // Returns the community's data key, or nullopt when it has none (never installed, or purged).
  // `for_write` locks the key row (PostgreSQL) so a concurrent purge waits for this transaction.
  Result<std::optional<Secret>> find_data_key(Transaction& tx, std::string_view community_id, bool for_write);
  // Returns whether the community's installation is active (false: revoked, or none).
  Result<bool> installation_active(Transaction& tx, std::string_view community_id);
  Result<Secret> ensure_data_key(Transaction& tx, std::string_view community_id);
  Result<void> append_audit(Transaction& tx, std::string_view community_id, std::string_view action,
                            std::string_view detail);
  Result<InsertOutcome> insert_inbox_event(std::string_view community_id, InboxEventInput&& event);
  // Writes `writes` through the group committer, or at once without it, and returns their outcomes.
  std::vector<Result<InsertOutcome>> write_inbox(std::vector<InboxWrite> writes);
  static std::vector<InboxWrite> delivery_writes(std::span<const ScopedInboxEvent> events);
  // Writes `batch` in one transaction and fills in each write's outcome.
  void write_inbox_batch(std::span<InboxWrite* const> batch);
  Result<std::int64_t> purge_table(std::int64_t job_id, std::string_view community_id, std::string_view table,
                                   std::string_view column);
  Result<PurgeJob> load_purge_job(Transaction& tx, std::int64_t job_id);
  // Destroys the sealed tokens of pending installs past their deadline and deletes the tombstones
  // past their tombstone_until; returns how many rows it changed.
  Result<std::int64_t> expire_pending_installs(Transaction& tx);

  std::unique_ptr<Database> database_;
  const core::KeyRing key_ring_;
  const core::Clock& clock_;
  const StoreOptions options_;
  const Secret audit_key_;
  const std::int64_t queue_clock_offset_ms_;  // the queue clock minus the injected clock
  const std::string purge_worker_;            // names this store in the purge jobs it runs
  std::once_flag dummy_hash_once_;
  std::string dummy_hash_;  // verified against for unknown emails; set once under dummy_hash_once_
  std::unique_ptr<GroupCommitter> committer_;  // null unless options_.group_commit
  ClaimFloors inbox_claim_floors_;             // where inbox claims start reading (PostgreSQL)
};

}  // namespace wik::store
