#include <wik/reply.h>

#include <boost/json/array.hpp>

#include <algorithm>

#include "core/utf8.h"
#include "http/url.h"

namespace wik {
namespace {

Result<void> check_length(std::string_view what, std::string_view text, std::size_t max) {
  const auto count = core::utf8_length(text);
  if (!count) return Error(ErrorCode::kInvalidArgument, std::string(what) + " is not valid UTF-8");
  if (*count == 0) return Error(ErrorCode::kInvalidArgument, std::string(what) + " is empty");
  if (*count > max) {
    return Error(ErrorCode::kInvalidArgument, std::string(what) + " has " + std::to_string(*count) +
                                                  " characters; the platform allows " + std::to_string(max));
  }
  return ok_result();
}

}  // namespace

Reply Reply::text(std::string text) {
  Reply reply;
  reply.text_ = std::move(text);
  return reply;
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

Result<boost::json::object> Reply::message() const {
  const std::size_t text_limit = buttons_.empty() ? kMaxTextCharacters : kMaxButtonText;
  if (auto checked = check_length("the text", text_, text_limit); !checked.ok()) return checked.error();
  if (quick_replies_.size() > kMaxQuickReplies) {
    return Error(ErrorCode::kInvalidArgument, "a message has at most " + std::to_string(kMaxQuickReplies) +
                                                  " quick replies, not " + std::to_string(quick_replies_.size()));
  }
  if (buttons_.size() > kMaxButtons) {
    return Error(ErrorCode::kInvalidArgument, "a message has at most " + std::to_string(kMaxButtons) +
                                                  " buttons, not " + std::to_string(buttons_.size()));
  }
  boost::json::object message;
  if (buttons_.empty()) {
    message["text"] = text_;
  } else {
    boost::json::array buttons;
    for (const auto& button : buttons_) {
      if (auto checked = check_length("a button title", button.title, kMaxButtonTitle); !checked.ok()) {
        return checked.error();
      }
      if (button.postback) {
        if (auto checked = check_length("a button payload", button.value, kMaxPayload); !checked.ok()) {
          return checked.error();
        }
        buttons.push_back({{"type", "postback"}, {"title", button.title}, {"payload", button.value}});
      } else {
        const auto url = http::parse_absolute_url(button.value);
        if (!url.ok() || (url->scheme() != "https" && url->scheme() != "http")) {
          return Error(ErrorCode::kInvalidArgument, "a link button needs an http(s) URL");
        }
        buttons.push_back({{"type", "web_url"}, {"title", button.title}, {"url", button.value}});
      }
    }
    message["attachment"] = {
        {"type", "template"},
        {"payload", {{"template_type", "button"}, {"text", text_}, {"buttons", std::move(buttons)}}}};
  }
  if (!quick_replies_.empty()) {
    boost::json::array quick_replies;
    for (const auto& quick_reply : quick_replies_) {
      if (auto checked = check_length("a quick reply title", quick_reply.title, kMaxQuickReplyTitle); !checked.ok()) {
        return checked.error();
      }
      if (auto checked = check_length("a quick reply payload", quick_reply.payload, kMaxPayload); !checked.ok()) {
        return checked.error();
      }
      quick_replies.push_back(
          {{"content_type", "text"}, {"title", quick_reply.title}, {"payload", quick_reply.payload}});
    }
    message["quick_replies"] = std::move(quick_replies);
  }
  return message;
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

}  // namespace wik
