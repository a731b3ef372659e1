#include "helpdesk.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <memory>
#include <sstream>

#include "tickets.h"

namespace helpdesk {
namespace {

namespace asio = boost::asio;
using boost::beast::http::verb;
using wik::Context;
using wik::Reply;
using wik::Result;

constexpr std::array<std::string_view, 4> kCategories = {"hardware", "software", "access", "other"};
constexpr std::size_t kMaxAnswerBytes = 1500;
constexpr std::string_view kSupportHours = "support_hours";

std::string lower_ascii(std::string_view text) {
  std::string out(text);
  std::ranges::transform(out, out.begin(), [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; });
  return out;
}

// True when `word` is one of the '|'-separated `words`.
bool is_one_of(std::string_view word, const std::string& words) {
  std::stringstream list(words);
  for (std::string candidate; std::getline(list, candidate, '|');) {
    if (!candidate.empty() && lower_ascii(candidate) == word) return true;
  }
  return false;
}

std::optional<std::int64_t> ticket_number(std::string_view text) {
  if (!text.empty() && text.front() == '#') text.remove_prefix(1);
  std::int64_t number = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), number);
  if (error != std::errc() || end != text.data() + text.size() || number <= 0) return std::nullopt;
  return number;
}

struct Command {
  enum Kind { kList, kStatus, kClose, kNotUnderstood, kNewTicket } kind = kNewTicket;
  std::int64_t number = 0;
};

Command parse_command(const std::string& text, const Context& context) {
  std::istringstream words(lower_ascii(text));
  std::string first;
  std::string second;
  std::string rest;
  words >> first >> second >> rest;
  if (first.empty()) return {Command::kNotUnderstood};
  const bool one_word = second.empty();
  if (one_word && (is_one_of(first, context.text("helpdesk.words.list")) ||
                   is_one_of(first, context.text("helpdesk.words.status")))) {
    return {Command::kList};
  }
  const bool numbered = !second.empty() && rest.empty();
  for (const auto& [words_key, kind] : {std::pair{"helpdesk.words.status", Command::kStatus},
                                        std::pair{"helpdesk.words.close", Command::kClose}}) {
    if (!is_one_of(first, context.text(words_key))) continue;
    const auto number = numbered ? ticket_number(second) : std::nullopt;
    if (!number) return {Command::kNotUnderstood};
    return {kind, *number};
  }
  if (text.size() < 3) return {Command::kNotUnderstood};
  return {Command::kNewTicket};
}

class Helpdesk {
 public:
  Helpdesk(wik::Catalogs catalogs, Settings settings) : catalogs_(std::move(catalogs)), settings_(std::move(settings)) {}

  asio::awaitable<Result<void>> on_message(Context& context, const wik::Message& message);
  asio::awaitable<Result<void>> on_postback(Context& context, const wik::Postback& postback);
  asio::awaitable<Result<void>> on_mention(Context& context, const wik::Mention& mention);
  asio::awaitable<Result<wik::AdminPage>> tickets_page(wik::AdminContext& admin, const wik::AdminRequest& request);

 private:
  asio::awaitable<Result<void>> on_payload(Context& context, const std::string& person, std::string_view payload);
  asio::awaitable<Result<void>> open_from_chat(Context& context, const std::string& person, const std::string& text);
  asio::awaitable<Result<void>> list(Context& context, const std::string& person);
  asio::awaitable<Result<void>> status(Context& context, std::int64_t number);
  asio::awaitable<Result<void>> close(Context& context, const std::string& person, std::int64_t number);
  asio::awaitable<Result<wik::AdminPage>> answer(wik::AdminContext& admin, const wik::AdminRequest& request);
  asio::awaitable<std::string> locale_of(Context& context, const std::string& person);

  std::string ticket_url(const std::string& community_id, std::int64_t number) const {
    return settings_.public_url + "/admin/tickets?community=" + community_id + "&number=" + std::to_string(number);
  }

  wik::Catalogs catalogs_;  // for texts to a person other than the event's (the admin page's answers)
  Settings settings_;
};

// The quick reply every answer offers: the person's open tickets.
Reply& with_list(Reply& reply, const Context& context) {
  return reply.quick_reply(context.text("helpdesk.quick.list"), "LIST");
}

asio::awaitable<Result<void>> Helpdesk::on_message(Context& context, const wik::Message& message) {
  if (message.quick_reply_payload) {
    co_return co_await on_payload(context, message.sender_id, *message.quick_reply_payload);
  }
  const Command command = parse_command(message.text, context);
  switch (command.kind) {
    case Command::kList: co_return co_await list(context, message.sender_id);
    case Command::kStatus: co_return co_await status(context, command.number);
    case Command::kClose: co_return co_await close(context, message.sender_id, command.number);
    case Command::kNotUnderstood: co_return co_await context.not_understood();
    case Command::kNewTicket: break;
  }
  co_return co_await open_from_chat(context, message.sender_id, message.text);
}

