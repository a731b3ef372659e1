// Realistic webhook deliveries for the webhook benchmarks (docs/PERFORMANCE.md, "Webhooks"): a
// Workplace `page` delivery with one `messages` item, built and serialised by the emulator's own
// builders (emulator/webhook_delivery/events.h), so the bytes are the ones the emulated platform
// sends: numeric `sender.community.id`, \uXXXX escapes, `time` in ms. The message text is padded
// to bring the body to about `body_bytes`. Header-only; pure functions.
#pragma once

#include <algorithm>
#include <boost/json/value.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "emulator/webhook_delivery/events.h"

namespace wik::bench {

// One person writing to the bot of one community, as one app sees them.
struct ChatParties {
  std::string community_id;  // digits
  std::string page_id;       // the bot: the entry id and the recipient
  std::string sender_id;     // the person, app-scoped
};

// Returns a helpdesk-like message of about `length` bytes (at least 16).
inline std::string message_text(std::size_t length) {
  static constexpr std::string_view kSentences =
      "Hello, since this morning my laptop shows a blue screen after the VPN client starts, and I "
      "cannot reach the shared drive of the finance team. I already restarted twice and ran the "
      "updates from the company portal. Could someone from IT have a look today? My ticket from "
      "last week (printer on the 3rd floor) is still open as well. Thanks a lot! ";
  std::string text;
  while (text.size() < length) text += kSentences;
  text.resize(std::max<std::size_t>(length, 16));
  while (!text.empty() && text.back() == ' ') text.pop_back();
  return text;
}

// Returns the delivery's exact bytes: {"object":"page","entry":[{"id":page,"time":…,
// "messaging":[{"sender":{"id","community":{"id"}},"recipient":{"id"},"timestamp","message":{"mid","text"}}]}]}.
inline std::string message_delivery(const ChatParties& parties, std::string_view mid, std::string_view text,
                                    std::int64_t now_ms) {
  const emulator::events::ChatContext context{.sender_id = parties.sender_id,
                                              .community_id = parties.community_id,
                                              .page_id = parties.page_id,
                                              .thread_id = std::nullopt,
                                              .timestamp_ms = now_ms,
                                              .community_id_as_string = false};
  const std::vector<emulator::events::EntryItem> items = {
      {.entry_id = parties.page_id, .field = "messages", .item = emulator::events::message_item(context, mid, text)}};
  return emulator::events::serialize_ascii(emulator::events::envelope("page", items, now_ms));
}

// Returns a message delivery of about `body_bytes` bytes once its mid is `mid_length` bytes long
// (0: as long as `mid`; a template's placeholder mid is replaced by a longer one later).
inline std::string sized_message_delivery(const ChatParties& parties, std::string_view mid, std::size_t body_bytes,
                                          std::int64_t now_ms, std::size_t mid_length = 0) {
  const std::size_t final_mid = mid_length != 0 ? mid_length : mid.size();
  const std::size_t frame = message_delivery(parties, mid, "", now_ms).size() - mid.size() + final_mid;
  const std::size_t text_length = body_bytes > frame + 16 ? body_bytes - frame : 16;
  return message_delivery(parties, mid, message_text(text_length), now_ms);
}

}  // namespace wik::bench
