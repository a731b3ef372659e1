#include "store/store.h"

#include "core/ascii.h"
#include "core/hex.h"
#include "core/hmac.h"
#include "core/sealed_box.h"
#include "core/secure_random.h"
#include "store/data_keys.h"
#include "store/group_commit.h"
#include "store/migrations.h"
#include "store/time_codec.h"
#include "store/text_codec.h"

#include <algorithm>
#include <array>
#include <bit>
#include <iterator>
#include <map>
#include <set>
#include <utility>

namespace wik::store {
namespace {

constexpr std::string_view kAuditKeyContext = "audit_key";
constexpr std::size_t kAuditKeySize = 32;
constexpr std::size_t kMaxCommunityIdSize = 64;

std::string_view to_text(PurgeState state) {
  switch (state) {
    case PurgeState::kPending: return "pending";
    case PurgeState::kRunning: return "running";
    case PurgeState::kDone: return "done";
  }
  fatal("unknown PurgeState");
}

PurgeState purge_state_from(std::string_view text) {
  if (text == "pending") return PurgeState::kPending;
  if (text == "running") return PurgeState::kRunning;
  if (text == "done") return PurgeState::kDone;
  fatal("purge_jobs holds an unknown state");
}

std::string hash_hex(std::string_view value) { return core::to_hex(core::sha256(value)); }

// Returns the account of a row whose first columns are id, email, role, created_at.
Account account_of(const Row& row) {
  return Account{
      .id = row.integer(0), .email = row.text(1), .role = row.text(2), .created_at = from_ms(row.integer(3))};
}

bool is_valid_community_id(std::string_view id) {
  return !id.empty() && id.size() <= kMaxCommunityIdSize &&
         std::all_of(id.begin(), id.end(), [](char c) { return c > ' ' && c < 127; });
}

// Statements whose text grows with the rows or ids they carry are only built in power-of-two
// sizes, so that an engine's statement cache (and each PostgreSQL session's prepared statements)
// holds a few of each shape rather than one per batch size ever seen: with every size from 1 to
// 500, SQLite's cached statements grew by megabytes whenever a burst brought sizes not seen
// before (docs/storage.md).

// Inbox rows one INSERT statement writes at most: a group commit of more uses several statements.
constexpr std::size_t kInboxRowsPerStatement = 64;
// Ids one statement names at most (well under SQLite's and libpq's parameter limits).
constexpr std::size_t kIdsPerStatement = 512;
static_assert(std::has_single_bit(kInboxRowsPerStatement) && std::has_single_bit(kIdsPerStatement));

// Returns how many of `remaining` rows the next statement carries: the largest power of two that
// is at most both `remaining` (> 0) and `most` (a power of two).
std::size_t next_statement_rows(std::size_t remaining, std::size_t most) {
  return std::bit_floor(std::min(remaining, most));
}

// Returns "$first, $first+1, …", `count` parameters.
std::string parameter_list(std::size_t first, std::size_t count) {
  std::string list;
  for (std::size_t i = 0; i < count; ++i) list += (i == 0 ? "$" : ", $") + std::to_string(first + i);
  return list;
}

// Appends `ids` (1 to kIdsPerStatement of them) to `params`, repeating the last one up to the next
// power of two (an id an IN list names twice still matches its row once), and returns their
// parameter list, to be spliced into "id IN (…)".
std::string append_ids(std::vector<SqlValue>& params, std::span<const std::int64_t> ids) {
  const std::size_t first = params.size() + 1;
  const std::size_t count = std::bit_ceil(ids.size());
  params.insert(params.end(), ids.begin(), ids.end());
  params.insert(params.end(), count - ids.size(), ids.back());
  return parameter_list(first, count);
}

// Returns the INSERT of `rows` inbox events; parameters: $1 the time received, $2 the same time on
// the queue clock (when the events are due), then per row community id, topic, dedupe key and
// sealed payload. It returns the (community, dedupe key) of each row stored.
std::string inbox_insert_sql(std::size_t rows) {
  std::string sql =
      "INSERT INTO inbox (community_id, topic, dedupe_key, payload_sealed, received_at, state, attempts, "
      "next_attempt_at, last_error) VALUES ";
  for (std::size_t row = 0; row < rows; ++row) {
    const std::size_t p = 3 + row * 4;
    sql += (row == 0 ? "($" : ", ($") + std::to_string(p) + ", $" + std::to_string(p + 1) + ", $" +
           std::to_string(p + 2) + ", $" + std::to_string(p + 3) + ", $1, 'pending', 0, $2, '')";
  }
  return sql + " ON CONFLICT (community_id, dedupe_key) DO NOTHING RETURNING community_id, dedupe_key";
}

// The row-identity column an engine deletes batches by.
std::string_view row_identity(Dialect dialect) { return dialect == Dialect::kSqlite ? "rowid" : "ctid"; }

// Returns the statement deleting at most $2 rows of `table` that match `condition` (of $1).
std::string batch_delete_sql(Dialect dialect, std::string_view table, std::string_view condition) {
  const std::string t(table);
  const std::string c(condition);
  const std::string row(row_identity(dialect));
  if (dialect == Dialect::kSqlite) {
    return "DELETE FROM " + t + " WHERE " + row + " IN (SELECT " + row + " FROM " + t + " WHERE " + c + " LIMIT $2)";
  }
  return "DELETE FROM " + t + " WHERE " + row + " = ANY(ARRAY(SELECT " + row + " FROM " + t + " WHERE " + c +
         " LIMIT $2))";
}

// Advisory locks that serialise claimers of one queue across PostgreSQL sessions (SQLite's writer
// lock already does), so two claimers never read the same unleased rows.
constexpr std::int64_t kInboxClaimLock = 7394002;
constexpr std::int64_t kOutboxClaimLock = 7394003;
// The advisory lock under which every replica's pending-install calls take turns (PostgreSQL), so
// the capacity holds across replicas and expiry never races a take.
constexpr std::int64_t kPendingInstallLock = 7394004;

// The first key of the advisory locks under which a community's install and uninstall take turns
// (PostgreSQL; the second key is a hash of the community id).
constexpr const char* kInstallChangesLock = "SELECT pg_advisory_xact_lock(7394005, hashtext($1))";

// The columns pending_summary_of() reads, and the sealed token ('' in a tombstone) after them.
constexpr std::string_view kPendingColumns =
    "community_id, community_name, permissions, return_url, code_hash, deadline, tombstone_until, token_sealed";
constexpr std::size_t kPendingTokenColumn = 7;

PendingInstallSummary pending_summary_of(const Row& row) {
  return {.community_id = row.text(0),
          .community_name = row.text(1),
          .permissions = split_words(row.text(2)),
          .return_url = row.text(3),
          .code_hash = row.text(4),
          .deadline = from_ms(row.integer(5)),
          .tombstone_until = from_ms(row.integer(6))};
}

// Returns the pending install `rows` (of kPendingColumns) hold: kNotFound when none, kExpired for a
// tombstone.
Result<PendingInstallSummary> waiting_install(const Rows& rows) {
  if (rows.empty()) return Error(ErrorCode::kNotFound, "no install is waiting for confirmation");
  if (rows.front().text(kPendingTokenColumn).empty()) {
    return Error(ErrorCode::kExpired, "the time to confirm the install ran out");
  }
  return pending_summary_of(rows.front());
}

// Takes the claim's advisory lock (PostgreSQL), and keeps the planner from bitmap scans for the
// rest of the transaction: without fresh statistics (a backlog that arrived faster than
// autovacuum analyses it) it would read every pending row of a community through a bitmap and sort
// them, where the ordered index scan stops after the run's few rows. A claim that need not be
// durable commits without waiting for its WAL flush: lost in a database crash, it only leaves its
// rows unleased, and any later durable commit of this server (a completion) flushes it first.
Result<void> prepare_claim(Transaction& tx, Dialect dialect, std::int64_t lock, bool durable) {
  if (dialect != Dialect::kPostgres) return ok_result();
  Result<Rows> locked = tx.query(
      "SELECT pg_advisory_xact_lock($1), set_config('enable_bitmapscan', 'off', true), "
      "set_config('synchronous_commit', $2, true)",
      {lock, durable ? "on" : "off"});
  if (!locked) return locked.error();
  return ok_result();
}

// Returns the SELECT of the ids of `table` a claim may take, at most $3 of them, the lowest first.
// For each community with a data key, its $2 oldest rows (those matching `pending` when given) in
// id order, cut before the first one that is not due at $1 or still leased (both on the queue
// clock, Store::queue_now_ms): so a community's rows
// are only ever claimed as a run from its oldest, and not at all while that one waits. Each
// community costs an index probe of (community_id[, pending's columns], id), however long the queue.
// With `floors` (PostgreSQL), the communities named in $4 (a text[]) are read from the ids in $5
// (a bigint[], in the same order) on: see ClaimFloors.
std::string claimable_runs_sql(Dialect dialect, std::string_view table, std::string_view pending, bool floors) {
  const std::string t(table);
  std::string where = pending.empty() ? "" : " AND i." + std::string(pending);
  if (floors) where += " AND i.id >= COALESCE(f.first_id, 0)";
  const std::string oldest = " FROM " + t + " i WHERE i.community_id = c.community_id" + where + " ORDER BY i.id LIMIT $2";
  const std::string floors_join =
      floors ? " LEFT JOIN unnest($4::text[], $5::bigint[]) f (community_id, first_id) ON f.community_id = c.community_id"
             : "";
  const std::string runs =
      dialect == Dialect::kPostgres
          ? "FROM community_keys c" + floors_join +
                " CROSS JOIN LATERAL (SELECT i.id, i.community_id, i.next_attempt_at, i.lease_until" + oldest + ") e"
          : "FROM community_keys c JOIN " + t + " e ON e.id IN (SELECT i.id" + oldest + ")";
  return "WITH run AS (SELECT e.id, e.community_id, CASE WHEN e.next_attempt_at <= $1 AND "
         "(e.lease_until IS NULL OR e.lease_until <= $1) THEN 0 ELSE 1 END AS blocked " + runs +
         "), cut AS (SELECT id, MAX(blocked) OVER (PARTITION BY community_id ORDER BY id "
         "ROWS UNBOUNDED PRECEDING) AS blocked_so_far FROM run) "
         "SELECT id FROM cut WHERE blocked_so_far = 0 ORDER BY id LIMIT $3";
}

// One queue's claim (the inbox, the outbox).
struct ClaimQuery {
  std::string_view table;
  std::string_view pending;    // the condition of a row still queued; empty: every row is
  std::string_view lease;      // the SET assignments that lease a row, of $1 … $n
  std::string_view returning;  // the columns returned for each claimed row
  std::int64_t lock = 0;       // the advisory lock that serialises claimers (PostgreSQL)
  bool durable = true;         // whether the claim's commit waits for its WAL flush (PostgreSQL)
};

struct ClaimLimits {
  std::int64_t now = 0;  // on the queue clock
  std::int64_t per_community = 1;
  std::int64_t total = 0;
  const ClaimFloors::Floors* floors = nullptr;  // where communities' pending rows begin (PostgreSQL)
};

// Returns `values` as a PostgreSQL array literal of quoted elements, e.g. {"a","b"}.
template <class Range>
std::string array_literal(const Range& values) {
  std::string literal = "{";
  for (const auto& value : values) {
    if (literal.size() > 1) literal += ',';
    literal += '"';
    for (const char c : value) {
      if (c == '"' || c == '\\') literal += '\\';
      literal += c;
    }
    literal += '"';
  }
  return literal + "}";
}

// Returns `floors` as the two array literals of a claim's SELECT ($4 and $5): their communities,
// and their first ids in the same order.
std::pair<std::string, std::string> floor_arrays(const ClaimFloors::Floors& floors) {
  std::vector<std::string> communities;
  std::vector<std::string> first_ids;
  for (const auto& [community, first_id] : floors) {
    communities.push_back(community);
    first_ids.push_back(std::to_string(first_id));
  }
  return {array_literal(communities), array_literal(first_ids)};
}

// A queue whose claimed rows can be given back: its table, and the SET assignments that drop a
// row's claim.
struct ClaimedTable {
  std::string_view table;
  std::string_view released;
};

// Gives the row `id` of `queue` back, claimable again from `not_before` (on the queue clock), when
// `claim_token` still holds it; kConflict with `lost` otherwise.
Result<void> give_back_claimed(Database& database, const ClaimedTable& queue, std::int64_t id,
                               std::string_view claim_token, std::int64_t not_before, std::string_view lost) {
  return database.transact([&](Transaction& tx) -> Result<void> {
    Result<std::int64_t> given_back =
        tx.execute("UPDATE " + std::string(queue.table) + " SET next_attempt_at = $3, " + std::string(queue.released) +
                       " WHERE id = $1 AND claim_token = $2",
                   {id, claim_token, not_before});
    if (!given_back) return given_back.error();
    if (*given_back == 0) return Error(ErrorCode::kConflict, std::string(lost));
    return ok_result();
  });
}

// Claims the rows claimable_runs_sql picks: selects their ids, then leases them by id (a list of
// ids keeps either engine's planner on the primary key, whatever its statistics say). Returns
// the claimed rows' `returning` columns.
Result<Rows> claim_rows(Transaction& tx, Dialect dialect, const ClaimQuery& query,
                        std::span<const SqlValue> lease_values, const ClaimLimits& limits) {
  if (Result<void> prepared = prepare_claim(tx, dialect, query.lock, query.durable); !prepared) return prepared.error();
  const auto [floor_communities, floor_ids] =
      limits.floors != nullptr ? floor_arrays(*limits.floors) : std::pair<std::string, std::string>{};
  std::vector<SqlValue> select_params{limits.now, limits.per_community, limits.total};
  if (limits.floors != nullptr) select_params.insert(select_params.end(), {floor_communities, floor_ids});
  Result<Rows> ids = tx.query_values(
      claimable_runs_sql(dialect, query.table, query.pending, limits.floors != nullptr), select_params);
  if (!ids) return ids.error();
  // On PostgreSQL each leased row is checked again, in case a late completion committed since the
  // SELECT; SQLite's writer lock rules that out.
  const std::string recheck =
      dialect == Dialect::kPostgres && !query.pending.empty() ? " AND " + std::string(query.pending) : "";
  std::vector<std::int64_t> claimable;
  claimable.reserve(ids->size());
  for (const Row& row : *ids) claimable.push_back(row.integer(0));
  Rows claimed;
  for (std::size_t first = 0; first < claimable.size(); first += kIdsPerStatement) {
    const std::size_t count = std::min(kIdsPerStatement, claimable.size() - first);
    std::vector<SqlValue> params(lease_values.begin(), lease_values.end());
    const std::string id_list = append_ids(params, std::span(claimable).subspan(first, count));
    Result<Rows> leased = tx.query_values("UPDATE " + std::string(query.table) + " SET " + std::string(query.lease) +
                                              " WHERE id IN (" + id_list + ")" + recheck + " RETURNING " +
                                              std::string(query.returning),
                                          params);
    if (!leased) return leased.error();
    claimed.insert(claimed.end(), std::make_move_iterator(leased->begin()), std::make_move_iterator(leased->end()));
  }
  return claimed;
}

Result<Secret> load_or_create_audit_key(Database& database, const core::KeyRing& ring) {
  return transact_value(database, [&](Transaction& tx) -> Result<Secret> {
    const std::string fresh = core::seal(ring, core::secure_random_bytes(kAuditKeySize), kAuditKeyContext);
    Result<std::int64_t> inserted =
        tx.execute("INSERT INTO meta (name, value) VALUES ('audit_key', $1) ON CONFLICT (name) DO NOTHING", {fresh});
    if (!inserted) return inserted.error();
    Result<Rows> rows = tx.query("SELECT value FROM meta WHERE name = 'audit_key'");
    if (!rows) return rows.error();
    return core::open(ring, rows->at(0).text(0), kAuditKeyContext);
  });
}

// Returns how far the database server's clock is ahead of `clock`: on PostgreSQL, read from the
// server; 0 on SQLite, whose processes share the machine's clock.
Result<std::int64_t> database_clock_offset_ms(Database& database, const core::Clock& clock) {
  if (database.dialect() != Dialect::kPostgres) return std::int64_t{0};
  const std::int64_t before = to_ms(clock.now());
  Result<std::int64_t> server_now = transact_value(database, [](Transaction& tx) -> Result<std::int64_t> {
    Result<Rows> rows = tx.query("SELECT (extract(epoch FROM clock_timestamp()) * 1000)::bigint");
    if (!rows) return rows.error();
    return rows->at(0).integer(0);
  });
  if (!server_now) return server_now.error().with_context("database clock");
  const std::int64_t after = to_ms(clock.now());
  return *server_now - before / 2 - after / 2;
}

}  // namespace

Result<std::unique_ptr<Store>> Store::open(std::unique_ptr<Database> database, core::KeyRing key_ring,
                                           const core::Clock& clock, StoreOptions options) {
  if (options.max_batch == 0 || options.max_attempts <= 0 || options.purge_batch_rows <= 0 ||
      options.purge_lease <= std::chrono::seconds::zero()) {
    return Error(ErrorCode::kConfig,
                 "store options need max_batch, max_attempts, purge_batch_rows and purge_lease above 0");
  }
  const std::vector<Migration> migrations = kit_migrations(database->dialect());
  if (options.migrate) {
    if (Result<std::int64_t> migrated = migrate(*database, migrations, clock); !migrated) return migrated.error();
  } else {
    Result<std::int64_t> version = schema_version(*database);
    if (!version) return version.error();
    if (*version < migrations.back().version) {
      return Error(ErrorCode::kConfig, "the database schema is at version " + std::to_string(*version) +
                                           " and wik needs " + std::to_string(migrations.back().version) +
                                           ": run `wik migrate`");
    }
  }
  Result<Secret> audit_key = load_or_create_audit_key(*database, key_ring);
  if (!audit_key) return audit_key.error().with_context("audit key");
  Result<std::int64_t> queue_clock_offset = database_clock_offset_ms(*database, clock);
  if (!queue_clock_offset) return queue_clock_offset.error();
  return std::unique_ptr<Store>(new Store(std::move(database), std::move(key_ring), clock, std::move(options),
                                          std::move(*audit_key), *queue_clock_offset));
}

Store::Store(std::unique_ptr<Database> database, core::KeyRing key_ring, const core::Clock& clock,
             StoreOptions options, Secret audit_key, std::int64_t queue_clock_offset_ms)
    : database_(std::move(database)),
      key_ring_(std::move(key_ring)),
      clock_(clock),
      options_(std::move(options)),
      audit_key_(std::move(audit_key)),
      queue_clock_offset_ms_(queue_clock_offset_ms),
      purge_worker_(core::secure_random_token(8)) {
  if (options_.group_commit) {
    committer_ = std::make_unique<GroupCommitter>(
        [this](std::span<InboxWrite* const> batch) { write_inbox_batch(batch); }, options_.max_batch);
  }
}

Store::~Store() = default;

Result<CommunityScope> Store::community(std::string_view community_id) {
  if (!is_valid_community_id(community_id)) {
    return Error(ErrorCode::kInvalidArgument, "a community id is 1-64 printable characters");
  }
  return CommunityScope(*this, CommunityId(community_id));
}

std::int64_t Store::now_ms() const { return to_ms(clock_.now()); }

std::int64_t Store::queue_time_ms(TimePoint time) const { return to_ms(time) + queue_clock_offset_ms_; }

std::int64_t Store::queue_now_ms() const { return queue_time_ms(clock_.now()); }

std::string Store::ref_of(std::string_view community_id) const { return community_ref(audit_key_, community_id); }

Result<void> Store::lock_install_changes(Transaction& tx, std::string_view community_id) {
  if (database_->dialect() != Dialect::kPostgres) return ok_result();
  Result<Rows> locked = tx.query(kInstallChangesLock, {community_id});
  if (!locked) return locked.error();
  return ok_result();
}

Result<std::optional<Secret>> Store::find_data_key(Transaction& tx, std::string_view community_id, bool for_write) {
  const bool lock = for_write && database_->dialect() == Dialect::kPostgres;
  Result<Rows> rows = tx.query(lock ? "SELECT wrapped_key FROM community_keys WHERE community_id = $1 FOR SHARE"
                                    : "SELECT wrapped_key FROM community_keys WHERE community_id = $1",
                               {community_id});
  if (!rows) return rows.error();
  if (rows->empty()) return std::optional<Secret>();
  Result<Secret> key = unwrap_data_key(key_ring_, rows->front().text(0), community_id);
  if (!key) return key.error().with_context("community data key");
  return std::optional<Secret>(std::move(*key));
}

Result<bool> Store::installation_active(Transaction& tx, std::string_view community_id) {
  Result<Rows> state = tx.query("SELECT state FROM installations WHERE community_id = $1", {community_id});
  if (!state) return state.error();
  return !state->empty() && install_state_from(state->front().text(0)) == InstallState::kActive;
}

Result<Secret> Store::ensure_data_key(Transaction& tx, std::string_view community_id) {
  const std::string wrapped = wrap_data_key(key_ring_, generate_data_key(), community_id);
  Result<std::int64_t> inserted = tx.execute(
      "INSERT INTO community_keys (community_id, wrapped_key, created_at) VALUES ($1, $2, $3) "
      "ON CONFLICT (community_id) DO NOTHING",
      {community_id, wrapped, now_ms()});
  if (!inserted) return inserted.error();
  Result<std::optional<Secret>> key = find_data_key(tx, community_id, true);
  if (!key) return key.error();
  if (!*key) return Error(ErrorCode::kInternal, "community data key vanished while being created");
  return std::move(**key);
}

Result<void> Store::append_audit(Transaction& tx, std::string_view community_id, std::string_view action,
                                 std::string_view detail) {
  const std::string ref = community_id.empty() ? std::string() : ref_of(community_id);
  Result<std::int64_t> inserted = tx.execute(
      "INSERT INTO audit_log (at, community_ref, action, detail) VALUES ($1, $2, $3, $4)",
      {now_ms(), ref, action, detail});
  if (!inserted) return inserted.error();
  return ok_result();
}

// ---- Installations

Result<std::vector<InstallationSummary>> Store::installation_summaries(Transaction& tx,
                                                                       std::optional<std::string_view> community_id) {
  const std::string sql =
      "SELECT i.community_id, i.community_name, i.state, i.updated_at, i.installed_at, i.permissions, a.email, "
      "h.last_webhook_at, h.last_graph_ok_at, h.last_graph_error, h.last_graph_error_at, h.token_checked_at "
      "FROM installations i LEFT JOIN accounts a ON a.id = i.installed_by "
      "LEFT JOIN community_health h ON h.community_id = i.community_id" +
      std::string(community_id ? " WHERE i.community_id = $1" : "") + " ORDER BY i.community_id";
  Result<Rows> rows = community_id ? tx.query(sql, {*community_id}) : tx.query(sql);
  if (!rows) return rows.error();
  const auto time_of = [](const Row& row, std::size_t column) -> std::optional<TimePoint> {
    if (std::optional<std::int64_t> ms = row.optional_integer(column)) return from_ms(*ms);
    return std::nullopt;
  };
  std::vector<InstallationSummary> out;
  for (const Row& row : *rows) {
    out.push_back({.community_id = row.text(0),
                   .community_name = row.text(1),
                   .state = install_state_from(row.text(2)),
                   .updated_at = from_ms(row.integer(3)),
                   .installed_at = from_ms(row.integer(4)),
                   .permissions = split_words(row.text(5)),
                   .installed_by_email = row.optional_text(6),
                   .health = {.last_webhook_at = time_of(row, 7),
                              .last_graph_ok_at = time_of(row, 8),
                              .last_graph_error = row.optional_text(9).value_or(""),
                              .last_graph_error_at = time_of(row, 10),
                              .token_checked_at = time_of(row, 11)}});
  }
  return out;
}

Result<std::vector<InstallationSummary>> Store::list_installations() {
  return transact_value(*database_, [&](Transaction& tx) { return installation_summaries(tx, std::nullopt); });
}

// ---- Health

Result<void> Store::record_health(Transaction& tx, std::string_view community_id, const HealthUpdate& update,
                                  bool key_locked) {
  std::vector<SqlValue> params{community_id};
  std::string columns;
  std::string values;
  std::string assignments;
  const auto set = [&](std::string_view column, SqlValue value) {
    params.push_back(value);
    const std::string c(column);
    const std::string parameter = "$" + std::to_string(params.size());
    columns += ", " + c;
    // Typed, as PostgreSQL reads a bare parameter of a SELECT list as text.
    values += ", " + (std::holds_alternative<std::int64_t>(value) ? "CAST(" + parameter + " AS BIGINT)" : parameter);
    assignments += (assignments.empty() ? "" : ", ") + c + " = excluded." + c;
  };
  if (update.last_webhook_at) set("last_webhook_at", *update.last_webhook_at);
  if (update.last_graph_ok_at) set("last_graph_ok_at", *update.last_graph_ok_at);
  if (update.last_graph_error) set("last_graph_error", *update.last_graph_error);
  if (update.last_graph_error_at) set("last_graph_error_at", *update.last_graph_error_at);
  if (update.token_checked_at) set("token_checked_at", *update.token_checked_at);
  if (assignments.empty()) fatal("record_health: nothing to record");
  // A purged community (or one being purged: its key is gone) gets no row back; on PostgreSQL the
  // key is locked until the commit, so a purge cannot start in between.
  const std::string key_lock = database_->dialect() == Dialect::kPostgres ? " FOR SHARE" : "";
  const std::string source =
      !key_locked ? " SELECT $1" + values + " WHERE EXISTS (SELECT 1 FROM community_keys WHERE community_id = $1" +
                          key_lock + ")"
                    : " VALUES ($1" + values + ")";
  Result<std::int64_t> written = tx.execute_values(
      "INSERT INTO community_health (community_id" + columns + ")" + source +
          " ON CONFLICT (community_id) DO UPDATE SET " + assignments,
      params);
  if (!written) return written.error();
  return ok_result();
}

// ---- Inbox

Result<InsertOutcome> Store::insert_inbox_event(std::string_view community_id, InboxEventInput&& event) {
  std::vector<InboxWrite> write(1);
  write.front().community_id = community_id;
  write.front().event = &event;
  return std::move(write_inbox(std::move(write)).front());
}

std::vector<InboxWrite> Store::delivery_writes(std::span<const ScopedInboxEvent> events) {
  std::vector<InboxWrite> writes(events.size());
  for (std::size_t i = 0; i < events.size(); ++i) {
    writes[i].community_id = events[i].community->community_id();
    writes[i].event = &events[i].event;
    writes[i].active_only = true;
  }
  return writes;
}

std::vector<Result<InsertOutcome>> Store::insert_inbox_events(std::span<const ScopedInboxEvent> events) {
  return write_inbox(delivery_writes(events));
}

void Store::submit_inbox_events(std::span<const ScopedInboxEvent> events,
                                std::function<void(std::vector<Result<InsertOutcome>>)> done) {
  if (committer_) {
    committer_->submit(delivery_writes(events), std::move(done));
  } else {
    done(write_inbox(delivery_writes(events)));
  }
}

void Store::wait_for_submitted_inbox_events() {
  if (committer_) committer_->wait_until_done();
}

std::vector<Result<InsertOutcome>> Store::write_inbox(std::vector<InboxWrite> writes) {
  if (committer_) return committer_->write_all(std::move(writes));
  std::vector<InboxWrite*> batch;
  for (InboxWrite& write : writes) batch.push_back(&write);
  write_inbox_batch(batch);
  std::vector<Result<InsertOutcome>> outcomes;
  for (InboxWrite& write : writes) outcomes.push_back(std::move(*write.outcome));
  return outcomes;
}

void Store::write_inbox_batch(std::span<InboxWrite* const> batch) {
  std::vector<std::optional<Result<InsertOutcome>>> outcomes(batch.size());
  const TimePoint received_at = clock_.now();
  const std::int64_t now = to_ms(received_at);
  const std::int64_t due = queue_time_ms(received_at);
  Result<void> committed = database_->transact([&](Transaction& tx) -> Result<void> {
    std::map<std::string_view, std::optional<Secret>> keys;
    std::map<std::string_view, bool> active;  // whether the installation is active, where asked
    std::set<std::pair<std::string_view, std::string_view>> in_batch;
    std::vector<std::string> sealed(batch.size());
    std::vector<std::size_t> to_insert;
    std::set<std::string_view> received;  // communities with an event stored by this batch
    for (std::size_t i = 0; i < batch.size(); ++i) {
      const InboxWrite& write = *batch[i];
      auto [key, fresh] = keys.try_emplace(write.community_id);
      if (fresh) {
        Result<std::optional<Secret>> found = find_data_key(tx, write.community_id, true);
        if (!found) return found.error();
        key->second = std::move(*found);
      }
      if (write.active_only && key->second && !active.contains(write.community_id)) {
        Result<bool> is_active = installation_active(tx, write.community_id);
        if (!is_active) return is_active.error();
        active[write.community_id] = *is_active;
      }
      if (!key->second || (write.active_only && !active.at(write.community_id))) {
        outcomes[i] = Error(ErrorCode::kNotFound, "the community is not installed");
      } else if (!in_batch.emplace(write.community_id, write.event->dedupe_key).second) {
        outcomes[i] = InsertOutcome::kDuplicate;  // an earlier write of this batch has the key
      } else {
        sealed[i] =
            seal_with_data_key(*key->second, SealPurpose::kWebhookPayload, write.community_id, write.event->payload);
        to_insert.push_back(i);
      }
    }
    for (std::size_t first = 0; first < to_insert.size();) {
      const std::span<const std::size_t> chunk = std::span(to_insert).subspan(
          first, next_statement_rows(to_insert.size() - first, kInboxRowsPerStatement));
      first += chunk.size();
      std::vector<SqlValue> params{now, due};
      for (const std::size_t i : chunk) {
        params.insert(params.end(),
                      {batch[i]->community_id, batch[i]->event->topic, batch[i]->event->dedupe_key, sealed[i]});
      }
      Result<Rows> inserted = tx.query_values(inbox_insert_sql(chunk.size()), params);
      if (!inserted) return inserted.error();
      std::set<std::pair<std::string, std::string>> stored;
      for (const Row& row : *inserted) stored.emplace(row.text(0), row.text(1));
      for (const std::size_t i : chunk) {
        const bool is_new = stored.contains({std::string(batch[i]->community_id), batch[i]->event->dedupe_key});
        outcomes[i] = is_new ? InsertOutcome::kStored : InsertOutcome::kDuplicate;
        if (is_new) received.insert(batch[i]->community_id);
      }
    }
    // Each community whose events were stored (its key is locked above) was heard from now.
    for (const std::string_view community_id : received) {
      if (Result<void> recorded = record_health(tx, community_id, {.last_webhook_at = now}, true); !recorded) {
        return recorded.error();
      }
    }
    return ok_result();
  });
  for (std::size_t i = 0; i < batch.size(); ++i) {
    batch[i]->outcome = committed ? std::move(*outcomes[i]) : Result<InsertOutcome>(committed.error());
  }
}

Result<std::vector<ClaimedEvent>> Store::claim_inbox_events(std::string_view worker, std::size_t limit,
                                                            std::chrono::milliseconds lease,
                                                            std::size_t per_community) {
  const std::string claim_token = core::secure_random_token(16);
  const TimePoint now = clock_.now();
  const std::int64_t queue_now = queue_time_ms(now);
  // Floors only pay on PostgreSQL, whose index keeps handled events' entries until a vacuum.
  const bool postgres = database_->dialect() == Dialect::kPostgres;
  const std::optional<ClaimFloors::Floors> floors = postgres ? inbox_claim_floors_.next_claim() : std::nullopt;
  auto claim = [&](Transaction& tx) -> Result<std::vector<ClaimedEvent>> {
    const std::array<SqlValue, 3> lease_values{worker, claim_token, queue_now + lease.count()};
    Result<Rows> rows = claim_rows(
        tx, database_->dialect(),
        {.table = "inbox",
         .pending = "state = 'pending'",
         .lease = "claimed_by = $1, claim_token = $2, lease_until = $3",
         .returning = "id, community_id, topic, dedupe_key, payload_sealed, attempts, received_at",
         .lock = kInboxClaimLock,
         .durable = false},
        lease_values,
        {.now = queue_now,
         .per_community = static_cast<std::int64_t>(std::max<std::size_t>(1, per_community)),
         .total = static_cast<std::int64_t>(limit),
         .floors = floors ? &*floors : nullptr});
    if (!rows) return rows.error();
    std::vector<ClaimedEvent> out;
    std::map<std::string, std::optional<Secret>> keys;
    for (const Row& row : *rows) {
      const std::string& community = row.text(1);
      auto [key, fresh] = keys.try_emplace(community);
      if (fresh) {
        Result<std::optional<Secret>> found = find_data_key(tx, community, false);
        if (!found) return found.error();
        key->second = std::move(*found);
      }
      if (!key->second) continue;  // its purge is under way and will delete the row
      Result<Secret> payload =
          open_with_data_key(*key->second, SealPurpose::kWebhookPayload, community, row.text(4));
      if (!payload) return payload.error().with_context("inbox payload");
      out.push_back({.id = row.integer(0),
                     .community_id = community,
                     .topic = row.text(2),
                     .dedupe_key = row.text(3),
                     .payload = std::string(payload->expose()),
                     .attempts = row.integer(5),
                     .received_at = from_ms(row.integer(6)),
                     .claim_token = claim_token,
                     .lease_until = now + lease});
    }
    std::sort(out.begin(), out.end(), [](const ClaimedEvent& a, const ClaimedEvent& b) { return a.id < b.id; });
    return out;
  };
  Result<std::vector<ClaimedEvent>> claimed = transact_value(*database_, claim);
  if (postgres && claimed) {
    std::vector<std::pair<std::string, std::int64_t>> taken;
    taken.reserve(claimed->size());
    for (const ClaimedEvent& event : *claimed) taken.emplace_back(event.community_id, event.id);
    inbox_claim_floors_.record(!floors, taken);
  }
  return claimed;
}

Result<void> Store::complete_inbox_event(const ClaimedEvent& event, std::span<const std::string> replies) {
  const InboxCompletion completion{.event = event, .replies = replies};
  Result<std::vector<CompletionOutcome>> completed = complete_inbox_events(std::span(&completion, 1));
  if (!completed) return completed.error();
  if (!completed->front().completed) return Error(ErrorCode::kConflict, "the claim on this inbox event was lost");
  return ok_result();
}

namespace {

constexpr std::string_view kMarkDone =
    "UPDATE inbox SET state = 'done', payload_sealed = '', claimed_by = NULL, claim_token = NULL, "
    "lease_until = NULL WHERE claim_token = $1 AND id IN (";

// Marks `completion`'s event done and runs its writes (none when `writable` is false: its
// community is being purged), all under one savepoint, so that a failed write takes the mark back.
Result<CompletionOutcome> complete_with_writes(Transaction& tx, const InboxCompletion& completion, bool writable) {
  if (Result<std::int64_t> saved = tx.execute("SAVEPOINT completion"); !saved) return saved.error();
  const ClaimedEvent& event = completion.event;
  Result<std::int64_t> marked = tx.execute(std::string(kMarkDone) + "$2)", {event.claim_token, event.id});
  if (!marked) return marked.error();
  CompletionOutcome outcome{.completed = *marked == 1};
  for (const CompletionWrite& write : completion.writes) {
    if (!outcome.completed || !writable) break;
    Result<void> written = write(tx);
    if (written) continue;
    if (Result<std::int64_t> undone = tx.execute("ROLLBACK TO SAVEPOINT completion"); !undone) return undone.error();
    outcome = {.completed = false, .write_error = written.error()};
  }
  if (Result<std::int64_t> released = tx.execute("RELEASE SAVEPOINT completion"); !released) return released.error();
  return outcome;
}

}  // namespace

Result<std::vector<CompletionOutcome>> Store::complete_inbox_events(std::span<const InboxCompletion> completions) {
  // A community whose handlers wrote is completed event by event, in order. The others'
  // completions share their claim's token, so one statement marks many done. A row holds a token
  // only while pending and claimed; a lost claim no longer holds it.
  std::set<std::string_view> writing;
  for (const InboxCompletion& completion : completions) {
    if (!completion.writes.empty()) writing.insert(completion.event.community_id);
  }
  std::map<std::string_view, std::vector<std::int64_t>> ids_by_token;
  for (const InboxCompletion& completion : completions) {
    if (!writing.contains(completion.event.community_id)) {
      ids_by_token[completion.event.claim_token].push_back(completion.event.id);
    }
  }
  return transact_value(*database_, [&](Transaction& tx) -> Result<std::vector<CompletionOutcome>> {
    std::set<std::pair<std::string_view, std::int64_t>> done;  // (claim token, id)
    for (const auto& [token, ids] : ids_by_token) {
      for (std::size_t first = 0; first < ids.size(); first += kIdsPerStatement) {
        const std::size_t count = std::min(kIdsPerStatement, ids.size() - first);
        std::vector<SqlValue> params{token};
        const std::string id_list = append_ids(params, std::span(ids).subspan(first, count));
        Result<Rows> updated = tx.query_values(std::string(kMarkDone) + id_list + ") RETURNING id", params);
        if (!updated) return updated.error();
        for (const Row& row : *updated) done.emplace(token, row.integer(0));
      }
    }
    // The data key of each community: none while it is being purged (nothing is written or sent).
    std::map<std::string, std::optional<Secret>, std::less<>> keys;
    auto key_of = [&](const std::string& community) -> Result<const std::optional<Secret>*> {
      auto [key, fresh] = keys.try_emplace(community);
      if (fresh) {
        Result<std::optional<Secret>> found = find_data_key(tx, community, true);
        if (!found) return found.error();
        key->second = std::move(*found);
      }
      return &key->second;
    };
    std::vector<CompletionOutcome> outcomes;
    outcomes.reserve(completions.size());
    std::set<std::string_view> failed;  // communities with an event whose writes failed
    const TimePoint completed_at = clock_.now();
    const std::int64_t now = to_ms(completed_at);
    const std::int64_t queue_now = queue_time_ms(completed_at);
    for (const InboxCompletion& completion : completions) {
      const ClaimedEvent& event = completion.event;
      CompletionOutcome& outcome = outcomes.emplace_back();
      if (failed.contains(event.community_id)) {
        outcome.behind_failure = true;
        continue;
      }
      if (writing.contains(event.community_id)) {
        Result<const std::optional<Secret>*> key = key_of(event.community_id);
        if (!key) return key.error();
        Result<CompletionOutcome> written = complete_with_writes(tx, completion, (*key)->has_value());
        if (!written) return written.error();
        outcome = std::move(*written);
        if (outcome.write_error) failed.insert(event.community_id);
      } else {
        outcome.completed = done.contains({event.claim_token, event.id});
      }
      if (!outcome.completed || completion.replies.empty()) continue;
      Result<const std::optional<Secret>*> key = key_of(event.community_id);
      if (!key) return key.error();
      if (!**key) continue;
      for (const std::string& reply : completion.replies) {
        const std::string sealed = seal_with_data_key(***key, SealPurpose::kOutboxMessage, event.community_id, reply);
        Result<std::int64_t> queued = tx.execute(
            "INSERT INTO outbox (community_id, inbox_id, body_sealed, created_at, attempts, next_attempt_at, "
            "last_error) VALUES ($1, $2, $3, $4, 0, $5, '')",
            {event.community_id, event.id, sealed, now, queue_now});
        if (!queued) return queued.error();
      }
    }
    return outcomes;
  });
}

Result<void> Store::release_inbox_events(std::span<const ClaimedEvent> events) {
  return database_->transact([&](Transaction& tx) -> Result<void> {
    for (const ClaimedEvent& event : events) {
      Result<std::int64_t> released = tx.execute(
          "UPDATE inbox SET claimed_by = NULL, claim_token = NULL, lease_until = NULL "
          "WHERE id = $1 AND claim_token = $2 AND state = 'pending'",
          {event.id, event.claim_token});
      if (!released) return released.error();
    }
    return ok_result();
  });
}

Result<std::vector<OutboxMessage>> Store::claim_outbox(std::size_t limit, std::chrono::milliseconds lease) {
  const std::string claim_token = core::secure_random_token(16);
  const std::int64_t queue_now = queue_now_ms();
  return transact_value(*database_, [&](Transaction& tx) -> Result<std::vector<OutboxMessage>> {
    const std::array<SqlValue, 2> lease_values{claim_token, queue_now + lease.count()};
    Result<Rows> rows = claim_rows(tx, database_->dialect(),
                                   {.table = "outbox",
                                    .lease = "claim_token = $1, lease_until = $2",
                                    .returning = "id, community_id, body_sealed, attempts",
                                    .lock = kOutboxClaimLock},
                                   lease_values, {.now = queue_now, .total = static_cast<std::int64_t>(limit)});
    if (!rows) return rows.error();
    std::vector<OutboxMessage> out;
    for (const Row& row : *rows) {
      const std::string& community = row.text(1);
      Result<std::optional<Secret>> key = find_data_key(tx, community, false);
      if (!key) return key.error();
      if (!*key) continue;  // its purge is under way and will delete the row
      Result<Secret> body = open_with_data_key(**key, SealPurpose::kOutboxMessage, community, row.text(2));
      if (!body) return body.error().with_context("outbox message");
      out.push_back({.id = row.integer(0),
                     .community_id = community,
                     .body = std::string(body->expose()),
                     .attempts = row.integer(3),
                     .claim_token = claim_token});
    }
    std::sort(out.begin(), out.end(), [](const OutboxMessage& a, const OutboxMessage& b) { return a.id < b.id; });
    return out;
  });
}

Result<void> Store::finish_outbox(const OutboxMessage& message) {
  return database_->transact([&](Transaction& tx) -> Result<void> {
    Result<std::int64_t> deleted =
        tx.execute("DELETE FROM outbox WHERE id = $1 AND claim_token = $2", {message.id, message.claim_token});
    if (!deleted) return deleted.error();
    if (*deleted == 0) return Error(ErrorCode::kConflict, "the claim on this reply was lost");
    return record_health(tx, message.community_id, {.last_graph_ok_at = now_ms()});
  });
}

Result<OutboxOutcome> Store::fail_outbox(const OutboxMessage& message, std::string_view error,
                                         std::optional<TimePoint> retry_at) {
  return transact_value(*database_, [&](Transaction& tx) -> Result<OutboxOutcome> {
    const std::int64_t attempts = message.attempts + 1;
    const HealthUpdate failed{.last_graph_error = error, .last_graph_error_at = now_ms()};
    if (retry_at && attempts < options_.max_attempts) {
      Result<std::int64_t> updated = tx.execute(
          "UPDATE outbox SET attempts = $3, next_attempt_at = $4, last_error = $5, claim_token = NULL, "
          "lease_until = NULL WHERE id = $1 AND claim_token = $2",
          {message.id, message.claim_token, attempts, queue_time_ms(*retry_at), error});
      if (!updated) return updated.error();
      if (*updated == 0) return Error(ErrorCode::kConflict, "the claim on this reply was lost");
      if (Result<void> recorded = record_health(tx, message.community_id, failed); !recorded) return recorded.error();
      return OutboxOutcome::kRetryScheduled;
    }
    Result<std::int64_t> deleted =
        tx.execute("DELETE FROM outbox WHERE id = $1 AND claim_token = $2", {message.id, message.claim_token});
    if (!deleted) return deleted.error();
    if (*deleted == 0) return Error(ErrorCode::kConflict, "the claim on this reply was lost");
    if (Result<void> recorded = record_health(tx, message.community_id, failed); !recorded) return recorded.error();
    return OutboxOutcome::kDropped;
  });
}

Result<void> Store::defer_outbox(const OutboxMessage& message, TimePoint not_before) {
  return give_back_claimed(*database_, {.table = "outbox", .released = "claim_token = NULL, lease_until = NULL"},
                           message.id, message.claim_token, queue_time_ms(not_before),
                           "the claim on this reply was lost");
}

Result<void> Store::defer_inbox_event(const ClaimedEvent& event, TimePoint not_before) {
  return give_back_claimed(*database_,
                           {.table = "inbox", .released = "claimed_by = NULL, claim_token = NULL, lease_until = NULL"},
                           event.id, event.claim_token, queue_time_ms(not_before),
                           "the claim on this inbox event was lost");
}

Result<FailOutcome> Store::fail_inbox_event(const ClaimedEvent& event, std::string_view error,
                                            std::optional<TimePoint> retry_at) {
  return transact_value(*database_, [&](Transaction& tx) -> Result<FailOutcome> {
    Result<Rows> rows = tx.query(
        "SELECT attempts, topic, payload_sealed FROM inbox WHERE id = $1 AND claim_token = $2 AND state = 'pending'",
        {event.id, event.claim_token});
    if (!rows) return rows.error();
    if (rows->empty()) return Error(ErrorCode::kConflict, "the claim on this inbox event was lost");
    const std::int64_t attempts = rows->front().integer(0) + 1;
    if (retry_at && attempts < options_.max_attempts) {
      Result<std::int64_t> updated = tx.execute(
          "UPDATE inbox SET attempts = $2, next_attempt_at = $3, last_error = $4, claimed_by = NULL, "
          "claim_token = NULL, lease_until = NULL WHERE id = $1",
          {event.id, attempts, queue_time_ms(*retry_at), error});
      if (!updated) return updated.error();
      return FailOutcome::kRetryScheduled;
    }
    Result<std::int64_t> dead = tx.execute(
        "INSERT INTO dead_letters (community_id, inbox_id, topic, payload_sealed, attempts, last_error, failed_at) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7)",
        {event.community_id, event.id, rows->front().text(1), rows->front().text(2), attempts, error, now_ms()});
    if (!dead) return dead.error();
    Result<std::int64_t> updated = tx.execute(
        "UPDATE inbox SET state = 'dead', attempts = $2, payload_sealed = '', last_error = $3, claimed_by = NULL, "
        "claim_token = NULL, lease_until = NULL WHERE id = $1",
        {event.id, attempts, error});
    if (!updated) return updated.error();
    return FailOutcome::kDeadLettered;
  });
}

Result<std::vector<InboxCounts>> Store::inbox_counts() {
  return transact_value(*database_, [&](Transaction& tx) -> Result<std::vector<InboxCounts>> {
    Result<Rows> pending =
        tx.query("SELECT community_id, COUNT(*) FROM inbox WHERE state = 'pending' GROUP BY community_id");
    if (!pending) return pending.error();
    Result<Rows> dead = tx.query("SELECT community_id, COUNT(*) FROM dead_letters GROUP BY community_id");
    if (!dead) return dead.error();
    std::map<CommunityId, InboxCounts> by_community;
    for (const Row& row : *pending) by_community[row.text(0)].pending = row.integer(1);
    for (const Row& row : *dead) by_community[row.text(0)].dead_letters = row.integer(1);
    std::vector<InboxCounts> out;
    for (auto& [community_id, counts] : by_community) {
      counts.community_id = community_id;
      out.push_back(std::move(counts));
    }
    return out;
  });
}

// ---- Purges

Result<std::vector<PurgeJob>> Store::list_purge_jobs(std::optional<PurgeState> state) {
  return transact_value(*database_, [&](Transaction& tx) -> Result<std::vector<PurgeJob>> {
    Result<Rows> ids = state ? tx.query("SELECT id FROM purge_jobs WHERE state = $1 ORDER BY id", {to_text(*state)})
                             : tx.query("SELECT id FROM purge_jobs ORDER BY id");
    if (!ids) return ids.error();
    std::vector<PurgeJob> jobs;
    for (const Row& row : *ids) {
      Result<PurgeJob> job = load_purge_job(tx, row.integer(0));
      if (!job) return job.error();
      jobs.push_back(std::move(*job));
    }
    return jobs;
  });
}

Result<PurgeJob> Store::load_purge_job(Transaction& tx, std::int64_t job_id) {
  Result<Rows> rows = tx.query(
      "SELECT id, community_id, community_ref, state, requested_at, deadline, completed_at, runs FROM purge_jobs "
      "WHERE id = $1",
      {job_id});
  if (!rows) return rows.error();
  if (rows->empty()) return Error(ErrorCode::kNotFound, "no such purge job");
  const Row& row = rows->front();
  PurgeJob job{.id = row.integer(0),
               .community_id = row.optional_text(1),
               .community_ref = row.text(2),
               .state = purge_state_from(row.text(3)),
               .requested_at = from_ms(row.integer(4)),
               .deadline = from_ms(row.integer(5)),
               .completed_at = {},
               .rows_deleted = {},
               .runs = row.integer(7)};
  if (std::optional<std::int64_t> completed = row.optional_integer(6)) job.completed_at = from_ms(*completed);
  Result<Rows> counts = tx.query("SELECT table_name, rows_deleted FROM purge_job_counts WHERE job_id = $1", {job_id});
  if (!counts) return counts.error();
  for (const Row& count : *counts) job.rows_deleted[count.text(0)] = count.integer(1);
  return job;
}

Result<std::int64_t> Store::purge_table(std::int64_t job_id, std::string_view community_id, std::string_view table,
                                        std::string_view column) {
  const std::string sql = batch_delete_sql(database_->dialect(), table, std::string(column) + " = $1");
  std::int64_t total = 0;
  for (;;) {
    Result<std::int64_t> deleted = transact_value(*database_, [&](Transaction& tx) -> Result<std::int64_t> {
      Result<std::int64_t> n = tx.execute(sql, {community_id, options_.purge_batch_rows});
      if (!n) return n;
      const std::int64_t lease_until = queue_time_ms(clock_.now() + options_.purge_lease);
      Result<std::int64_t> renewed =
          tx.execute("UPDATE purge_jobs SET lease_until = $2 WHERE id = $1", {job_id, lease_until});
      if (!renewed) return renewed.error();
      Result<std::int64_t> counted = tx.execute(
          "INSERT INTO purge_job_counts (job_id, table_name, rows_deleted) VALUES ($1, $2, $3) "
          "ON CONFLICT (job_id, table_name) DO UPDATE SET rows_deleted = purge_job_counts.rows_deleted + "
          "excluded.rows_deleted",
          {job_id, table, *n});
      if (!counted) return counted.error();
      return n;
    });
    if (!deleted) return deleted.error().with_context("purge of " + std::string(table));
    total += *deleted;
    if (*deleted == 0) return total;  // a batch can fall short while rows move, so stop only at none
  }
}

Result<PurgeJob> Store::run_purge_job(std::int64_t job_id) {
  Result<PurgeJob> job = transact_value(*database_, [&](Transaction& tx) -> Result<PurgeJob> {
    Result<PurgeJob> loaded = load_purge_job(tx, job_id);
    if (!loaded || loaded->state == PurgeState::kDone) return loaded;
    // The claim is one conditional UPDATE: of two workers taking the job at once, PostgreSQL makes
    // the second wait for the first's row lock and then finds the lease taken; SQLite's writer
    // lock serialises them.
    const TimePoint now = clock_.now();
    Result<std::int64_t> taken = tx.execute(
        "UPDATE purge_jobs SET state = 'running', claimed_by = $2, lease_until = $3, runs = runs + 1 "
        "WHERE id = $1 AND state <> 'done' AND (claimed_by = $2 OR lease_until IS NULL OR lease_until <= $4)",
        {job_id, purge_worker_, queue_time_ms(now + options_.purge_lease), queue_time_ms(now)});
    if (!taken) return taken.error();
    Result<PurgeJob> current = load_purge_job(tx, job_id);
    if (!current || *taken == 1 || current->state == PurgeState::kDone) return current;
    return Error(ErrorCode::kConflict, "the purge job is running in another worker until its lease runs out");
  });
  if (!job || job->state == PurgeState::kDone) return job;
  if (!job->community_id) fatal("an unfinished purge job has no community id");
  const std::string community = *job->community_id;

  // Crypto-shredding first: once this commits, every sealed token and payload of the community is
  // unreadable, whatever copies of them the files or the WAL still hold.
  std::vector<ReclaimTarget> touched = {{.table = "community_keys", .rewrite = true}};
  if (Result<std::int64_t> keys = purge_table(job_id, community, "community_keys", "community_id"); !keys) {
    return keys.error();
  }
  for (const CommunityTable& table : kit_community_tables()) {
    Result<std::int64_t> deleted = purge_table(job_id, community, table.table, table.community_column);
    if (!deleted) return deleted.error();
    touched.push_back({.table = std::string(table.table)});
  }
  Result<std::vector<AppTable>> apps = app_tables();
  if (!apps) return apps.error();
  for (const AppTable& app : *apps) {
    Result<std::int64_t> deleted = purge_table(job_id, community, app.table, app.community_column);
    if (!deleted) return deleted.error();
    touched.push_back({.table = app.table});
  }
  Result<ReclaimReport> reclaimed = database_->reclaim_space(touched);
  if (!reclaimed) return reclaimed.error().with_context("purge space reclaim");

  return transact_value(*database_, [&](Transaction& tx) -> Result<PurgeJob> {
    Result<PurgeJob> current = load_purge_job(tx, job_id);
    if (!current || current->state == PurgeState::kDone) return current;  // a concurrent run finished it
    Result<std::int64_t> done = tx.execute(
        "UPDATE purge_jobs SET state = 'done', completed_at = $2, community_id = NULL, claimed_by = NULL, "
        "lease_until = NULL WHERE id = $1",
        {job_id, now_ms()});
    if (!done) return done.error();
    std::string detail = "crypto_shredded=yes reclaim=" + reclaimed->steps +
                         (reclaimed->complete ? " complete" : " partial") + " rows:";
    for (const auto& [table, rows] : current->rows_deleted) detail += " " + table + "=" + std::to_string(rows);
    if (Result<void> audited = append_audit(tx, community, "purge_completed", detail); !audited) {
      return audited.error();
    }
    return load_purge_job(tx, job_id);
  });
}

// ---- Keys and audit

Result<std::int64_t> Store::rewrap_data_keys() {
  return transact_value(*database_, [&](Transaction& tx) -> Result<std::int64_t> {
    Result<Rows> rows = tx.query("SELECT community_id, wrapped_key FROM community_keys ORDER BY community_id");
    if (!rows) return rows.error();
    for (const Row& row : *rows) {
      Result<Secret> key = unwrap_data_key(key_ring_, row.text(1), row.text(0));
      if (!key) return key.error().with_context("community data key");
      Result<std::int64_t> updated =
          tx.execute("UPDATE community_keys SET wrapped_key = $2 WHERE community_id = $1",
                     {row.text(0), wrap_data_key(key_ring_, *key, row.text(0))});
      if (!updated) return updated.error();
    }
    if (Result<std::int64_t> expired = expire_pending_installs(tx); !expired) return expired.error();
    Result<Rows> pending =
        tx.query("SELECT id_hash, community_id, token_sealed FROM pending_installs WHERE token_sealed <> ''");
    if (!pending) return pending.error();
    for (const Row& row : *pending) {
      Result<std::string> resealed = core::reseal_access_token(key_ring_, row.text(2), row.text(1));
      if (!resealed) return resealed.error().with_context("pending install token");
      Result<std::int64_t> updated =
          tx.execute("UPDATE pending_installs SET token_sealed = $2 WHERE id_hash = $1", {row.text(0), *resealed});
      if (!updated) return updated.error();
    }
    const std::string audit_key = core::seal(key_ring_, audit_key_.expose(), kAuditKeyContext);
    Result<std::int64_t> updated = tx.execute("UPDATE meta SET value = $1 WHERE name = 'audit_key'", {audit_key});
    if (!updated) return updated.error();
    const auto count = static_cast<std::int64_t>(rows->size());
    Result<void> audited = append_audit(
        tx, "", "keys_rewrapped", "count=" + std::to_string(count) + " key_id=" + key_ring_.active_key_id());
    if (!audited) return audited.error();
    return count;
  });
}

Result<std::vector<AuditEntry>> Store::audit_trail(std::string_view community_id) {
  return transact_value(*database_, [&](Transaction& tx) -> Result<std::vector<AuditEntry>> {
    Result<Rows> rows = tx.query(
        "SELECT id, at, community_ref, action, detail FROM audit_log WHERE community_ref = $1 ORDER BY id",
        {ref_of(community_id)});
    if (!rows) return rows.error();
    std::vector<AuditEntry> out;
    for (const Row& row : *rows) {
      out.push_back({.id = row.integer(0),
                     .at = from_ms(row.integer(1)),
                     .community_ref = row.text(2),
                     .action = row.text(3),
                     .detail = row.text(4)});
    }
    return out;
  });
}

// ---- Accounts, sessions, OAuth states

Result<Account> Store::create_account(std::string_view email, const Secret& password, std::string_view role) {
  if (email.empty() || password.empty()) {
    return Error(ErrorCode::kInvalidArgument, "an account needs an email and a password");
  }
  Result<std::string> hash = hash_password(password, options_.password_cost);
  if (!hash) return hash.error();
  const std::string normalized = core::ascii_lower(email);
  const std::int64_t now = now_ms();
  return transact_value(*database_, [&](Transaction& tx) -> Result<Account> {
    Result<Rows> rows = tx.query(
        "INSERT INTO accounts (email, password_hash, role, created_at) VALUES ($1, $2, $3, $4) "
        "ON CONFLICT (email) DO NOTHING RETURNING id",
        {normalized, *hash, role, now});
    if (!rows) return rows.error();
    if (rows->empty()) return Error(ErrorCode::kConflict, "an account with this email exists");
    return Account{.id = rows->front().integer(0), .email = normalized, .role = std::string(role),
                   .created_at = from_ms(now)};
  });
}

Result<Account> Store::authenticate(std::string_view email, const Secret& password) {
  Result<Rows> rows = transact_value(*database_, [&](Transaction& tx) {
    return tx.query("SELECT id, email, role, created_at, password_hash FROM accounts WHERE email = $1",
                    {core::ascii_lower(email)});
  });
  if (!rows) return rows.error();
  if (rows->empty()) {
    // Spends the same argon2id work as a wrong password, so timing does not tell which emails exist.
    std::call_once(dummy_hash_once_, [this] {
      Result<std::string> hash = hash_password(Secret(core::secure_random_token(16)), options_.password_cost);
      if (hash) dummy_hash_ = std::move(*hash);
    });
    (void)verify_password(password, dummy_hash_);
    return Error(ErrorCode::kUnauthenticated, "wrong email or password");
  }
  if (!verify_password(password, rows->front().text(4))) {
    return Error(ErrorCode::kUnauthenticated, "wrong email or password");
  }
  return account_of(rows->front());
}

Result<Account> Store::find_account(AccountId id) {
  return transact_value(*database_, [&](Transaction& tx) -> Result<Account> {
    Result<Rows> rows = tx.query("SELECT id, email, role, created_at FROM accounts WHERE id = $1", {id});
    if (!rows) return rows.error();
    if (rows->empty()) return Error(ErrorCode::kNotFound, "no such account");
    return account_of(rows->front());
  });
}

Result<NewSession> Store::create_session(AccountId account, std::chrono::seconds lifetime) {
  Secret session_id(core::secure_random_token(32));
  const std::int64_t now = now_ms();
  const std::int64_t expires = now + std::chrono::duration_cast<std::chrono::milliseconds>(lifetime).count();
  Result<void> created = database_->transact([&](Transaction& tx) -> Result<void> {
    Result<Rows> found = tx.query("SELECT id FROM accounts WHERE id = $1", {account});
    if (!found) return found.error();
    if (found->empty()) return Error(ErrorCode::kNotFound, "no such account");
    Result<std::int64_t> inserted = tx.execute(
        "INSERT INTO sessions (id_hash, account_id, created_at, expires_at) VALUES ($1, $2, $3, $4)",
        {hash_hex(session_id.expose()), account, now, expires});
    if (!inserted) return inserted.error();
    return ok_result();
  });
  if (!created) return created.error();
  return NewSession{.session_id = std::move(session_id),
                    .session = {.account_id = account, .created_at = from_ms(now), .expires_at = from_ms(expires)}};
}

Result<Session> Store::find_session(const Secret& session_id) {
  const std::string hash = hash_hex(session_id.expose());
  return transact_value(*database_, [&](Transaction& tx) -> Result<Session> {
    Result<Rows> rows =
        tx.query("SELECT account_id, created_at, expires_at FROM sessions WHERE id_hash = $1", {hash});
    if (!rows) return rows.error();
    if (rows->empty()) return Error(ErrorCode::kNotFound, "no such session");
    const Row& row = rows->front();
    if (row.integer(2) <= now_ms()) return Error(ErrorCode::kExpired, "the session expired");
    return Session{.account_id = row.integer(0), .created_at = from_ms(row.integer(1)),
                   .expires_at = from_ms(row.integer(2))};
  });
}

Result<void> Store::delete_session(const Secret& session_id) {
  return database_->transact([&](Transaction& tx) -> Result<void> {
    Result<std::int64_t> deleted =
        tx.execute("DELETE FROM sessions WHERE id_hash = $1", {hash_hex(session_id.expose())});
    if (!deleted) return deleted.error();
    if (*deleted == 0) return Error(ErrorCode::kNotFound, "no such session");
    return ok_result();
  });
}

Result<Secret> Store::create_oauth_state(const Secret& session_id, std::string_view return_to,
                                         std::chrono::seconds lifetime) {
  Secret state(core::secure_random_token(32));
  const std::int64_t now = now_ms();
  Result<void> created = database_->transact([&](Transaction& tx) -> Result<void> {
    Result<std::int64_t> inserted = tx.execute(
        "INSERT INTO oauth_states (state_hash, session_hash, return_to, created_at, expires_at) "
        "VALUES ($1, $2, $3, $4, $5)",
        {hash_hex(state.expose()), hash_hex(session_id.expose()), return_to, now,
         now + std::chrono::duration_cast<std::chrono::milliseconds>(lifetime).count()});
    if (!inserted) return inserted.error();
    return ok_result();
  });
  if (!created) return created.error();
  return state;
}

Result<OAuthState> Store::take_oauth_state(const Secret& state, const Secret& session_id) {
  Result<Rows> rows = transact_value(*database_, [&](Transaction& tx) {
    return tx.query(
        "DELETE FROM oauth_states WHERE state_hash = $1 RETURNING session_hash, return_to, created_at, expires_at",
        {hash_hex(state.expose())});
  });
  if (!rows) return rows.error();
  if (rows->empty()) return Error(ErrorCode::kNotFound, "unknown or already used OAuth state");
  const Row& row = rows->front();
  if (row.integer(3) <= now_ms()) return Error(ErrorCode::kExpired, "the OAuth state expired");
  if (row.text(0) != hash_hex(session_id.expose())) {
    return Error(ErrorCode::kPermissionDenied, "the OAuth state belongs to another session");
  }
  return OAuthState{.session_hash = row.text(0), .return_to = row.text(1), .created_at = from_ms(row.integer(2)),
                    .expires_at = from_ms(row.integer(3))};
}

Result<std::int64_t> Store::forget_handled_events(std::chrono::hours retention) {
  // A handled row's next_attempt_at is no earlier than its arrival on the queue clock, and the
  // inbox_ready index orders by (state, next_attempt_at): each batch is an index range.
  const std::string sql = batch_delete_sql(database_->dialect(), "inbox", "state = 'done' AND next_attempt_at < $1");
  const std::int64_t cutoff = queue_time_ms(clock_.now() - retention);
  std::int64_t total = 0;
  for (;;) {
    Result<std::int64_t> deleted = transact_value(*database_, [&](Transaction& tx) -> Result<std::int64_t> {
      return tx.execute(sql, {cutoff, options_.purge_batch_rows});
    });
    if (!deleted) return deleted.error().with_context("forgetting handled events");
    total += *deleted;
    if (*deleted < options_.purge_batch_rows) return total;
  }
}

Result<std::int64_t> Store::prune_expired() {
  const std::int64_t now = now_ms();
  return transact_value(*database_, [&](Transaction& tx) -> Result<std::int64_t> {
    Result<std::int64_t> sessions = tx.execute("DELETE FROM sessions WHERE expires_at <= $1", {now});
    if (!sessions) return sessions;
    Result<std::int64_t> states = tx.execute("DELETE FROM oauth_states WHERE expires_at <= $1", {now});
    if (!states) return states;
    Result<std::int64_t> pending = expire_pending_installs(tx);
    if (!pending) return pending;
    return *sessions + *states + *pending;
  });
}

// ---- Pending installs

Result<std::int64_t> Store::expire_pending_installs(Transaction& tx) {
  if (database_->dialect() == Dialect::kPostgres) {
    Result<Rows> locked = tx.query("SELECT pg_advisory_xact_lock($1)", {kPendingInstallLock});
    if (!locked) return locked.error();
  }
  const std::int64_t now = now_ms();
  Result<std::int64_t> forgotten = tx.execute("DELETE FROM pending_installs WHERE tombstone_until <= $1", {now});
  if (!forgotten) return forgotten;
  Result<std::int64_t> destroyed =
      tx.execute("UPDATE pending_installs SET token_sealed = '' WHERE token_sealed <> '' AND deadline <= $1", {now});
  if (!destroyed) return destroyed;
  return *forgotten + *destroyed;
}

Result<Secret> Store::add_pending_install(const PendingInstall& install, std::size_t capacity) {
  const PendingInstallSummary& summary = install.summary;
  if (!is_valid_community_id(summary.community_id)) {
    return Error(ErrorCode::kInvalidArgument, "a community id is 1-64 printable characters");
  }
  Secret id(core::secure_random_token(32));
  const std::string id_hash = hash_hex(id.expose());
  const std::string sealed = core::seal_access_token(key_ring_, install.token, summary.community_id);
  const std::string permissions = join_words(summary.permissions);
  // Commits the expiry whether or not there is room (an error would roll it back).
  Result<bool> added = transact_value(*database_, [&](Transaction& tx) -> Result<bool> {
    if (Result<std::int64_t> expired = expire_pending_installs(tx); !expired) return expired.error();
    Result<Rows> waiting = tx.query("SELECT COUNT(*) FROM pending_installs WHERE token_sealed <> ''");
    if (!waiting) return waiting.error();
    if (static_cast<std::uint64_t>(waiting->front().integer(0)) >= capacity) return false;
    Result<std::int64_t> inserted = tx.execute(
        "INSERT INTO pending_installs (id_hash, community_id, community_name, permissions, return_url, code_hash, "
        "token_sealed, created_at, deadline, tombstone_until) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        {id_hash, summary.community_id, summary.community_name, permissions, summary.return_url, summary.code_hash,
         sealed, now_ms(), to_ms(summary.deadline), to_ms(summary.tombstone_until)});
    if (!inserted) return inserted.error();
    return true;
  });
  if (!added) return added.error();
  if (!*added) return Error(ErrorCode::kRateLimited, "too many installs are waiting for confirmation");
  return id;
}

