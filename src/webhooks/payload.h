// parse_webhook: a webhook delivery's body (PROTOCOL.md §6.4–§6.5) split into the events it carries,
// each with the community it belongs to, its topic and a de-duplication key.
//
// A body is {"object": …, "entry": [{"id", "time", "changes": […] | "messaging": […]}]}. Each change
// or messaging item is one event:
//   - topic "<object>/<field>"; for messaging items the field follows the item's kind
//     (message → messages, or message_echoes when is_echo; postback → messaging_postbacks;
//     delivery → message_deliveries; read → message_reads; optin → messaging_optins;
//     referral → messaging_referrals);
//   - community id from, in order: value.community.id, sender.community.id,
//     recipient.community.id, value.target_community_id, value.actor_community_id — a string or
//     a number, kept as decimal text;
//   - de-duplication key "mid:<message.mid>" for chat messages, else "sha256:<hex>" of the object,
//     entry id and the item's JSON (platform retries resend the same bytes, so the same key);
//   - payload: {"object","entry_id","time","field","item"} as JSON, what the dispatcher hands to
//     handlers.
// Items without a community id, and objects or item kinds the kit does not know, are skipped and
// counted, never guessed. Invalid JSON or a body that is not the envelope is kMalformed; more than
// max_events items is kTooLarge. Pure, thread-safe.
#pragma once

#include <wik/result.h>

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace wik::webhooks {

struct WebhookEvent {
  std::string object;        // page | group | user | link | workplace_security
  std::string field;         // messages, mention, posts, preview, …
  std::string community_id;  // decimal text
  std::string dedupe_key;
  std::string payload;       // JSON text, see above
};

struct ParsedDelivery {
  std::vector<WebhookEvent> events;
  std::size_t skipped_without_community = 0;
  std::size_t skipped_unknown = 0;  // unknown object or messaging item kind
};

// The platform batches at most 1,000 updates per POST (PROTOCOL.md §6.3).
inline constexpr std::size_t kMaxEventsPerDelivery = 1000;

Result<ParsedDelivery> parse_webhook(std::string_view body, std::size_t max_events = kMaxEventsPerDelivery);

}  // namespace wik::webhooks