asio::awaitable<Result<void>> Helpdesk::on_postback(Context& context, const wik::Postback& postback) {
  co_return co_await on_payload(context, postback.sender_id, postback.payload);
}

// Payloads: LIST, CAT:<number>:<category>, CLOSE:<number> (the kit answers Get Started and Help).
asio::awaitable<Result<void>> Helpdesk::on_payload(Context& context, const std::string& person,
                                                   std::string_view payload) {
  if (payload == "LIST") co_return co_await list(context, person);
  if (payload.starts_with("CLOSE:")) {
    if (const auto number = ticket_number(payload.substr(6))) co_return co_await close(context, person, *number);
  }
  if (payload.starts_with("CAT:")) {
    const std::string_view rest = payload.substr(4);
    const std::size_t colon = rest.find(':');
    const auto number = colon == std::string_view::npos ? std::nullopt : ticket_number(rest.substr(0, colon));
    const std::string category(colon == std::string_view::npos ? std::string_view() : rest.substr(colon + 1));
    if (number && std::ranges::find(kCategories, category) != kCategories.end()) {
      auto filed = co_await set_category(context.data(), person, *number, category);
      if (!filed.ok() && filed.error().code() == wik::ErrorCode::kNotFound) co_return co_await context.not_understood();
      if (!filed.ok()) co_return filed.error();
      std::string text = context.text("helpdesk.filed", {{"number", std::to_string(*number)},
                                                          {"category", context.text("helpdesk.category." + category)}});
      // The community's support hours, as its admins set them (the declared default otherwise).
      std::string hours_setting(kSupportHours);
      auto hours = co_await context.setting(std::move(hours_setting));
      if (!hours.ok()) co_return hours.error();
      if (!hours->empty()) text += " " + context.text("helpdesk.hours", {{"hours", *hours}});
      auto reply = Reply::text(text)
                       .link_button(context.text("helpdesk.open_link"), ticket_url(context.community_id(), *number));
      co_return co_await context.reply(with_list(reply, context));
    }
  }
  co_return co_await context.not_understood();
}

asio::awaitable<Result<void>> Helpdesk::open_from_chat(Context& context, const std::string& person,
                                                       const std::string& text) {
  const std::string no_post;
  auto ticket = co_await open_ticket(context.data(), person, text, no_post);
  if (!ticket.ok()) co_return ticket.error();
  const std::string number = std::to_string(ticket->number);
  auto reply = Reply::text(context.text("helpdesk.ask_category", {{"number", number}, {"title", ticket->title}}));
  for (const std::string_view category : kCategories) {
    reply.quick_reply(context.text("helpdesk.category." + std::string(category)),
                      "CAT:" + number + ":" + std::string(category));
  }
  co_return co_await context.reply(reply);
}

asio::awaitable<Result<void>> Helpdesk::list(Context& context, const std::string& person) {
  auto tickets = co_await list_tickets(context.data(), person, true);
  if (!tickets.ok()) co_return tickets.error();
  if (tickets->empty()) {
    const Reply none = Reply::text(context.text("helpdesk.list.none"));
    co_return co_await context.reply(none);
  }
  std::string text = context.text("helpdesk.list.header", {{"count", static_cast<std::int64_t>(tickets->size())}});
  for (const Ticket& ticket : *tickets) {
    text += "\n" + context.text("helpdesk.list.item", {{"number", std::to_string(ticket.number)},
                                                       {"title", ticket.title},
                                                       {"state", context.text("helpdesk.state." + ticket.state)}});
  }
  std::vector<Reply> pieces = Reply::texts(text);
  for (std::size_t i = 0; i + 1 < pieces.size(); ++i) {
    auto sent = co_await context.reply(pieces[i]);
    if (!sent.ok()) co_return sent.error();
  }
  Reply& last = pieces.back();
  for (std::size_t i = 0; i < std::min<std::size_t>(tickets->size(), 3); ++i) {
    const std::string number = std::to_string((*tickets)[i].number);
    last.quick_reply(context.text("helpdesk.quick.close", {{"number", number}}), "CLOSE:" + number);
  }
  co_return co_await context.reply(last);
}