Result<PendingInstallSummary> Store::find_pending_install(const Secret& id) {
  const std::string id_hash = hash_hex(id.expose());
  // The lookup's outcome is judged after the commit, so that the expiry commits whatever it is.
  Result<Rows> rows = transact_value(*database_, [&](Transaction& tx) -> Result<Rows> {
    if (Result<std::int64_t> expired = expire_pending_installs(tx); !expired) return expired.error();
    return tx.query("SELECT " + std::string(kPendingColumns) + " FROM pending_installs WHERE id_hash = $1", {id_hash});
  });
  if (!rows) return rows.error();
  return waiting_install(*rows);
}

Result<PendingInstall> Store::take_pending_install(const Secret& id) {
  const std::string id_hash = hash_hex(id.expose());
  // The taken row; else the tombstone `id` names, if any. Judged after the commit, as in find.
  Result<Rows> rows = transact_value(*database_, [&](Transaction& tx) -> Result<Rows> {
    if (Result<std::int64_t> expired = expire_pending_installs(tx); !expired) return expired.error();
    // One statement takes the install: of several racing takes, only one gets its row back.
    Result<Rows> taken = tx.query("DELETE FROM pending_installs WHERE id_hash = $1 AND token_sealed <> '' RETURNING " +
                                      std::string(kPendingColumns),
                                  {id_hash});
    if (!taken || !taken->empty()) return taken;
    return tx.query("SELECT " + std::string(kPendingColumns) + " FROM pending_installs WHERE id_hash = $1", {id_hash});
  });
  if (!rows) return rows.error();
  Result<PendingInstallSummary> summary = waiting_install(*rows);
  if (!summary) return summary.error();
  Result<AccessToken> token =
      core::open_access_token(key_ring_, rows->front().text(kPendingTokenColumn), summary->community_id);
  if (!token) {
    return Error(ErrorCode::kInternal, "the token of a pending install does not open", token.error().reason());
  }
  return PendingInstall{.token = std::move(*token), .summary = std::move(*summary)};
}

