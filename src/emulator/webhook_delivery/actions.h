// PlatformActions: what people and administrators do on the emulated platform, and what the
// platform then tells the apps. Shared by the browser pages and the control API so both behave alike.
//
// Each action validates its input (kNotFound for unknown people, threads, groups, posts;
// kPermissionDenied for a non-administrator installing, a person outside the thread or group),
// updates PlatformState, and publishes the webhook items the platform sends for it (PROTOCOL.md
// §6.4–§6.5), per subscribed app with that app's scoped ids:
//   send_message / press_quick_reply  → page/messages to the bot's app
//   press_postback                    → page/messaging_postbacks
//   mark_read                         → page/message_reads
//   confirm_delivery (a bot's message) → page/message_deliveries
//   post / comment                    → group/posts, group/comments to apps installed in the
//                                       community; page/mention to each bot mentioned as @[page_id]
//   add_group_member                  → group/membership
//   uninstall                         → token revoked at once, then the deauthorization POST
// Thread-safe (state and delivery are).
#pragma once

#include <wik/result.h>

#include <cstddef>
#include <optional>
#include <string>

#include "emulator/state/platform_state.h"
#include "emulator/webhook_delivery/webhook_delivery.h"

namespace wik::emulator {

// Limits on what people type, in characters (code points). Longer text is kTooLarge, text that is not
// valid UTF-8 or is empty is kInvalidArgument; nothing is stored or sent then.
inline constexpr std::size_t kMaxChatTextCharacters = 2000;   // Messenger's text limit (PROTOCOL.md §9.1)
inline constexpr std::size_t kMaxPostCharacters = 63206;      // Facebook's post limit
inline constexpr std::size_t kMaxCommentCharacters = 8000;    // Facebook's comment limit

class PlatformActions {
 public:
  PlatformActions(PlatformState& state, WebhookDelivery& delivery) : state_(state), delivery_(delivery) {}

  // Opens (or returns) a person's 1:1 conversation with the bot of an installed app.
  Result<Thread> open_chat(const Id& user_id, const Id& page_id);
  Result<ChatMessage> send_message(const Id& user_id, const Id& thread_id, std::string text);
  // Presses quick reply `index` of the bot message `bot_mid` (its title becomes the message text).
  Result<ChatMessage> press_quick_reply(const Id& user_id, const Id& thread_id, const std::string& bot_mid,
                                        std::size_t index);
  // Presses postback button `index` of the bot message `bot_mid` (button or generic template;
  // generic templates number their buttons across elements in order).
  Result<void> press_postback(const Id& user_id, const Id& thread_id, const std::string& bot_mid, std::size_t index);
  // Presses the Get Started button of a bot (its messenger profile's get_started payload).
  Result<void> press_get_started(const Id& user_id, const Id& page_id);
  Result<void> mark_read(const Id& user_id, const Id& thread_id);
  // Tells the bot's app that a message it sent reached the people of its thread: one
  // page/message_deliveries item per person (the Graph host calls this once the Send API stored
  // the message). Does nothing for a person's message or a thread without a bot.
  void confirm_delivery(const ChatMessage& bot_message);

  Result<Post> post(const Id& user_id, const Id& group_id, std::string message);
  Result<Comment> comment(const Id& user_id, const Id& object_id, std::string message);
  Result<void> add_group_member(const Id& group_id, const Id& user_id);

  Result<Install> install(const Id& app_id, const Id& admin_id);
  Result<Install> uninstall(const Id& app_id, const Id& community_id, const Id& admin_id);

 private:
  PlatformState& state_;
  WebhookDelivery& delivery_;
};

}  // namespace wik::emulator