asio::awaitable<Result<void>> Helpdesk::status(Context& context, std::int64_t number) {
  auto ticket = co_await find_ticket(context.data(), number);
  const std::string shown = std::to_string(number);
  if (!ticket.ok() && ticket.error().code() != wik::ErrorCode::kNotFound) co_return ticket.error();
  auto reply = Reply::text(ticket.ok() ? context.text("helpdesk.status",
                                                      {{"number", shown},
                                                       {"title", ticket->title},
                                                       {"state", context.text("helpdesk.state." + ticket->state)}})
                                       : context.text("helpdesk.no_such_ticket", {{"number", shown}}));
  co_return co_await context.reply(with_list(reply, context));
}

asio::awaitable<Result<void>> Helpdesk::close(Context& context, const std::string& person, std::int64_t number) {
  auto closed = co_await close_ticket(context.data(), person, number);
  const std::string shown = std::to_string(number);
  if (!closed.ok() && closed.error().code() != wik::ErrorCode::kNotFound) co_return closed.error();
  auto reply = Reply::text(closed.ok() ? context.text("helpdesk.closed", {{"number", shown}})
                                       : context.text("helpdesk.no_such_ticket", {{"number", shown}}));
  co_return co_await context.reply(with_list(reply, context));
}

asio::awaitable<Result<void>> Helpdesk::on_mention(Context& context, const wik::Mention& mention) {
  auto ticket = co_await open_ticket(context.data(), mention.from_id, mention.message, mention.post_id);
  if (!ticket.ok()) co_return ticket.error();
  const std::string locale = co_await locale_of(context, mention.from_id);
  std::string path = "/" + mention.post_id + "/comments";
  std::optional<boost::json::value> comment = boost::json::object{
      {"message", catalogs_.text(locale, "helpdesk.mention.comment",
                                 {{"number", std::to_string(ticket->number)},
                                  {"url", ticket_url(context.community_id(), ticket->number)}})}};
  std::vector<std::pair<std::string, std::string>> no_query;
  auto posted = co_await context.graph(verb::post, std::move(path), std::move(no_query), std::move(comment));
  if (!posted.ok()) co_return posted.error();
  co_return wik::ok_result();
}

asio::awaitable<std::string> Helpdesk::locale_of(Context& context, const std::string& person) {
  std::string path = "/" + person;
  std::vector<std::pair<std::string, std::string>> fields{{"fields", "locale"}};
  std::optional<boost::json::value> no_body;
  auto found = co_await context.graph(verb::get, std::move(path), std::move(fields), std::move(no_body));
  if (found.ok() && found->is_object()) {
    if (const auto* locale = found->as_object().if_contains("locale"); locale && locale->is_string()) {
      co_return std::string(locale->as_string());
    }
  }
  co_return catalogs_.default_locale();
}

// ---- The admin page: every community's tickets, with a form to answer each open one.

asio::awaitable<Result<wik::AdminPage>> Helpdesk::tickets_page(wik::AdminContext& admin, const wik::AdminRequest& request) {
  if (request.post) co_return co_await answer(admin, request);
  const auto say = [this](std::string_view key) { return catalogs_.text(catalogs_.default_locale(), key); };
  auto communities = co_await admin.communities();
  if (!communities.ok()) co_return communities.error();
  std::string body;
  if (const auto answered = request.field("answered")) {
    body += "<p role=\"status\"><strong>Answer sent for ticket #" + wik::html_escape(*answered) + ".</strong></p>\n";
  }
  if (communities->empty()) body += "<p>No community has installed the helpdesk yet.</p>\n";
  // A ticket's link (?community=…&number=…) shows that ticket alone.
  const auto only_community = request.field("community");
  const auto only_number = ticket_number(request.field("number").value_or(""));
  if (only_community && only_number) {
    body += "<p><a href=\"/admin/tickets\">Show every ticket</a></p>\n";
  }
  for (const wik::InstalledCommunity& community : *communities) {
    if (only_community && only_number && community.id != *only_community) continue;
    body += "<h2>" + wik::html_escape(community.name) + "</h2>\n";
    auto context = co_await admin.community(community.id);
    if (!context.ok()) continue;  // uninstalled since the list was read
    const std::string everyone;
    auto tickets = co_await list_tickets((*context)->data(), everyone, false);
    if (!tickets.ok()) co_return tickets.error();
    if (tickets->empty()) {
      body += "<p>No tickets yet.</p>\n";
      continue;
    }
    body += "<table>\n<thead><tr><th scope=\"col\">#</th><th scope=\"col\">Problem</th><th scope=\"col\">Category</th>"
            "<th scope=\"col\">State</th><th scope=\"col\">Answer</th></tr></thead>\n<tbody>\n";
    for (const Ticket& ticket : *tickets) {
      if (only_community && only_number && ticket.number != *only_number) continue;
      const std::string number = std::to_string(ticket.number);
      const std::string anchor = "ticket-" + wik::html_escape(community.id) + "-" + number;
      std::string answer_cell = wik::html_escape(ticket.answer);
      if (ticket.state != "closed") {
        answer_cell += "<form method=\"post\">" + request.csrf_field +
                       "<input type=\"hidden\" name=\"community\" value=\"" + wik::html_escape(community.id) +
                       "\"><input type=\"hidden\" name=\"number\" value=\"" + number + "\"><label for=\"answer-" +
                       anchor + "\">Answer ticket #" + number + "</label> <textarea id=\"answer-" + anchor +
                       "\" name=\"text\" rows=\"2\" required></textarea> <button type=\"submit\">Send answer</button></form>";
      }
      body += "<tr id=\"" + anchor + "\"><td>" + number + "</td><td>" + wik::html_escape(ticket.title) + "</td><td>" +
              wik::html_escape(ticket.category.empty() ? "—" : say("helpdesk.category." + ticket.category)) +
              "</td><td>" + wik::html_escape(say("helpdesk.state." + ticket.state)) + "</td><td>" + answer_cell + "</td></tr>\n";
    }
    body += "</tbody></table>\n";
  }
  co_return wik::AdminPage{.title = "Tickets", .body_html = std::move(body), .redirect = {}};
}

