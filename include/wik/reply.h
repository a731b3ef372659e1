// Reply and SenderAction: what a bot sends in Work Chat through the Send API (PROTOCOL.md §9.1),
// built as plain values and checked against the platform's limits before anything is sent, so a
// mistake is a clear kInvalidArgument naming the limit at the call, not a platform error later.
//
//   auto reply = wik::Reply::text("What kind of problem?")
//                    .quick_reply("Hardware", "CAT_HW")
//                    .quick_reply("Software", "CAT_SW");
//   auto tickets = wik::Reply::cards()
//                      .card(wik::Card("Ticket 42").subtitle("Printer jam").button("Close", "CLOSE_42"))
//                      .card(wik::Card("Ticket 43").link_button("Open", "https://vendor.example/t/43"));
//
// The builders and what message() renders:
//   Reply::text(t)                   {"text":…}; with button()/link_button() a button template
//   Reply::cards() + card(Card)      a generic template: a row of cards with title, subtitle, image,
//                                    a default action URL and buttons
//   quick_reply(title, payload)      on any of the above
//   Reply::texts(t), split_text(t)   a long text as several messages, split at whitespace
//   SenderAction                     typing_on / typing_off / mark_seen (sender_action_value())
// Limits, counted in characters (Unicode code points, never bytes; text that is not valid UTF-8 is
// refused): text 1–2,000 (never cut: too long is an error); button template text 1–640 with 1–3
// buttons; 1–10 cards, card titles 1–80, subtitles 1–80, 0–3 buttons per card; button and quick
// reply titles 1–20; postback and quick reply payloads 1–1,000; up to 13 quick replies; link
// buttons, images and default actions need an http(s) URL. Plain value types; thread-compatible.
#pragma once

#include <wik/result.h>

#include <boost/json/object.hpp>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace wik {

namespace detail {
// A postback or link button as Reply and Card hold it until Reply::message() checks it.
struct Button {
  bool postback;
  std::string title;
  std::string value;  // payload or URL
};
}  // namespace detail

// One card of a generic template: a title, and optionally a subtitle, an image, a URL opened when
// the card itself is tapped, and up to Reply::kMaxButtons buttons. Checked by Reply::message().
class Card {
 public:
  explicit Card(std::string title) : title_(std::move(title)) {}

  Card& subtitle(std::string subtitle);
  // Shows the image at `url` (http or https) on the card.
  Card& image(std::string url);
  // Opens `url` (http or https) when the card itself is tapped (the element's default_action).
  Card& default_action(std::string url);
  // Adds a postback button: pressing it sends `payload` to the bot as a postback.
  Card& button(std::string title, std::string payload);
  // Adds a link button that opens `url` (http or https).
  Card& link_button(std::string title, std::string url);

 private:
  friend class Reply;
  std::string title_;
  std::optional<std::string> subtitle_;
  std::optional<std::string> image_url_;
  std::optional<std::string> default_url_;
  std::vector<detail::Button> buttons_;
};

class Reply {
 public:
  static constexpr std::size_t kMaxTextCharacters = 2000;
  static constexpr std::size_t kMaxQuickReplies = 13;
  static constexpr std::size_t kMaxQuickReplyTitle = 20;
  static constexpr std::size_t kMaxPayload = 1000;
  static constexpr std::size_t kMaxButtonText = 640;
  static constexpr std::size_t kMaxButtons = 3;  // of a button template, and of each card
  static constexpr std::size_t kMaxButtonTitle = 20;
  static constexpr std::size_t kMaxCards = 10;
  static constexpr std::size_t kMaxCardTitle = 80;
  static constexpr std::size_t kMaxCardSubtitle = 80;

  // A text message; buttons make it a button template.
  static Reply text(std::string text);
  // A generic template: a row of 1–kMaxCards cards, added with card().
  static Reply cards();
  // Returns one text message per piece of split_text(text), in order (none for empty text).
  static std::vector<Reply> texts(const std::string& text);

  // Adds a quick reply; pressing it sends its title as a message with `payload`.
  Reply& quick_reply(std::string title, std::string payload);
  // Adds a postback button to a text message (making it a button template).
  Reply& button(std::string title, std::string payload);
  // Adds a link button to a text message (making it a button template).
  Reply& link_button(std::string title, std::string url);
  // Adds a card to a cards() message.
  Reply& card(Card card);

  // Returns the Send API `message` object, or kInvalidArgument naming the limit that is exceeded
  // (or the mix that is not allowed: buttons on a cards() message, cards on a text message).
  Result<boost::json::object> message() const;

  // Splits `text` into pieces of at most kMaxTextCharacters characters, at whitespace where it can,
  // never inside the UTF-8 sequence of a character; the pieces joined are `text`.
  static std::vector<std::string> split_text(const std::string& text);

 private:
  struct QuickReply {
    std::string title;
    std::string payload;
  };
  Result<boost::json::object> text_message() const;
  Result<boost::json::object> cards_message() const;
  // Returns the generic template element of `card`, the `number`th (from 1) of the message.
  static Result<boost::json::object> card_element(const Card& card, std::size_t number);

  enum class Kind { kText, kCards };
  Kind kind_ = Kind::kText;
  std::string text_;
  std::vector<QuickReply> quick_replies_;
  std::vector<detail::Button> buttons_;
  std::vector<Card> cards_;
};

// What the bot shows in a conversation instead of a message (PROTOCOL.md §9.1 sender actions).
enum class SenderAction { kTypingOn, kTypingOff, kMarkSeen };

// Returns the Send API value of `action` for the body's "sender_action" member: "typing_on",
// "typing_off" or "mark_seen".
std::string_view sender_action_value(SenderAction action) noexcept;

}  // namespace wik
