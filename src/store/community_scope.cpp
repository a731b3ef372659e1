#include "store/community_scope.h"

#include "core/ascii.h"
#include "core/hex.h"
#include "core/hmac.h"
#include "core/secure_random.h"
#include "core/utf8.h"
#include "store/data_keys.h"
#include "store/store.h"
#include "store/time_codec.h"
#include "store/text_codec.h"

#include <limits>

namespace wik::store {
namespace {

// A community's name as the platform gives it, fit to keep: 1-255 bytes of well-formed UTF-8
// without control characters.
bool is_community_name(std::string_view name) {
  return !name.empty() && name.size() <= 255 && core::utf8_length(name).has_value() &&
         !core::has_control_character(name);
}

Identity identity_from(const Row& row, const CommunityId& community_id) {
  return Identity{.community_id = community_id,
                  .user_id = row.text(0),
                  .email = row.text(1),
                  .account_id = row.optional_integer(2),
                  .updated_at = from_ms(row.integer(3))};
}

constexpr std::string_view kIdentityColumns = "user_id, email, account_id, updated_at";

// Returns the account `condition` (on one parameter, $1 = `value`) finds, or nullopt.
Result<std::optional<Account>> account_where(Transaction& tx, std::string_view condition, SqlValue value) {
  Result<Rows> rows =
      tx.query("SELECT id, email, role, created_at FROM accounts WHERE " + std::string(condition), {std::move(value)});
  if (!rows) return rows.error();
  if (rows->empty()) return std::optional<Account>();
  const Row& row = rows->front();
  return std::optional<Account>(
      Account{.id = row.integer(0), .email = row.text(1), .role = row.text(2), .created_at = from_ms(row.integer(3))});
}

std::string token_hash(const Secret& token) { return core::to_hex(core::sha256(token.expose())); }

// Returns why the token `hash` of `community_id` cannot be used now: kNotFound when this community
// has no such token, kConflict when it was used, kExpired when too old.
Error unusable_token(Transaction& tx, const CommunityId& community_id, const std::string& hash, std::int64_t now) {
  Result<Rows> rows = tx.query(
      "SELECT used_at, expires_at FROM account_link_tokens WHERE token_hash = $1 AND community_id = $2",
      {hash, community_id});
  if (!rows) return rows.error();
  if (rows->empty()) return Error(ErrorCode::kNotFound, "unknown account link");
  if (rows->front().optional_integer(0)) return Error(ErrorCode::kConflict, "the account link was used already");
  if (rows->front().integer(1) <= now) return Error(ErrorCode::kExpired, "the account link expired");
  return Error(ErrorCode::kInternal, "a usable account link was refused");
}

}  // namespace

// ---- Installation

Result<Installation> CommunityScope::put_installation(InstallationInput input) {
  // Rounds of "run the open purges, then install unless another was requested meanwhile".
  constexpr int kRounds = 4;
  for (int round = 0; round < kRounds; ++round) {
    const std::int64_t now = store_->now_ms();
    // The open purge jobs found; empty when the installation was stored.
    Result<std::vector<std::int64_t>> open_purges =
        transact_value(*store_->database_, [&](Transaction& tx) -> Result<std::vector<std::int64_t>> {
          if (Result<void> locked = store_->lock_install_changes(tx, community_id_); !locked) return locked.error();
          Result<Rows> jobs = tx.query("SELECT id FROM purge_jobs WHERE community_id = $1 ORDER BY id", {community_id_});
          if (!jobs) return jobs.error();
          std::vector<std::int64_t> ids;
          for (const Row& job : *jobs) ids.push_back(job.integer(0));
          if (!ids.empty()) return ids;
          Result<Secret> key = store_->ensure_data_key(tx, community_id_);
          if (!key) return key.error();
          const std::string sealed =
              seal_with_data_key(*key, SealPurpose::kAccessToken, community_id_, input.access_token.expose());
          const std::optional<std::int64_t> installed_by = input.installed_by;
          Result<std::int64_t> upserted = tx.execute(
              "INSERT INTO installations (community_id, community_name, access_token_sealed, permissions, "
              "installed_by, state, installed_at, updated_at) VALUES ($1, $2, $3, $4, $5, 'active', $6, $6) "
              "ON CONFLICT (community_id) DO UPDATE SET community_name = excluded.community_name, "
              "access_token_sealed = excluded.access_token_sealed, permissions = excluded.permissions, "
              "installed_by = excluded.installed_by, state = 'active', installed_at = excluded.installed_at, "
              "updated_at = excluded.updated_at",
              {community_id_, input.community_name, sealed, join_words(input.permissions),
               installed_by ? SqlValue(*installed_by) : SqlValue(nullptr), now});
          if (!upserted) return upserted.error();
          if (Result<void> audited = store_->append_audit(tx, community_id_, "installed", ""); !audited) {
            return audited.error();
          }
          return ids;
        });
    if (!open_purges) return open_purges.error();
    if (open_purges->empty()) {
      return Installation{.community_id = community_id_,
                          .community_name = std::move(input.community_name),
                          .access_token = std::move(input.access_token),
                          .permissions = std::move(input.permissions),
                          .installed_by = input.installed_by,
                          .state = InstallState::kActive,
                          .installed_at = from_ms(now),
                          .updated_at = from_ms(now)};
    }
    for (const std::int64_t job : *open_purges) {
      if (Result<PurgeJob> purged = store_->run_purge_job(job); !purged) return purged.error();
    }
  }
  return Error(ErrorCode::kConflict, "the community's purge was requested again each time it finished");
}

Result<InstallState> CommunityScope::install_state() {
  return transact_value(*store_->database_, [&](Transaction& tx) -> Result<InstallState> {
    Result<Rows> rows = tx.query("SELECT state FROM installations WHERE community_id = $1", {community_id_});
    if (!rows) return rows.error();
    if (rows->empty()) return Error(ErrorCode::kNotFound, "the community is not installed");
    return install_state_from(rows->front().text(0));
  });
}

Result<Installation> CommunityScope::installation() {
  return transact_value(*store_->database_, [&](Transaction& tx) -> Result<Installation> {
    Result<Rows> rows = tx.query(
        "SELECT community_name, access_token_sealed, permissions, installed_by, state, installed_at, updated_at "
        "FROM installations WHERE community_id = $1",
        {community_id_});
    if (!rows) return rows.error();
    if (rows->empty()) return Error(ErrorCode::kNotFound, "the community is not installed");
    const Row& row = rows->front();
    Installation out{.community_id = community_id_,
                     .community_name = row.text(0),
                     .access_token = {},
                     .permissions = split_words(row.text(2)),
                     .installed_by = row.optional_integer(3),
                     .state = install_state_from(row.text(4)),
                     .installed_at = from_ms(row.integer(5)),
                     .updated_at = from_ms(row.integer(6))};
    if (out.state == InstallState::kActive) {
      Result<std::optional<Secret>> key = store_->find_data_key(tx, community_id_, false);
      if (!key) return key.error();
      if (!*key) return Error(ErrorCode::kNotFound, "the community is being purged");
      Result<Secret> token = open_with_data_key(**key, SealPurpose::kAccessToken, community_id_, row.text(1));
      if (!token) return token.error().with_context("access token");
      out.access_token = AccessToken(std::string(token->expose()));
    }
    return out;
  });
}

Result<void> CommunityScope::revoke_installation(std::optional<TimePoint> installed_before) {
  const std::int64_t before =
      installed_before ? to_ms(*installed_before) : std::numeric_limits<std::int64_t>::max();
  return store_->database_->transact([&](Transaction& tx) { return revoke_in(tx, before); });
}

Result<void> CommunityScope::revoke_in(Transaction& tx, std::int64_t before) {
  Result<std::int64_t> updated = tx.execute(
      "UPDATE installations SET state = 'revoked', access_token_sealed = '', updated_at = $2 "
      "WHERE community_id = $1 AND installed_at < $3",
      {community_id_, store_->now_ms(), before});
  if (!updated) return updated.error();
  if (*updated == 0) {
    Result<Rows> current = tx.query("SELECT 1 FROM installations WHERE community_id = $1", {community_id_});
    if (!current) return current.error();
    if (current->empty()) return Error(ErrorCode::kNotFound, "the community is not installed");
    return Error(ErrorCode::kConflict, "the community was installed again after the uninstall");
  }
  return store_->append_audit(tx, community_id_, "revoked", "");
}

Result<Uninstalled> CommunityScope::uninstall(std::string_view noticed_by, TimePoint purge_deadline,
                                              std::optional<TimePoint> installed_before) {
  const std::int64_t before =
      installed_before ? to_ms(*installed_before) : std::numeric_limits<std::int64_t>::max();
  return transact_value(*store_->database_, [&](Transaction& tx) -> Result<Uninstalled> {
    if (Result<void> locked = store_->lock_install_changes(tx, community_id_); !locked) return locked.error();
    Result<Rows> current =
        tx.query("SELECT state, installed_at FROM installations WHERE community_id = $1", {community_id_});
    if (!current) return current.error();
    Uninstalled out;
    if (!current->empty()) {
      const Row& installation = current->front();
      if (installation.integer(1) >= before) {
        return Error(ErrorCode::kConflict, "the community was installed again after the uninstall");
      }
      out.revoked = install_state_from(installation.text(0)) == InstallState::kActive;
    }
    if (out.revoked) {
      if (Result<void> audited = store_->append_audit(tx, community_id_, "uninstall_noticed", noticed_by); !audited) {
        return audited.error();
      }
      if (Result<void> revoked = revoke_in(tx, before); !revoked) return revoked.error();
    }
    Result<PurgeJob> purge = request_purge_in(tx, purge_deadline);
    if (!purge) return purge.error();
    out.purge = std::move(*purge);
    return out;
  });
}

Result<InstallationSummary> CommunityScope::installation_summary() {
  return transact_value(*store_->database_, [&](Transaction& tx) -> Result<InstallationSummary> {
    Result<std::vector<InstallationSummary>> found = store_->installation_summaries(tx, community_id_);
    if (!found) return found.error();
    if (found->empty()) return Error(ErrorCode::kNotFound, "the community is not installed");
    return std::move(found->front());
  });
}

// ---- Health

Result<void> CommunityScope::record_token_valid(std::optional<std::string_view> community_name) {
  if (community_name && !is_community_name(*community_name)) {
    return Error(ErrorCode::kInvalidArgument, "the community's name is not 1-255 bytes of UTF-8 without control characters");
  }
  const std::int64_t now = store_->now_ms();
  return store_->database_->transact([&](Transaction& tx) -> Result<void> {
    if (community_name) {
      Result<std::int64_t> renamed = tx.execute(
          "UPDATE installations SET community_name = $2, updated_at = $3 "
          "WHERE community_id = $1 AND state = 'active' AND community_name <> $2",
          {community_id_, *community_name, now});
      if (!renamed) return renamed.error();
      if (*renamed > 0) {
        if (auto audited = store_->append_audit(tx, community_id_, "community_renamed", ""); !audited) return audited;
      }
    }
    return store_->record_health(tx, community_id_, {.last_graph_ok_at = now, .token_checked_at = now});
  });
}

Result<void> CommunityScope::record_graph_error(std::string_view reason) {
  const std::int64_t now = store_->now_ms();
  return store_->database_->transact([&](Transaction& tx) {
    return store_->record_health(tx, community_id_, {.last_graph_error = reason, .last_graph_error_at = now});
  });
}

// ---- Settings

Result<std::map<std::string, std::string>> CommunityScope::settings() {
  return transact_value(*store_->database_, [&](Transaction& tx) -> Result<std::map<std::string, std::string>> {
    Result<Rows> rows =
        tx.query("SELECT name, value FROM community_settings WHERE community_id = $1 ORDER BY name", {community_id_});
    if (!rows) return rows.error();
    std::map<std::string, std::string> out;
    for (const Row& row : *rows) out.emplace(row.text(0), row.text(1));
    return out;
  });
}

Result<void> CommunityScope::put_setting(std::string_view name, std::string_view value) {
  return store_->database_->transact([&](Transaction& tx) -> Result<void> {
    Result<std::optional<Secret>> key = store_->find_data_key(tx, community_id_, true);
    if (!key) return key.error();
    if (!*key) return Error(ErrorCode::kNotFound, "the community is not installed (or its data was purged)");
    Result<Rows> current =
        tx.query("SELECT value FROM community_settings WHERE community_id = $1 AND name = $2", {community_id_, name});
    if (!current) return current.error();
    if (!current->empty() && current->front().text(0) == value) return ok_result();
    Result<std::int64_t> upserted = tx.execute(
        "INSERT INTO community_settings (community_id, name, value, updated_at) VALUES ($1, $2, $3, $4) "
        "ON CONFLICT (community_id, name) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
        {community_id_, name, value, store_->now_ms()});
    if (!upserted) return upserted.error();
    return store_->append_audit(tx, community_id_, "setting_changed", name);
  });
}

// ---- Inbox

Result<InsertOutcome> CommunityScope::insert_inbox_event(InboxEventInput event) {
  return store_->insert_inbox_event(community_id_, std::move(event));
}

Result<InboxCounts> CommunityScope::inbox_counts() {
  return transact_value(*store_->database_, [&](Transaction& tx) -> Result<InboxCounts> {
    Result<Rows> rows = tx.query(
        "SELECT (SELECT COUNT(*) FROM inbox WHERE community_id = $1 AND state = 'pending'), "
        "(SELECT COUNT(*) FROM dead_letters WHERE community_id = $1)",
        {community_id_});
    if (!rows) return rows.error();
    return InboxCounts{
        .community_id = community_id_, .pending = rows->front().integer(0), .dead_letters = rows->front().integer(1)};
  });
}

Result<std::vector<DeadLetter>> CommunityScope::dead_letters() {
  return transact_value(*store_->database_, [&](Transaction& tx) -> Result<std::vector<DeadLetter>> {
    Result<Rows> rows = tx.query(
        "SELECT id, inbox_id, topic, payload_sealed, attempts, last_error, failed_at FROM dead_letters "
        "WHERE community_id = $1 ORDER BY id",
        {community_id_});
    if (!rows) return rows.error();
    std::vector<DeadLetter> out;
    if (rows->empty()) return out;
    Result<std::optional<Secret>> key = store_->find_data_key(tx, community_id_, false);
    if (!key) return key.error();
    if (!*key) return Error(ErrorCode::kNotFound, "the community is being purged");
    for (const Row& row : *rows) {
      Result<Secret> payload = open_with_data_key(**key, SealPurpose::kWebhookPayload, community_id_, row.text(3));
      if (!payload) return payload.error().with_context("dead letter payload");
      out.push_back({.id = row.integer(0),
                     .community_id = community_id_,
                     .inbox_id = row.integer(1),
                     .topic = row.text(2),
                     .payload = std::string(payload->expose()),
                     .attempts = row.integer(4),
                     .last_error = row.text(5),
                     .failed_at = from_ms(row.integer(6))});
    }
    return out;
  });
}

Result<void> CommunityScope::replay_dead_letter(std::int64_t dead_letter_id) {
  return store_->database_->transact([&](Transaction& tx) -> Result<void> {
    Result<Rows> rows = tx.query(
        "DELETE FROM dead_letters WHERE id = $1 AND community_id = $2 RETURNING inbox_id, payload_sealed",
        {dead_letter_id, community_id_});
    if (!rows) return rows.error();
    if (rows->empty()) return Error(ErrorCode::kNotFound, "no such dead letter in this community");
    Result<std::int64_t> requeued = tx.execute(
        "UPDATE inbox SET state = 'pending', payload_sealed = $3, attempts = 0, next_attempt_at = $4, "
        "last_error = '' WHERE id = $1 AND community_id = $2",
        {rows->front().integer(0), community_id_, rows->front().text(1), store_->queue_now_ms()});
    if (!requeued) return requeued.error();
    if (*requeued == 0) return Error(ErrorCode::kNotFound, "the dead letter's inbox event is gone");
    return ok_result();
  });
}

// ---- Application tables

Result<void> CommunityScope::transact_app(const std::function<Result<void>(Transaction&)>& work) {
  return store_->database_->transact([&](Transaction& tx) -> Result<void> {
    Result<std::optional<Secret>> key = store_->find_data_key(tx, community_id_, true);
    if (!key) return key.error();
    if (!*key) return Error(ErrorCode::kNotFound, "the community is not installed (or its data was purged)");
    return work(tx);
  });
}

// ---- Identities

Result<Identity> CommunityScope::put_identity(std::string_view user_id, std::string_view email) {
  return transact_value(*store_->database_, [&](Transaction& tx) -> Result<Identity> {
    Result<Rows> rows = tx.query(
        "INSERT INTO identities (community_id, user_id, email, updated_at) VALUES ($1, $2, $3, $4) "
        "ON CONFLICT (community_id, user_id) DO UPDATE SET email = excluded.email, updated_at = excluded.updated_at "
        "RETURNING " + std::string(kIdentityColumns),
        {community_id_, user_id, email, store_->now_ms()});
    if (!rows) return rows.error();
    return identity_from(rows->front(), community_id_);
  });
}

Result<Identity> CommunityScope::identity(std::string_view user_id) {
  return transact_value(*store_->database_, [&](Transaction& tx) -> Result<Identity> {
    Result<Rows> rows = tx.query(
        "SELECT " + std::string(kIdentityColumns) + " FROM identities WHERE community_id = $1 AND user_id = $2",
        {community_id_, user_id});
    if (!rows) return rows.error();
    if (rows->empty()) return Error(ErrorCode::kNotFound, "no such user in this community");
    return identity_from(rows->front(), community_id_);
  });
}

Result<Identity> CommunityScope::link_identity(std::string_view user_id, AccountId account) {
  return transact_value(*store_->database_, [&](Transaction& tx) -> Result<Identity> {
    Result<Rows> found = tx.query("SELECT id FROM accounts WHERE id = $1", {account});
    if (!found) return found.error();
    if (found->empty()) return Error(ErrorCode::kNotFound, "no such account");
    Result<Rows> rows = tx.query(
        "UPDATE identities SET account_id = $3, updated_at = $4 WHERE community_id = $1 AND user_id = $2 "
        "RETURNING " + std::string(kIdentityColumns),
        {community_id_, user_id, account, store_->now_ms()});
    if (!rows) return rows.error();
    if (rows->empty()) return Error(ErrorCode::kNotFound, "no such user in this community");
    return identity_from(rows->front(), community_id_);
  });
}

Result<std::optional<Account>> CommunityScope::linked_account(std::string_view user_id) {
  return transact_value(*store_->database_, [&](Transaction& tx) -> Result<std::optional<Account>> {
    Result<Rows> rows = tx.query(
        "SELECT a.id, a.email, a.role, a.created_at FROM identities i JOIN accounts a ON a.id = i.account_id "
        "WHERE i.community_id = $1 AND i.user_id = $2",
        {community_id_, user_id});
    if (!rows) return rows.error();
    if (rows->empty()) return std::optional<Account>();
    const Row& row = rows->front();
    return std::optional<Account>(Account{
        .id = row.integer(0), .email = row.text(1), .role = row.text(2), .created_at = from_ms(row.integer(3))});
  });
}

Result<bool> CommunityScope::unlink_identity(std::string_view user_id) {
  return transact_value(*store_->database_, [&](Transaction& tx) -> Result<bool> {
    Result<std::int64_t> updated = tx.execute(
        "UPDATE identities SET account_id = NULL, updated_at = $3 "
        "WHERE community_id = $1 AND user_id = $2 AND account_id IS NOT NULL",
        {community_id_, user_id, store_->now_ms()});
    if (!updated) return updated.error();
    if (*updated == 0) return false;
    if (Result<void> audited = store_->append_audit(tx, community_id_, "account_unlinked", ""); !audited) {
      return audited.error();
    }
    return true;
  });
}

// ---- Account links

Result<void> CommunityScope::check_installed(Transaction& tx, bool for_write) {
  Result<std::optional<Secret>> key = store_->find_data_key(tx, community_id_, for_write);
  if (!key) return key.error();
  Result<bool> active = store_->installation_active(tx, community_id_);
  if (!active) return active.error();
  if (!*key || !*active) {
    return Error(ErrorCode::kPermissionDenied, "the app is no longer installed in this community");
  }
  return ok_result();
}

Result<Secret> CommunityScope::create_account_link(const AccountLinkInput& person, std::chrono::seconds lifetime) {
  Secret token(core::secure_random_token(32));
  const std::int64_t now = store_->now_ms();
  const std::int64_t expires = now + std::chrono::duration_cast<std::chrono::milliseconds>(lifetime).count();
  Result<void> created = store_->database_->transact([&](Transaction& tx) -> Result<void> {
    if (Result<void> installed = check_installed(tx, true); !installed) {
      if (installed.error().code() != ErrorCode::kPermissionDenied) return installed.error();
      return Error(ErrorCode::kNotFound, "the community is not installed (or its data was purged)");
    }
    Result<std::int64_t> identity = tx.execute(
        "INSERT INTO identities (community_id, user_id, email, updated_at) VALUES ($1, $2, $3, $4) "
        "ON CONFLICT (community_id, user_id) DO UPDATE SET email = excluded.email, updated_at = excluded.updated_at",
        {community_id_, person.user_id, person.email, now});
    if (!identity) return identity.error();
    Result<std::int64_t> pruned = tx.execute(
        "DELETE FROM account_link_tokens WHERE community_id = $1 AND expires_at <= $2", {community_id_, now});
    if (!pruned) return pruned.error();
    Result<std::int64_t> inserted = tx.execute(
        "INSERT INTO account_link_tokens (token_hash, community_id, user_id, person_name, created_at, expires_at) "
        "VALUES ($1, $2, $3, $4, $5, $6)",
        {token_hash(token), community_id_, person.user_id, person.person_name, now, expires});
    if (!inserted) return inserted.error();
    return ok_result();
  });
  if (!created) return created.error();
  return token;
}

Result<AccountLinkOffer> CommunityScope::find_account_link(const Secret& token) {
  const std::string hash = token_hash(token);
  return transact_value(*store_->database_, [&](Transaction& tx) -> Result<AccountLinkOffer> {
    const std::int64_t now = store_->now_ms();
    Result<Rows> rows = tx.query(
        "SELECT t.user_id, t.person_name, t.expires_at, i.email, i.account_id FROM account_link_tokens t "
        "JOIN identities i ON i.community_id = t.community_id AND i.user_id = t.user_id "
        "WHERE t.token_hash = $1 AND t.community_id = $2 AND t.used_at IS NULL AND t.expires_at > $3",
        {hash, community_id_, now});
    if (!rows) return rows.error();
    if (rows->empty()) return unusable_token(tx, community_id_, hash, now);
    if (Result<void> installed = check_installed(tx, false); !installed) return installed.error();
    Result<Rows> name = tx.query("SELECT community_name FROM installations WHERE community_id = $1", {community_id_});
    if (!name) return name.error();
    const Row& row = rows->front();
    AccountLinkOffer offer{.community_id = community_id_,
                           .community_name = name->empty() ? community_id_ : name->front().text(0),
                           .user_id = row.text(0),
                           .person_name = row.text(1),
                           .email = row.text(3),
                           .linked_account = {},
                           .same_email_account = {},
                           .expires_at = from_ms(row.integer(2))};
    if (const std::optional<std::int64_t> linked = row.optional_integer(4)) {
      Result<std::optional<Account>> account = account_where(tx, "id = $1", *linked);
      if (!account) return account.error();
      offer.linked_account = std::move(*account);
    }
    if (!offer.email.empty()) {
      Result<std::optional<Account>> account = account_where(tx, "email = $1", core::ascii_lower(offer.email));
      if (!account) return account.error();
      offer.same_email_account = std::move(*account);
    }
    return offer;
  });
}

Result<Identity> CommunityScope::redeem_account_link(const Secret& token, AccountId account) {
  const std::string hash = token_hash(token);
  return transact_value(*store_->database_, [&](Transaction& tx) -> Result<Identity> {
    const std::int64_t now = store_->now_ms();
    if (Result<void> installed = check_installed(tx, true); !installed) return installed.error();
    // The conditional update is the single use: a concurrent redeemer waits for this row (PostgreSQL)
    // or for the write lock (SQLite), then finds it used.
    Result<Rows> taken = tx.query(
        "UPDATE account_link_tokens SET used_at = $3 "
        "WHERE token_hash = $1 AND community_id = $2 AND used_at IS NULL AND expires_at > $3 RETURNING user_id",
        {hash, community_id_, now});
    if (!taken) return taken.error();
    if (taken->empty()) return unusable_token(tx, community_id_, hash, now);
    Result<Rows> found = tx.query("SELECT id FROM accounts WHERE id = $1", {account});
    if (!found) return found.error();
    if (found->empty()) return Error(ErrorCode::kUnauthenticated, "the account no longer exists");
    Result<Rows> linked = tx.query(
        "UPDATE identities SET account_id = $3, updated_at = $4 WHERE community_id = $1 AND user_id = $2 "
        "RETURNING " + std::string(kIdentityColumns),
        {community_id_, taken->front().text(0), account, now});
    if (!linked) return linked.error();
    if (linked->empty()) return Error(ErrorCode::kNotFound, "unknown account link");
    if (Result<void> audited =
            store_->append_audit(tx, community_id_, "account_linked", "account=" + std::to_string(account));
        !audited) {
      return audited.error();
    }
    return identity_from(linked->front(), community_id_);
  });
}

// ---- Purge and audit

Result<PurgeJob> CommunityScope::request_purge(TimePoint deadline) {
  return transact_value(*store_->database_, [&](Transaction& tx) -> Result<PurgeJob> {
    if (Result<void> locked = store_->lock_install_changes(tx, community_id_); !locked) return locked.error();
    return request_purge_in(tx, deadline);
  });
}

Result<PurgeJob> CommunityScope::request_purge_in(Transaction& tx, TimePoint deadline) {
  Result<Rows> open_jobs = tx.query(
      "SELECT id FROM purge_jobs WHERE community_id = $1 AND state <> 'done' ORDER BY id", {community_id_});
  if (!open_jobs) return open_jobs.error();
  if (!open_jobs->empty()) return store_->load_purge_job(tx, open_jobs->front().integer(0));
  Result<Rows> created = tx.query(
      "INSERT INTO purge_jobs (community_id, community_ref, state, requested_at, deadline) "
      "VALUES ($1, $2, 'pending', $3, $4) RETURNING id",
      {community_id_, store_->ref_of(community_id_), store_->now_ms(), to_ms(deadline)});
  if (!created) return created.error();
  if (Result<void> audited = store_->append_audit(tx, community_id_, "purge_requested", ""); !audited) {
    return audited.error();
  }
  return store_->load_purge_job(tx, created->front().integer(0));
}

Result<void> CommunityScope::record_audit(std::string_view action, std::string_view detail) {
  return store_->database_->transact(
      [&](Transaction& tx) { return store_->append_audit(tx, community_id_, action, detail); });
}

}  // namespace wik::store
