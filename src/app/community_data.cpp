#include "app/community_data.h"

#include <charconv>
#include <memory>

#include "http/offload.h"

namespace wik {

std::int64_t DataRow::integer(std::size_t column) const {
  const auto& text = columns_.at(column);
  std::int64_t value = 0;
  if (!text) return 0;
  const auto [end, error] = std::from_chars(text->data(), text->data() + text->size(), value);
  return error == std::errc() && end == text->data() + text->size() ? value : 0;
}

// The work may outlive this coroutine (run_blocking's deadline), so it owns what it uses.
boost::asio::awaitable<Result<DataRows>> Data::query(std::string sql, DataValues values) {
  auto rows = std::make_shared<DataRows>();
  std::function<Result<void>(DataTransaction&)> work = [rows, sql = std::move(sql),
                                                        values = std::move(values)](DataTransaction& tx) -> Result<void> {
    Result<DataRows> found = tx.query(sql, values);
    if (!found) return found.error();
    *rows = std::move(*found);
    return ok_result();
  };
  Result<void> done = co_await transact(std::move(work));
  if (!done) co_return done.error();
  co_return std::move(*rows);
}

boost::asio::awaitable<Result<std::int64_t>> Data::execute(std::string sql, DataValues values) {
  auto changed = std::make_shared<std::int64_t>(0);
  std::function<Result<void>(DataTransaction&)> work = [changed, sql = std::move(sql),
                                                        values = std::move(values)](DataTransaction& tx) -> Result<void> {
    Result<std::int64_t> count = tx.execute(sql, values);
    if (!count) return count.error();
    *changed = *count;
    return ok_result();
  };
  Result<void> done = co_await transact(std::move(work));
  if (!done) co_return done.error();
  co_return *changed;
}

namespace app {

Result<DataRows> ScopedTransaction::query(std::string_view sql, const DataValues& values) {
  auto params = bind(sql, values);
  if (!params) return params.error();
  Result<store::Rows> rows = tx_.query_values(sql, *params);
  if (!rows) return rows.error();
  DataRows out;
  out.reserve(rows->size());
  for (const store::Row& row : *rows) {
    std::vector<std::optional<std::string>> columns;
    columns.reserve(row.size());
    for (std::size_t i = 0; i < row.size(); ++i) columns.push_back(row.optional_text(i));
    out.emplace_back(std::move(columns));
  }
  return out;
}

Result<std::int64_t> ScopedTransaction::execute(std::string_view sql, const DataValues& values) {
  auto params = bind(sql, values);
  if (!params) return params.error();
  return tx_.execute_values(sql, *params);
}

Result<std::vector<store::SqlValue>> ScopedTransaction::bind(std::string_view sql, const DataValues& values) const {
  if (!uses_community_parameter(sql)) {
    return Error(ErrorCode::kInvalidArgument,
                 "every statement must use $1, the community id (e.g. WHERE community_id = $1)");
  }
  std::vector<store::SqlValue> params;
  params.reserve(values.size() + 1);
  params.emplace_back(std::string_view(community_id_));
  for (const DataValue& value : values) {
    std::visit(
        [&](const auto& v) {
          using V = std::decay_t<decltype(v)>;
          if constexpr (std::is_same_v<V, std::string>) {
            params.emplace_back(std::string_view(v));
          } else {
            params.emplace_back(v);
          }
        },
        value);
  }
  return params;
}

bool uses_community_parameter(std::string_view sql) noexcept {
  for (std::size_t at = sql.find("$1"); at != std::string_view::npos; at = sql.find("$1", at + 2)) {
    const std::size_t next = at + 2;
    if (next == sql.size() || sql[next] < '0' || sql[next] > '9') return true;
  }
  return false;
}

CommunityData::CommunityData(store::Store& store, boost::asio::thread_pool& pool, std::string community_id,
                             std::chrono::milliseconds deadline)
    : store_(store), pool_(pool), community_id_(std::move(community_id)), deadline_(deadline) {}

boost::asio::awaitable<Result<void>> CommunityData::transact(std::function<Result<void>(DataTransaction&)> work) {
  // The pool may still run the work after a deadline: it owns copies of everything it uses.
  std::function<Result<void>()> blocking = [&store = store_, community_id = community_id_,
                                            work = std::move(work)]() -> Result<void> {
    Result<store::CommunityScope> scope = store.community(community_id);
    if (!scope) return scope.error();
    return scope->transact_app([&](store::Transaction& tx) {
      ScopedTransaction scoped(tx, community_id);
      return work(scoped);
    });
  };
  std::optional<Result<void>> done = co_await http::run_blocking(pool_, std::move(blocking), deadline_);
  if (!done) co_return Error(ErrorCode::kUnavailable, "the database did not answer in time");
  co_return std::move(*done);
}

}  // namespace app
}  // namespace wik
