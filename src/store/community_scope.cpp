#include "store/community_scope.h"

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

}  // namespace

// ---- Installation

Result<Installation> CommunityScope::put_installation(InstallationInput input) {
  const std::int64_t now = store_->now_ms();
  Result<void> stored = store_->database_->transact([&](Transaction& tx) -> Result<void> {
    Result<Secret> key = store_->ensure_data_key(tx, community_id_);
    if (!key) return key.error();
    const std::string sealed =
        seal_with_data_key(*key, SealPurpose::kAccessToken, community_id_, input.access_token.expose());
    const std::optional<std::int64_t> installed_by = input.installed_by;
    Result<std::int64_t> upserted = tx.execute(
        "INSERT INTO installations (community_id, community_name, access_token_sealed, permissions, installed_by, "
        "state, installed_at, updated_at) VALUES ($1, $2, $3, $4, $5, 'active', $6, $6) "
        "ON CONFLICT (community_id) DO UPDATE SET community_name = excluded.community_name, "
        "access_token_sealed = excluded.access_token_sealed, permissions = excluded.permissions, "
        "installed_by = excluded.installed_by, state = 'active', installed_at = excluded.installed_at, "
        "updated_at = excluded.updated_at",
        {community_id_, input.community_name, sealed, join_words(input.permissions),
         installed_by ? SqlValue(*installed_by) : SqlValue(nullptr), now});
    if (!upserted) return upserted.error();
    return store_->append_audit(tx, community_id_, "installed", "");
  });
  if (!stored) return stored.error();
  return Installation{.community_id = community_id_,
                      .community_name = std::move(input.community_name),
                      .access_token = std::move(input.access_token),
                      .permissions = std::move(input.permissions),
                      .installed_by = input.installed_by,
                      .state = InstallState::kActive,
                      .installed_at = from_ms(now),
                      .updated_at = from_ms(now)};
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
  return store_->database_->transact([&](Transaction& tx) -> Result<void> {
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
        {rows->front().integer(0), community_id_, rows->front().text(1), store_->now_ms()});
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

// ---- Purge and audit

Result<PurgeJob> CommunityScope::request_purge(TimePoint deadline) {
  return transact_value(*store_->database_, [&](Transaction& tx) -> Result<PurgeJob> {
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
  });
}

Result<void> CommunityScope::record_audit(std::string_view action, std::string_view detail) {
  return store_->database_->transact(
      [&](Transaction& tx) { return store_->append_audit(tx, community_id_, action, detail); });
}

}  // namespace wik::store