Result<void> Store::discard_pending_install(const Secret& id) {
  const std::string id_hash = hash_hex(id.expose());
  return database_->transact([&](Transaction& tx) -> Result<void> {
    if (Result<std::int64_t> expired = expire_pending_installs(tx); !expired) return expired.error();
    Result<std::int64_t> deleted = tx.execute("DELETE FROM pending_installs WHERE id_hash = $1", {id_hash});
    if (!deleted) return deleted.error();
    return ok_result();
  });
}

// ---- Application tables

Result<void> Store::apply_app_schema(std::string_view sql) {
  return database_->transact([&](Transaction& tx) { return tx.execute_script(sql); });
}

Result<void> Store::register_app_table(const AppTable& table) {
  if (!is_sql_identifier(table.table) || !is_sql_identifier(table.community_column)) {
    return Error(ErrorCode::kInvalidArgument, "app table and column names must be plain identifiers");
  }
  const std::string t = core::ascii_lower(table.table);
  const std::string c = core::ascii_lower(table.community_column);
  return database_->transact([&](Transaction& tx) -> Result<void> {
    if (!tx.query("SELECT " + c + " FROM " + t + " WHERE 1 = 0")) {
      return Error(ErrorCode::kNotFound, "app table or community column does not exist");
    }
    Result<std::int64_t> upserted = tx.execute(
        "INSERT INTO app_tables (table_name, community_column) VALUES ($1, $2) "
        "ON CONFLICT (table_name) DO UPDATE SET community_column = excluded.community_column",
        {t, c});
    if (!upserted) return upserted.error();
    return ok_result();
  });
}

Result<std::vector<AppTable>> Store::app_tables() {
  return transact_value(*database_, [&](Transaction& tx) -> Result<std::vector<AppTable>> {
    Result<Rows> rows = tx.query("SELECT table_name, community_column FROM app_tables ORDER BY table_name");
    if (!rows) return rows.error();
    std::vector<AppTable> out;
    for (const Row& row : *rows) out.push_back({.table = row.text(0), .community_column = row.text(1)});
    return out;
  });
}

}  // namespace wik::store
