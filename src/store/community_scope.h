// CommunityScope: the only way to read or write one community's rows.
//
// A scope is bound to one community id when Store::community() makes it and adds that id to every
// statement it runs, so rows of other communities cannot be reached through it (DESIGN.md
// invariant 1). Copyable and cheap; it borrows the Store, which must outlive it. Thread-safe like
// the Store. Calls block; failures are wik::Error values as each call states, plus kUnavailable
// and kInternal from the engine.
#pragma once

#include <wik/result.h>

#include "store/database.h"
#include "store/records.h"

#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace wik::store {

class Store;

class CommunityScope {
 public:
  const CommunityId& community_id() const noexcept { return community_id_; }

  // ---- Installation
  // Installs or reinstalls the app: creates the community's data key if it has none, seals the
  // token with it, and marks the installation active. A purge of the community still open (an
  // uninstall moments before, an operator's order) is run to its end first: run later, it would
  // destroy this installation and every row written since. The upsert checks again, in its own
  // transaction, that no purge was requested meanwhile (and runs it if one was); kConflict when
  // purges keep being requested as fast as they are run.
  Result<Installation> put_installation(InstallationInput input);
  // Returns the installation, token opened: kNotFound when there is none.
  Result<Installation> installation();
  // Returns only the installation's state (no key is unwrapped, no token opened): kNotFound when
  // there is none. For checks on a hot path, such as every webhook delivery.
  Result<InstallState> install_state();
  // Marks the installation revoked and forgets its token at once: kNotFound when there is none.
  // With `installed_before`, only an installation made before that time, checked in the same
  // statement: kConflict when the current one is newer (a reinstall), which stays untouched.
  Result<void> revoke_installation(std::optional<TimePoint> installed_before = std::nullopt);
  // Uninstalls the app from this community for good, in one transaction: revokes the active
  // installation (its token forgotten; audited as `uninstall_noticed` with `noticed_by`, then
  // `revoked`) and requests the community's purge, due by `purge_deadline`, or finds the one open.
  // Both at once, so a reinstall comes either before them, and is uninstalled, or after them, and
  // runs the purge first (put_installation): a purge requested apart from its revoke would take a
  // reinstall made in between. With `installed_before`, kConflict and nothing changed when the
  // current installation was made at or after that time (a reinstall the notice predates).
  Result<Uninstalled> uninstall(std::string_view noticed_by, TimePoint purge_deadline,
                                std::optional<TimePoint> installed_before = std::nullopt);
  // Returns the installation as operators see it (Store::list_installations: health, installer's
  // email, no token): kNotFound when there is none.
  Result<InstallationSummary> installation_summary();

  // ---- Health (what the admin pages show; docs/operating.md)
  // Records that a check of the token with a Graph call answered: sets the token's checked time
  // and the last successful Graph call. Does nothing when the community has no data key (purged).
  // `community_name`, the name the platform gave in that answer, becomes the active
  // installation's name when it differs (a renamed community); kInvalidArgument, and nothing
  // recorded, when it is not 1-255 bytes of well-formed UTF-8 without control characters.
  Result<void> record_token_valid(std::optional<std::string_view> community_name = std::nullopt);
  // Records the reason of a failed Graph call made for this community (it must hold no secret: the
  // admin pages show it). Does nothing when the community has no data key (purged).
  Result<void> record_graph_error(std::string_view reason);

  // ---- Settings (what the community's admins set on the admin pages; docs/operating.md)
  // Returns the community's stored settings, value by name; empty when none was ever set (the
  // declared defaults are the app's, not the store's).
  Result<std::map<std::string, std::string>> settings();
  // Stores `value` as setting `name` and appends an audit entry naming the setting (never its
  // value, which may be personal data), in one transaction holding the community's data key (locked
  // on PostgreSQL): kNotFound when the community has no data key (never installed, or purged), so
  // nothing is written for a purged community. Does nothing, and audits nothing, when the stored
  // value is already `value`. The caller checks the name and value against the app's declaration.
  Result<void> put_setting(std::string_view name, std::string_view value);

