// wik::Data: an integration's own tables, as one community sees them.
//
// An integration keeps its rows in tables it creates with App::schema() and registers with
// App::register_table(), so a deauthorization purges them. A Data handle is bound to one community
// (a handler's Context, or an admin page's CommunityAccess): in every statement `$1` is that
// community's id — bound by the kit, never by the caller — and the caller's values are `$2`,
// `$3`, ... A statement that does not use `$1` is refused with kInvalidArgument, so each
// statement is written about one community (`WHERE community_id = $1`, `VALUES ($1, ...)`).
// Statements are written once for both engines: the common subset of SQLite and PostgreSQL SQL.
//
//   auto rows = co_await ctx.data().query("SELECT number, title FROM tickets WHERE community_id = $1 "
//                                         "AND state = $2 ORDER BY number", {std::string("open")});
//
// Calls run on the kit's blocking pool, never on the caller's I/O thread. Each call, and each
// transact(), is one transaction; a community that is not installed (or was purged) answers
// kNotFound and nothing is written. Engine errors: kConflict for a unique-key violation,
// kUnavailable when the database is busy or did not answer in time, kInternal for a bad statement.
#pragma once

#include <wik/result.h>

#include <boost/asio/awaitable.hpp>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace wik {

// A statement's value for `$2`, `$3`, ...
using DataValue = std::variant<std::nullptr_t, std::int64_t, std::string>;
using DataValues = std::vector<DataValue>;

// One result row; columns in the order the statement names them.
class DataRow {
 public:
  explicit DataRow(std::vector<std::optional<std::string>> columns) : columns_(std::move(columns)) {}

  std::size_t size() const noexcept { return columns_.size(); }
  bool is_null(std::size_t column) const { return !columns_.at(column).has_value(); }
  // The column's text; "" for NULL.
  std::string text(std::size_t column) const { return columns_.at(column).value_or(""); }
  // The column as an integer; 0 for NULL or a column that does not hold an integer.
  std::int64_t integer(std::size_t column) const;

 private:
  std::vector<std::optional<std::string>> columns_;
};
using DataRows = std::vector<DataRow>;

// The statements of one transaction (Data::transact). Calls block; use it only inside transact().
class DataTransaction {
 public:
  virtual ~DataTransaction() = default;
  virtual Result<DataRows> query(std::string_view sql, const DataValues& values = {}) = 0;
  // Returns how many rows the statement inserted, updated or deleted.
  virtual Result<std::int64_t> execute(std::string_view sql, const DataValues& values = {}) = 0;
};

class Data {
 public:
  virtual ~Data() = default;

  // Runs `work` in one transaction: committed when it returns success, rolled back otherwise
  // (and its error returned). `work` runs once, on the blocking pool. When the database does
  // not answer within 30 s the call returns kUnavailable while `work` may still run later: let
  // `work` own what it uses (capture by value), never a reference to the caller's locals.
  virtual boost::asio::awaitable<Result<void>> transact(std::function<Result<void>(DataTransaction&)> work) = 0;

  // One statement in its own transaction.
  boost::asio::awaitable<Result<DataRows>> query(std::string sql, DataValues values = {});
  boost::asio::awaitable<Result<std::int64_t>> execute(std::string sql, DataValues values = {});
};

}  // namespace wik
