#include "tickets.h"

#include <chrono>
#include <memory>

namespace helpdesk {
namespace {

using wik::DataRows;
using wik::DataTransaction;
using wik::DataValues;
using wik::Result;

constexpr const char* kColumns = "number, requester_id, title, category, state, answer, post_id";

Ticket ticket_from(const wik::DataRow& row) {
  return {.number = row.integer(0),
          .requester_id = row.text(1),
          .title = row.text(2),
          .category = row.text(3),
          .state = row.text(4),
          .answer = row.text(5),
          .post_id = row.text(6)};
}

// Runs an UPDATE ... RETURNING on one ticket and returns it, or kNotFound.
boost::asio::awaitable<Result<Ticket>> update_one(wik::Data& data, std::string sql, DataValues values) {
  auto rows = co_await data.query(std::move(sql), std::move(values));
  if (!rows.ok()) co_return rows.error();
  if (rows->empty()) co_return wik::Error(wik::ErrorCode::kNotFound, "no such ticket");
  co_return ticket_from(rows->front());
}

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

const char* const kSchema =
    "CREATE TABLE IF NOT EXISTS tickets ("
    " community_id TEXT NOT NULL,"
    " number BIGINT NOT NULL,"
    " requester_id TEXT NOT NULL,"
    " title TEXT NOT NULL,"
    " category TEXT NOT NULL DEFAULT '',"
    " state TEXT NOT NULL DEFAULT 'open',"
    " answer TEXT NOT NULL DEFAULT '',"
    " post_id TEXT NOT NULL DEFAULT '',"
    " created_at BIGINT NOT NULL,"
    " PRIMARY KEY (community_id, number))";

boost::asio::awaitable<Result<Ticket>> open_ticket(wik::Data& data, const std::string& requester_id, const std::string& title,
                                                   const std::string& post_id) {
  auto opened = std::make_shared<Ticket>();
  std::function<Result<void>(DataTransaction&)> work = [opened, requester_id, title,
                                                        post_id](DataTransaction& tx) -> Result<void> {
    auto next = tx.query("SELECT COALESCE(MAX(number), 0) + 1 FROM tickets WHERE community_id = $1");
    if (!next) return next.error();
    auto rows = tx.query(std::string("INSERT INTO tickets (community_id, number, requester_id, title, post_id, created_at) "
                                     "VALUES ($1, $2, $3, $4, $5, $6) RETURNING ") + kColumns,
                         {next->front().integer(0), requester_id, title, post_id, now_ms()});
    if (!rows) return rows.error();
    *opened = ticket_from(rows->front());
    return wik::ok_result();
  };
  auto done = co_await data.transact(std::move(work));
  if (!done.ok()) co_return done.error();
  co_return std::move(*opened);
}

boost::asio::awaitable<Result<Ticket>> find_ticket(wik::Data& data, std::int64_t number) {
  std::string sql = std::string("SELECT ") + kColumns + " FROM tickets WHERE community_id = $1 AND number = $2";
  DataValues values{number};
  auto rows = co_await data.query(std::move(sql), std::move(values));
  if (!rows.ok()) co_return rows.error();
  if (rows->empty()) co_return wik::Error(wik::ErrorCode::kNotFound, "no such ticket");
  co_return ticket_from(rows->front());
}

boost::asio::awaitable<Result<std::vector<Ticket>>> list_tickets(wik::Data& data, const std::string& requester_id,
                                                                 bool open_only) {
  std::string sql = std::string("SELECT ") + kColumns +
                    " FROM tickets WHERE community_id = $1 AND ($2 = '' OR requester_id = $2) AND "
                    "($3 = 0 OR state <> 'closed') ORDER BY number DESC";
  DataValues values{requester_id, std::int64_t{open_only ? 1 : 0}};
  auto rows = co_await data.query(std::move(sql), std::move(values));
  if (!rows.ok()) co_return rows.error();
  std::vector<Ticket> tickets;
  for (const wik::DataRow& row : *rows) tickets.push_back(ticket_from(row));
  co_return tickets;
}

boost::asio::awaitable<Result<Ticket>> set_category(wik::Data& data, const std::string& requester_id, std::int64_t number,
                                                    const std::string& category) {
  std::string sql = std::string("UPDATE tickets SET category = $4 WHERE community_id = $1 AND number = $2 AND "
                                "requester_id = $3 RETURNING ") + kColumns;
  DataValues values{number, requester_id, category};
  co_return co_await update_one(data, std::move(sql), std::move(values));
}

boost::asio::awaitable<Result<Ticket>> close_ticket(wik::Data& data, const std::string& requester_id, std::int64_t number) {
  std::string sql = std::string("UPDATE tickets SET state = 'closed' WHERE community_id = $1 AND number = $2 AND "
                                "requester_id = $3 RETURNING ") + kColumns;
  DataValues values{number, requester_id};
  co_return co_await update_one(data, std::move(sql), std::move(values));
}

boost::asio::awaitable<Result<Ticket>> answer_ticket(wik::Data& data, std::int64_t number, const std::string& answer) {
  std::string sql = std::string("UPDATE tickets SET state = 'answered', answer = $3 WHERE community_id = $1 AND "
                                "number = $2 RETURNING ") + kColumns;
  DataValues values{number, answer};
  co_return co_await update_one(data, std::move(sql), std::move(values));
}

}  // namespace helpdesk