asio::awaitable<Result<wik::AdminPage>> Helpdesk::answer(wik::AdminContext& admin, const wik::AdminRequest& request) {
  const std::string text = request.field("text").value_or("");
  const auto number = ticket_number(request.field("number").value_or(""));
  if (!number) co_return wik::Error(wik::ErrorCode::kInvalidArgument, "The form names no ticket.");
  if (text.find_first_not_of(" \t\r\n") == std::string::npos || text.size() > kMaxAnswerBytes) {
    co_return wik::Error(wik::ErrorCode::kInvalidArgument, "Write an answer of 1 to 1500 characters.");
  }
  const std::string community_id = request.field("community").value_or("");
  auto context = co_await admin.community(community_id);
  if (!context.ok()) co_return context.error();
  auto ticket = co_await answer_ticket((*context)->data(), *number, text);
  if (!ticket.ok()) co_return ticket.error();
  const std::string locale = co_await locale_of(**context, ticket->requester_id);
  const std::string shown = std::to_string(*number);
  auto reply = Reply::text(catalogs_.text(locale, "helpdesk.answer", {{"number", shown}, {"text", text}}))
                   .quick_reply(catalogs_.text(locale, "helpdesk.quick.close", {{"number", shown}}), "CLOSE:" + shown)
                   .quick_reply(catalogs_.text(locale, "helpdesk.quick.list"), "LIST");
  std::string requester = ticket->requester_id;
  auto sent = co_await (*context)->send(std::move(requester), reply);
  if (!sent.ok()) co_return sent.error();
  co_return wik::AdminPage::see_other("/admin/tickets?answered=" + std::to_string(*number));
}

}  // namespace

void install_helpdesk(wik::App& app, wik::Catalogs catalogs, Settings settings) {
  wik::Bot bot{.catalogs = catalogs,
               .name_key = "helpdesk.name",
               .what_key = "helpdesk.what",
               .greeting_key = "helpdesk.profile_greeting",
               .help_key = "helpdesk.commands",
               .support_contact = settings.support_contact,
               .menu = {{"helpdesk.quick.list", "LIST"}}};
  auto helpdesk = std::make_shared<Helpdesk>(std::move(catalogs), std::move(settings));
  app.name("Helpdesk")
      .bot(std::move(bot))
      .schema(kSchema)
      .register_table(kTicketsTable, "community_id")
      .community_setting({.name = std::string(kSupportHours),
                          .label = "Support hours",
                          .help = "Told to people when their ticket is filed, e.g. “Mon–Fri 9:00–17:00 CET”. "
                                  "Leave it empty to say nothing.",
                          .default_value = "9:00–17:00",
                          .max_length = 100})
      .on_message([helpdesk](Context& c, const wik::Message& m) { return helpdesk->on_message(c, m); })
      .on_postback([helpdesk](Context& c, const wik::Postback& p) { return helpdesk->on_postback(c, p); })
      .on_mention([helpdesk](Context& c, const wik::Mention& m) { return helpdesk->on_mention(c, m); })
      .admin_page("/admin/tickets", "Tickets", [helpdesk](wik::AdminContext& a, const wik::AdminRequest& r) {
        return helpdesk->tickets_page(a, r);
      });
}

}  // namespace helpdesk
