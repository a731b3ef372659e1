// Webhook items: the JSON the emulated platform puts into `entry[].messaging[]` and
// `entry[].changes[].value` (PROTOCOL.md §6.4–§6.5), and the serialiser that turns an envelope into
// the exact bytes that are signed and sent (§6.2).
//
// Every builder is a pure function of values already seen through one app's eyes: callers pass the
// app-scoped user ids (PlatformState::scoped_user_id) of the app the item is for, so two apps get
// different ids for the same person. Ids are decimal strings except `sender.community.id` of chat
// items, a JSON number unless `community_id_as_string` (§6.4). Times: chat timestamps in ms,
// `mention.created_time` in Unix s, group items' times as ISO-8601 text with a "+0000" offset.
// Thread-safe (no state).
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "emulator/state/platform_state.h"

namespace wik::emulator::events {

// --- serialisation ------------------------------------------------------------------------------

// Returns `value` as compact JSON in which every non-ASCII character is written as \uXXXX
// (lower-case hex; characters above U+FFFF as a surrogate pair), so the text is pure ASCII and
// parses back to the same value. Invalid UTF-8 inside a string becomes U+FFFD.
std::string serialize_ascii(const boost::json::value& value);

// Returns "YYYY-MM-DDTHH:MM:SS+0000" for Unix seconds `unix_seconds` (UTC).
std::string iso8601(std::int64_t unix_seconds);

// --- envelope -----------------------------------------------------------------------------------

// Returns true when `field` of `object` is a chat field whose items go into `entry[].messaging[]`
// (page: messages, messaging_postbacks, message_deliveries, message_reads, …) rather than into
// `entry[].changes[]`.
bool is_messaging_field(std::string_view object, std::string_view field);

// One item queued for an entry: a messaging item, or a change `{"field": …, "value": …}`.
struct EntryItem {
  Id entry_id;
  std::string field;
  boost::json::value item;
};

// Returns {"object": object, "entry": [...]}: one entry per item, `time` in ms for messaging entries
// and in s for change entries (`now_ms` is the platform time).
boost::json::object envelope(std::string_view object, const std::vector<EntryItem>& items, std::int64_t now_ms);

// --- page: chat items (entry id = the bot's page id) -----------------------------------------------

// Who sent a chat item, and where, as one app sees it.
struct ChatContext {
  Id sender_id;                     // app-scoped id of the person
  Id community_id;
  Id page_id;                       // the bot (recipient)
  std::optional<Id> thread_id;      // group threads only: the key without "t_"
  std::int64_t timestamp_ms = 0;
  bool community_id_as_string = false;
};

// page/messages: {"sender", "recipient", "timestamp", ["thread"], "message": {"mid", "text",
// ["quick_reply": {"payload"}]}}.
boost::json::object message_item(const ChatContext& context, std::string_view mid, std::string_view text,
                                  const std::optional<std::string>& quick_reply_payload = std::nullopt);
// page/messaging_postbacks: {…, "postback": {"title", "payload"}}.
boost::json::object postback_item(const ChatContext& context, std::string_view title, std::string_view payload);
// page/message_deliveries: {…, "delivery": {"mids": [...], "watermark"}} (ms).
boost::json::object delivery_item(const ChatContext& context, const std::vector<std::string>& mids,
                                  std::int64_t watermark_ms);
// page/message_reads: {…, "read": {"watermark"}} (ms).
boost::json::object read_item(const ChatContext& context, std::int64_t watermark_ms);

// --- group and mention changes ------------------------------------------------------------------

// A person or bot as one app sees it: {"id", "name"}.
struct Actor {
  Id id;
  std::string name;
};

// One tag of `message_tags`: offset and length count UTF-16 code units of the rendered message.
struct MessageTag {
  Id id;
  std::string name;
  std::string type;  // user | page | group
  std::size_t offset = 0;
  std::size_t length = 0;
};

// A group post or comment as one app sees it.
struct FeedItem {
  Actor from;
  Id community_id;
  Id group_id;
  Id post_id;
  std::optional<Id> comment_id;  // comments only
  std::optional<Id> parent_id;   // replies only (the comment answered)
  std::string message;           // rendered: mentions show names
  std::int64_t created_at = 0;   // Unix s
  std::string permalink_url;
};

// group/posts value: from, community, post_id, type "status", target_type "group", verb "add",
// created_time (ISO-8601), message, permalink_url.
boost::json::object group_post_value(const FeedItem& post);
// group/comments value: from, community, post_id, comment_id, [parent_id], message, verb "add",
// created_time (ISO-8601), permalink_url.
boost::json::object group_comment_value(const FeedItem& comment);
// page/mention value: from, message, message_tags, community, post_id, [comment_id], item
// ("post" | "comment"), verb "add", created_time (Unix s), permalink_url.
boost::json::object mention_value(const FeedItem& item, const std::vector<MessageTag>& tags);
// group/membership value (PROTOCOL.md §6.5 emulator choice): member, community, verb (add|remove),
// update_time (ISO-8601).
boost::json::object membership_value(const Actor& member, const Id& community_id, std::string_view verb,
                                     std::int64_t unix_seconds);
// link/preview or link/collection value: [link], community, user.
boost::json::object link_value(const std::optional<std::string>& link, const Id& community_id,
                               const Id& scoped_user_id);

// Returns the permalink of a post ("https://{community}.workplace.com/groups/{group}/permalink/{n}/"),
// or of a comment on it when `comment_id` is given ("…/?comment_id={n}").
std::string permalink(const Community& community, const Id& group_id, const Id& post_id,
                      const std::optional<Id>& comment_id = std::nullopt);

// A message with its "@[id]" mentions replaced by names, and the tags that point at them.
struct RenderedMessage {
  std::string text;
  std::vector<MessageTag> tags;
};

// Replaces each "@[digits]" in `text` for which `resolve(id)` names someone with that name and
// records a tag for it (offsets in UTF-16 units of the result); unresolved mentions stay as typed.
RenderedMessage render_mentions(std::string_view text,
                                const std::function<std::optional<MessageTag>(const Id&)>& resolve);

// Returns the ids of every "@[digits]" mention in `text`, in order, without duplicates.
std::vector<Id> mentioned_ids(std::string_view text);


// Returns the number of UTF-16 code units of UTF-8 `text` (invalid bytes count as one each).
std::size_t utf16_length(std::string_view text);

}  // namespace wik::emulator::events
