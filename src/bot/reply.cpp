#include <wik/reply.h>

#include <boost/json/array.hpp>

#include <algorithm>

#include "bot/limit_checks.h"
#include "core/utf8.h"

namespace wik {
namespace {

namespace json = boost::json;
using bot::check_count;
using bot::check_length;
using bot::check_web_url;

const std::string kTheMessage = "the message";

Result<json::object> render_button(const detail::Button& button, const std::string& owner) {
  if (auto checked = check_length("a button title of " + owner, button.title, Reply::kMaxButtonTitle); !checked) {
    return checked.error();
  }
  if (button.postback) {
    if (auto checked = check_length("a button payload of " + owner, button.value, Reply::kMaxPayload); !checked) {
      return checked.error();
    }
    return json::object{{"type", "postback"}, {"title", button.title}, {"payload", button.value}};
  }
  if (auto checked = check_web_url("a link button of " + owner, button.value); !checked) return checked.error();
  return json::object{{"type", "web_url"}, {"title", button.title}, {"url", button.value}};
}

// Renders the buttons of `owner` ("the message", "card 2"): at most Reply::kMaxButtons.
Result<json::array> render_buttons(const std::vector<detail::Button>& buttons, const std::string& owner) {
  if (auto checked = check_count(owner, "buttons", buttons.size(), Reply::kMaxButtons); !checked) {
    return checked.error();
  }
  json::array rendered;
  for (const auto& button : buttons) {
    auto one = render_button(button, owner);
    if (!one) return one.error();
    rendered.emplace_back(std::move(*one));
  }
  return rendered;
}

json::object template_attachment(json::object payload) {
  return json::object{{"attachment", {{"type", "template"}, {"payload", std::move(payload)}}}};
}

}  // namespace

Card& Card::subtitle(std::string subtitle) {
  subtitle_ = std::move(subtitle);
  return *this;
}

Card& Card::image(std::string url) {
  image_url_ = std::move(url);
  return *this;
}

Card& Card::default_action(std::string url) {
  default_url_ = std::move(url);
  return *this;
}

Card& Card::button(std::string title, std::string payload) {
  buttons_.push_back({true, std::move(title), std::move(payload)});
  return *this;
}

Card& Card::link_button(std::string title, std::string url) {
  buttons_.push_back({false, std::move(title), std::move(url)});
  return *this;
}

Reply Reply::text(std::string text) {
  Reply reply;
  reply.text_ = std::move(text);
  return reply;
}

Reply Reply::cards() {
  Reply reply;
  reply.kind_ = Kind::kCards;
  return reply;
}

std::vector<Reply> Reply::texts(const std::string& text) {
  std::vector<Reply> replies;
  for (auto& piece : split_text(text)) replies.push_back(Reply::text(std::move(piece)));
  return replies;
}

Reply& Reply::quick_reply(std::string title, std::string payload) {
  quick_replies_.push_back({std::move(title), std::move(payload)});
  return *this;
}

Reply& Reply::button(std::string title, std::string payload) {
  buttons_.push_back({true, std::move(title), std::move(payload)});
  return *this;
}

Reply& Reply::link_button(std::string title, std::string url) {
  buttons_.push_back({false, std::move(title), std::move(url)});
  return *this;
}

Reply& Reply::card(Card card) {
  cards_.push_back(std::move(card));
  return *this;
}

Result<json::object> Reply::message() const {
  auto message = kind_ == Kind::kText ? text_message() : cards_message();
  if (!message || quick_replies_.empty()) return message;
  if (auto checked = check_count(kTheMessage, "quick replies", quick_replies_.size(), kMaxQuickReplies); !checked) {
    return checked.error();
  }
  json::array quick_replies;
  for (const auto& quick_reply : quick_replies_) {
    if (auto checked = check_length("a quick reply title", quick_reply.title, kMaxQuickReplyTitle); !checked) {
      return checked.error();
    }
    if (auto checked = check_length("a quick reply payload", quick_reply.payload, kMaxPayload); !checked) {
      return checked.error();
    }
    quick_replies.push_back({{"content_type", "text"}, {"title", quick_reply.title}, {"payload", quick_reply.payload}});
  }
  message->emplace("quick_replies", std::move(quick_replies));
  return message;
}

Result<json::object> Reply::text_message() const {
  if (!cards_.empty()) {
    return Error(ErrorCode::kInvalidArgument, "cards go on a Reply::cards() message, not on a text message");
  }
  if (buttons_.empty()) {
    if (auto checked = check_length("the text", text_, kMaxTextCharacters); !checked) return checked.error();
    return json::object{{"text", text_}};
  }
  if (auto checked = check_length("the text of a button template", text_, kMaxButtonText); !checked) {
    return checked.error();
  }
  auto buttons = render_buttons(buttons_, kTheMessage);
  if (!buttons) return buttons.error();
  return template_attachment({{"template_type", "button"}, {"text", text_}, {"buttons", std::move(*buttons)}});
}

Result<json::object> Reply::cards_message() const {
  if (!buttons_.empty()) {
    return Error(ErrorCode::kInvalidArgument,
                 "a Reply::cards() message has no buttons of its own: add them to its cards");
  }
  if (cards_.empty()) return Error(ErrorCode::kInvalidArgument, "a Reply::cards() message needs at least one card");
  if (auto checked = check_count(kTheMessage, "cards", cards_.size(), kMaxCards); !checked) return checked.error();
  json::array elements;
  for (std::size_t i = 0; i < cards_.size(); ++i) {
    auto element = card_element(cards_[i], i + 1);
    if (!element) return element.error();
    elements.emplace_back(std::move(*element));
  }
  return template_attachment({{"template_type", "generic"}, {"elements", std::move(elements)}});
}

Result<json::object> Reply::card_element(const Card& card, std::size_t number) {
  const std::string name = "card " + std::to_string(number);
  json::object element;
  if (auto checked = check_length("the title of " + name, card.title_, kMaxCardTitle); !checked) return checked.error();
  element["title"] = card.title_;
  if (card.subtitle_) {
    if (auto checked = check_length("the subtitle of " + name, *card.subtitle_, kMaxCardSubtitle); !checked) {
      return checked.error();
    }
    element["subtitle"] = *card.subtitle_;
  }
  if (card.image_url_) {
    if (auto checked = check_web_url("the image of " + name, *card.image_url_); !checked) return checked.error();
    element["image_url"] = *card.image_url_;
  }
  if (card.default_url_) {
    if (auto checked = check_web_url("the default action of " + name, *card.default_url_); !checked) {
      return checked.error();
    }
    element["default_action"] = {{"type", "web_url"}, {"url", *card.default_url_}};
  }
  if (!card.buttons_.empty()) {
    auto buttons = render_buttons(card.buttons_, name);
    if (!buttons) return buttons.error();
    element["buttons"] = std::move(*buttons);
  }
  return element;
}

std::vector<std::string> Reply::split_text(const std::string& text) {
  std::vector<std::string> pieces;
  std::size_t start = 0;
  while (start < text.size()) {
    // Walk kMaxTextCharacters code points forward, remembering the last whitespace.
    std::size_t end = start;
    std::size_t last_space = std::string::npos;
    for (std::size_t count = 0; end < text.size() && count < kMaxTextCharacters; ++count) {
      const auto lead = static_cast<unsigned char>(text[end]);
      if (lead == ' ' || lead == '\n' || lead == '\t') last_space = end;
      end += std::max<std::size_t>(1, core::utf8_sequence_length(lead));
    }
    end = std::min(end, text.size());
    if (end < text.size() && last_space != std::string::npos && last_space > start) end = last_space + 1;
    pieces.push_back(text.substr(start, end - start));
    start = end;
  }
  return pieces;
}

std::string_view sender_action_value(SenderAction action) noexcept {
  switch (action) {
    case SenderAction::kTypingOn: return "typing_on";
    case SenderAction::kTypingOff: return "typing_off";
    case SenderAction::kMarkSeen: return "mark_seen";
  }
  fatal("sender_action_value: not a SenderAction");
}

}  // namespace wik
