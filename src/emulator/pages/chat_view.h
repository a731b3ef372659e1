// Chat and feed views: the HTML of a Work Chat conversation and of post/comment text.
//
// A bot's message is shown as the Send API accepted it (PROTOCOL.md §9.1): its text, button and
// generic templates (card titles and subtitles; postback buttons as forms; web_url buttons, card
// images and default actions as links that open only http(s) URLs, with rel=noopener, since the
// pages load nothing from other hosts), media attachments as links, and the quick replies of the
// newest message when a bot sent it. Every text and URL is escaped; malformed or unexpected JSON shapes are skipped,
// never trusted. Pure functions, thread-safe.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "emulator/state/platform_state.h"

namespace wik::emulator {

struct MessageView {
  const ChatMessage* message = nullptr;  // borrowed; REQUIRES: not null
  std::string sender_name;
  bool mine = false;  // sent by the person looking at the page
};

// Returns the HTML of `messages` (oldest first). Forms post to {thread_path}/quick_reply and
// {thread_path}/postback with fields mid and index, and carry `csrf_token`. Buttons are numbered as
// PlatformActions::press_postback counts them: every button of the message in order, across the
// elements of a generic template.
std::string render_conversation(const std::vector<MessageView>& messages, std::string_view thread_path,
                                std::string_view csrf_token);

// Returns `text` escaped, with each @[id] mention that `name_of` knows shown as a highlighted @Name.
std::string render_mentions(std::string_view text, const std::function<std::optional<std::string>(const Id&)>& name_of);

}  // namespace wik::emulator