  // ---- Inbox
  // Stores a webhook event durably before returning (group commit): kDuplicate when the
  // community already has this dedupe key; kNotFound when the community has no data key (never
  // installed, or purged), so nothing can be stored for it.
  Result<InsertOutcome> insert_inbox_event(InboxEventInput event);
  // Returns how many events of this community wait and how many are dead letters (payloads stay
  // sealed); zeros when it has none.
  Result<InboxCounts> inbox_counts();
  // Returns the community's dead letters, payloads opened, oldest first.
  Result<std::vector<DeadLetter>> dead_letters();
  // Puts dead letter `dead_letter_id` back into the inbox with a fresh attempt count: kNotFound
  // when this community has no such dead letter.
  Result<void> replay_dead_letter(std::int64_t dead_letter_id);

  // ---- Identities (app-scoped users)
  // Records or updates a user; an existing link to an account is kept.
  Result<Identity> put_identity(std::string_view user_id, std::string_view email);
  // Returns a user: kNotFound when unknown in this community.
  Result<Identity> identity(std::string_view user_id);
  // Links a user to a vendor account: kNotFound when the user or the account is unknown.
  Result<Identity> link_identity(std::string_view user_id, AccountId account);
  // Returns the vendor account `user_id` is linked to, or nullopt when the user is unknown or not
  // linked (an account deleted since is no link).
  Result<std::optional<Account>> linked_account(std::string_view user_id);
  // Removes the user's link to a vendor account, auditing it ("account_unlinked"); returns
  // whether there was one.
  Result<bool> unlink_identity(std::string_view user_id);

  // ---- Account links (docs/identities.md): single-use tokens a person confirms with the vendor's sign-in
  // Records the person's identity (as put_identity does: a link is kept) and returns a fresh
  // token for the person alone, usable once within `lifetime`; only its SHA-256 is stored. One
  // transaction holding the community's data key (locked on PostgreSQL): kNotFound when the
  // community is not installed (or its data was purged). Deletes the community's expired tokens.
  Result<Secret> create_account_link(const AccountLinkInput& person, std::chrono::seconds lifetime);
  // Returns what `token` stands for, in this community only: kNotFound when it is unknown here
  // (a token of another community included), kConflict when it was used, kExpired when too old,
  // kPermissionDenied when the app is no longer installed in the community.
  Result<AccountLinkOffer> find_account_link(const Secret& token);
  // Uses up `token` and links its person to `account`, atomically: of several callers (threads,
  // replicas sharing the database) one at most succeeds. Errors as find_account_link, plus
  // kUnauthenticated when the account no longer exists; after any error nothing has changed and
  // the token is as it was. Audited as "account_linked" with the account id.
  Result<Identity> redeem_account_link(const Secret& token, AccountId account);

  // ---- Application tables
  // Runs `work` in one transaction over this community's rows of the application's own tables,
  // holding the community's data key (locked on PostgreSQL) so a purge cannot run between the
  // check and the commit: kNotFound when the community has no data key (never installed, or
  // purged), so no application row is ever written for a purged community. `work` must keep to
  // this community's rows (the app::CommunityData wrapper binds the community id to every statement).
  Result<void> transact_app(const std::function<Result<void>(Transaction&)>& work);

  // ---- Purge and audit
  // Requests the purge of every row of this community, due by `deadline`; returns the
  // community's unfinished job when it already has one (a replayed deauthorization is harmless).
  Result<PurgeJob> request_purge(TimePoint deadline);
  // Appends an audit entry for this community. `action` and `detail` must hold no personal data.
  Result<void> record_audit(std::string_view action, std::string_view detail);

 private:
  friend class Store;
  CommunityScope(Store& store, CommunityId community_id) : store_(&store), community_id_(std::move(community_id)) {}
  // The statements of revoke_installation(), request_purge() and uninstall() within `tx`; `before`
  // in milliseconds (no limit: the largest value). revoke_in returns kNotFound and kConflict as
  // revoke_installation() does.
  Result<void> revoke_in(Transaction& tx, std::int64_t before);
  Result<PurgeJob> request_purge_in(Transaction& tx, TimePoint deadline);
  // Returns ok when the community's install is active and it has its data key (locked on
  // PostgreSQL when `for_write`, so a purge waits for `tx`): kPermissionDenied otherwise.
  Result<void> check_installed(Transaction& tx, bool for_write);

  Store* store_;
  CommunityId community_id_;
};

}  // namespace wik::store
