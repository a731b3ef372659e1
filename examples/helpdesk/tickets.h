// Tickets: the helpdesk's own table, one community at a time, through wik::Data (every statement
// is bound to the community of the Data it runs on). Ticket numbers count from 1 per community.
#pragma once

#include <wik/data.h>
#include <wik/result.h>

#include <boost/asio/awaitable.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace helpdesk {

// The table, for App::schema() and App::register_table().
inline constexpr const char* kTicketsTable = "tickets";
extern const char* const kSchema;

enum class Source { kChat, kGroupPost };

struct Ticket {
  std::int64_t number = 0;
  std::string requester_id;  // app-scoped id of the person who opened it
  std::string title;
  std::string category;  // "" until chosen: hardware, software, access, other
  std::string state;     // open, answered, closed
  std::string answer;    // the latest answer from support, "" for none
  std::string post_id;   // the group post it came from, "" for a chat
};

// Opens a ticket and returns it (numbered one past the community's highest); `post_id` is "" for
// a ticket opened in chat.
boost::asio::awaitable<wik::Result<Ticket>> open_ticket(wik::Data& data, const std::string& requester_id, const std::string& title,
                                                        const std::string& post_id);
// Returns the ticket `number`, or kNotFound.
boost::asio::awaitable<wik::Result<Ticket>> find_ticket(wik::Data& data, std::int64_t number);
// Returns the tickets of the community (every requester when `requester_id` is empty), newest first;
// open ones only when `open_only`.
boost::asio::awaitable<wik::Result<std::vector<Ticket>>> list_tickets(wik::Data& data, const std::string& requester_id,
                                                                      bool open_only);
// Sets the category of ticket `number` opened by `requester_id`: kNotFound when there is none.
boost::asio::awaitable<wik::Result<Ticket>> set_category(wik::Data& data, const std::string& requester_id, std::int64_t number,
                                                         const std::string& category);
// Closes ticket `number` opened by `requester_id`: kNotFound when there is none.
boost::asio::awaitable<wik::Result<Ticket>> close_ticket(wik::Data& data, const std::string& requester_id, std::int64_t number);
// Records support's answer on ticket `number` and marks it answered: kNotFound when there is none.
boost::asio::awaitable<wik::Result<Ticket>> answer_ticket(wik::Data& data, std::int64_t number, const std::string& answer);

}  // namespace helpdesk
