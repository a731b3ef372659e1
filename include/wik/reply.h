// Reply: what a bot sends in Work Chat, built and checked against the Send API's limits before it
// is sent (PROTOCOL.md §9.1), so a mistake is a clear error at the call, not a platform error later.
//
//   auto reply = wik::Reply::text("What kind of problem?")
//                    .quick_reply("Hardware", "CAT_HW")
//                    .quick_reply("Software", "CAT_SW");
//
// Limits: text 1–2,000 characters (never cut: too long is an error; split_text() splits on word
// boundaries); up to 13 quick replies, titles 1–20 characters, payloads 1–1,000; button template
// text up to 640 characters with 1–3 buttons, button titles 1–20 characters; postback payloads up
// to 1,000; URL buttons need an http(s) URL. A plain value type; message() checks and renders.
#pragma once

#include <wik/result.h>

#include <boost/json/object.hpp>
#include <string>
#include <vector>

namespace wik {

class Reply {
 public:
  static constexpr std::size_t kMaxTextCharacters = 2000;
  static constexpr std::size_t kMaxQuickReplies = 13;
  static constexpr std::size_t kMaxQuickReplyTitle = 20;
  static constexpr std::size_t kMaxPayload = 1000;
  static constexpr std::size_t kMaxButtonText = 640;
  static constexpr std::size_t kMaxButtons = 3;
  static constexpr std::size_t kMaxButtonTitle = 20;

  // A text message.
  static Reply text(std::string text);

  // Adds a quick reply; pressing it sends its title as a message with `payload`.
  Reply& quick_reply(std::string title, std::string payload);
  // Adds a postback button (the message becomes a button template).
  Reply& button(std::string title, std::string payload);
  // Adds a link button (the message becomes a button template).
  Reply& link_button(std::string title, std::string url);

  // Returns the Send API `message` object, or kInvalidArgument naming the limit that is exceeded.
  Result<boost::json::object> message() const;

  // Splits `text` into pieces of at most kMaxTextCharacters characters, at whitespace where it can.
  static std::vector<std::string> split_text(const std::string& text);

 private:
  struct QuickReply {
    std::string title;
    std::string payload;
  };
  struct Button {
    bool postback;
    std::string title;
    std::string value;  // payload or URL
  };
  std::string text_;
  std::vector<QuickReply> quick_replies_;
  std::vector<Button> buttons_;
};

}  // namespace wik
