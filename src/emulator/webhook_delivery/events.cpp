#include "emulator/webhook_delivery/events.h"

#include <boost/json/array.hpp>
#include <boost/json/serialize.hpp>

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <set>

namespace wik::emulator::events {

namespace json = boost::json;

namespace {

constexpr char32_t kReplacementCharacter = 0xFFFD;

// Decodes one UTF-8 character of `text` at `pos`, advancing `pos`; invalid or overlong sequences,
// surrogates and values above U+10FFFF decode as U+FFFD consuming one byte.
char32_t next_code_point(std::string_view text, std::size_t& pos) {
  const auto lead = static_cast<unsigned char>(text[pos]);
  if (lead < 0x80) {
    ++pos;
    return lead;
  }
  std::size_t length = 0;
  char32_t code = 0;
  char32_t minimum = 0;
  if ((lead & 0xE0) == 0xC0) {
    length = 2, code = lead & 0x1Fu, minimum = 0x80;
  } else if ((lead & 0xF0) == 0xE0) {
    length = 3, code = lead & 0x0Fu, minimum = 0x800;
  } else if ((lead & 0xF8) == 0xF0) {
    length = 4, code = lead & 0x07u, minimum = 0x10000;
  } else {
    ++pos;
    return kReplacementCharacter;
  }
  if (pos + length > text.size()) {
    ++pos;
    return kReplacementCharacter;
  }
  for (std::size_t i = 1; i < length; ++i) {
    const auto continuation = static_cast<unsigned char>(text[pos + i]);
    if ((continuation & 0xC0) != 0x80) {
      ++pos;
      return kReplacementCharacter;
    }
    code = (code << 6) | (continuation & 0x3Fu);
  }
  if (code < minimum || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF)) {
    ++pos;
    return kReplacementCharacter;
  }
  pos += length;
  return code;
}

void append_unicode_escape(std::string& out, unsigned unit) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += "\\u";
  for (int shift = 12; shift >= 0; shift -= 4) out += kHex[(unit >> static_cast<unsigned>(shift)) & 0xFu];
}

void append_string(std::string& out, std::string_view text) {
  out += '"';
  std::size_t pos = 0;
  while (pos < text.size()) {
    const char32_t code = next_code_point(text, pos);
    switch (code) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (code < 0x20 || code == 0x7F) {
          append_unicode_escape(out, static_cast<unsigned>(code));
        } else if (code < 0x80) {
          out += static_cast<char>(code);
        } else if (code <= 0xFFFF) {
          append_unicode_escape(out, static_cast<unsigned>(code));
        } else {
          const auto offset = static_cast<unsigned>(code - 0x10000);
          append_unicode_escape(out, 0xD800u + (offset >> 10));
          append_unicode_escape(out, 0xDC00u + (offset & 0x3FFu));
        }
    }
  }
  out += '"';
}

void append_value(std::string& out, const json::value& value) {
  switch (value.kind()) {
    case json::kind::string: append_string(out, value.get_string()); break;
    case json::kind::array: {
      out += '[';
      bool first = true;
      for (const auto& element : value.get_array()) {
        if (!first) out += ',';
        first = false;
        append_value(out, element);
      }
      out += ']';
      break;
    }
    case json::kind::object: {
      out += '{';
      bool first = true;
      for (const auto& member : value.get_object()) {
        if (!first) out += ',';
        first = false;
        append_string(out, member.key());
        out += ':';
        append_value(out, member.value());
      }
      out += '}';
      break;
    }
    default: out += json::serialize(value); break;  // numbers, booleans, null: ASCII already
  }
}

// The community id of chat items: a JSON number unless asked for a string (PROTOCOL.md §6.4).
json::value chat_community_id(const Id& community_id, bool as_string) {
  if (!as_string) {
    std::uint64_t number = 0;
    const char* end = community_id.data() + community_id.size();
    auto [ptr, ec] = std::from_chars(community_id.data(), end, number);
    if (ec == std::errc() && ptr == end && !community_id.empty()) return number;
  }
  return json::string(community_id);
}

json::object chat_base(const ChatContext& context) {
  json::object item;
  item["sender"] = {{"id", context.sender_id},
                    {"community", {{"id", chat_community_id(context.community_id, context.community_id_as_string)}}}};
  item["recipient"] = {{"id", context.page_id}};
  item["timestamp"] = context.timestamp_ms;
  if (context.thread_id) item["thread"] = {{"id", "t_" + *context.thread_id}};
  return item;
}

json::object actor_json(const Actor& actor) { return {{"id", actor.id}, {"name", actor.name}}; }
json::object community_json(const Id& community_id) { return {{"id", community_id}}; }

// Returns "acme-corp" for "Acme Corp": the community's sub-domain in permalinks.
std::string community_slug(const Community& community) {
  std::string slug;
  for (const char c : community.name) {
    if (std::isalnum(static_cast<unsigned char>(c))) {
      slug += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    } else if (!slug.empty() && slug.back() != '-') {
      slug += '-';
    }
  }
  while (!slug.empty() && slug.back() == '-') slug.pop_back();
  return slug.empty() ? "community-" + community.id : slug;
}

// Returns the part of an "{a}_{b}" object id after the underscore (the whole id when it has none).
std::string_view local_part(std::string_view id) {
  const auto underscore = id.find('_');
  return underscore == std::string_view::npos ? id : id.substr(underscore + 1);
}

struct MentionToken {
  std::size_t begin = 0;  // byte offset of "@["
  std::size_t end = 0;    // one past "]"
  Id id;
};

std::vector<MentionToken> mention_tokens(std::string_view text) {
  std::vector<MentionToken> tokens;
  std::size_t pos = 0;
  while ((pos = text.find("@[", pos)) != std::string_view::npos) {
    std::size_t digits_end = pos + 2;
    while (digits_end < text.size() && std::isdigit(static_cast<unsigned char>(text[digits_end]))) ++digits_end;
    if (digits_end > pos + 2 && digits_end < text.size() && text[digits_end] == ']') {
      tokens.push_back({pos, digits_end + 1, Id(text.substr(pos + 2, digits_end - pos - 2))});
      pos = digits_end + 1;
    } else {
      pos += 2;
    }
  }
  return tokens;
}

}  // namespace

std::string serialize_ascii(const json::value& value) {
  std::string out;
  append_value(out, value);
  return out;
}

std::string iso8601(std::int64_t unix_seconds) {
  const std::chrono::sys_seconds time{std::chrono::seconds(unix_seconds)};
  const auto day = std::chrono::floor<std::chrono::days>(time);
  const std::chrono::year_month_day date{day};
  const std::chrono::hh_mm_ss clock{time - day};
  std::array<char, 32> buffer{};
  const int written = std::snprintf(buffer.data(), buffer.size(), "%04d-%02u-%02uT%02d:%02d:%02d+0000",
                                    static_cast<int>(date.year()), static_cast<unsigned>(date.month()),
                                    static_cast<unsigned>(date.day()), static_cast<int>(clock.hours().count()),
                                    static_cast<int>(clock.minutes().count()),
                                    static_cast<int>(clock.seconds().count()));
  return std::string(buffer.data(), static_cast<std::size_t>(written > 0 ? written : 0));
}

bool is_messaging_field(std::string_view object, std::string_view field) {
  static const std::set<std::string_view> kMessagingFields = {
      "messages", "messaging_postbacks", "message_deliveries", "message_reads",
      "messaging_optins", "message_echoes", "messaging_referrals"};
  return object == "page" && kMessagingFields.contains(field);
}

json::object envelope(std::string_view object, const std::vector<EntryItem>& items, std::int64_t now_ms) {
  json::array entries;
  for (const auto& item : items) {
    json::object entry;
    entry["id"] = item.entry_id;
    if (is_messaging_field(object, item.field)) {
      entry["time"] = now_ms;
      entry["messaging"] = json::array{item.item};
    } else {
      entry["time"] = now_ms / 1000;
      entry["changes"] = json::array{json::object{{"field", item.field}, {"value", item.item}}};
    }
    entries.push_back(std::move(entry));
  }
  return {{"object", object}, {"entry", std::move(entries)}};
}

json::object message_item(const ChatContext& context, std::string_view mid, std::string_view text,
                          const std::optional<std::string>& quick_reply_payload) {
  json::object item = chat_base(context);
  json::object message{{"mid", mid}, {"text", text}};
  if (quick_reply_payload) message["quick_reply"] = {{"payload", *quick_reply_payload}};
  item["message"] = std::move(message);
  return item;
}

json::object postback_item(const ChatContext& context, std::string_view title, std::string_view payload) {
  json::object item = chat_base(context);
  item["postback"] = {{"title", title}, {"payload", payload}};
  return item;
}

json::object delivery_item(const ChatContext& context, const std::vector<std::string>& mids,
                          std::int64_t watermark_ms) {
  json::object item = chat_base(context);
  json::array mid_list;
  for (const auto& mid : mids) mid_list.emplace_back(mid);
  item["delivery"] = {{"mids", std::move(mid_list)}, {"watermark", watermark_ms}};
  return item;
}

json::object read_item(const ChatContext& context, std::int64_t watermark_ms) {
  json::object item = chat_base(context);
  item["read"] = {{"watermark", watermark_ms}};
  return item;
}

json::object group_post_value(const FeedItem& post) {
  return {{"from", actor_json(post.from)},
          {"community", community_json(post.community_id)},
          {"post_id", post.post_id},
          {"type", "status"},
          {"target_type", "group"},
          {"verb", "add"},
          {"created_time", iso8601(post.created_at)},
          {"message", post.message},
          {"permalink_url", post.permalink_url}};
}

json::object group_comment_value(const FeedItem& comment) {
  json::object value{{"from", actor_json(comment.from)},
                     {"community", community_json(comment.community_id)},
                     {"post_id", comment.post_id},
                     {"comment_id", comment.comment_id.value_or("")}};
  if (comment.parent_id) value["parent_id"] = *comment.parent_id;
  value["message"] = comment.message;
  value["verb"] = "add";
  value["created_time"] = iso8601(comment.created_at);
  value["permalink_url"] = comment.permalink_url;
  return value;
}

json::object mention_value(const FeedItem& item, const std::vector<MessageTag>& tags) {
  json::array message_tags;
  for (const auto& tag : tags) {
    message_tags.push_back(
        {{"id", tag.id}, {"name", tag.name}, {"type", tag.type}, {"offset", tag.offset}, {"length", tag.length}});
  }
  json::object value{{"from", actor_json(item.from)},
                     {"message", item.message},
                     {"message_tags", std::move(message_tags)},
                     {"community", community_json(item.community_id)},
                     {"post_id", item.post_id}};
  if (item.comment_id) value["comment_id"] = *item.comment_id;
  value["item"] = item.comment_id ? "comment" : "post";
  value["verb"] = "add";
  value["created_time"] = item.created_at;
  value["permalink_url"] = item.permalink_url;
  return value;
}

json::object membership_value(const Actor& member, const Id& community_id, std::string_view verb,
                              std::int64_t unix_seconds) {
  return {{"member", actor_json(member)},
          {"community", community_json(community_id)},
          {"verb", verb},
          {"update_time", iso8601(unix_seconds)}};
}

json::object link_value(const std::optional<std::string>& link, const Id& community_id, const Id& scoped_user_id) {
  json::object value;
  if (link) value["link"] = *link;
  value["community"] = community_json(community_id);
  value["user"] = {{"id", scoped_user_id}};
  return value;
}

std::string permalink(const Community& community, const Id& group_id, const Id& post_id,
                      const std::optional<Id>& comment_id) {
  std::string url = "https://" + community_slug(community) + ".workplace.com/groups/" + group_id + "/permalink/" +
                    std::string(local_part(post_id)) + "/";
  if (comment_id) url += "?comment_id=" + std::string(local_part(*comment_id));
  return url;
}

RenderedMessage render_mentions(std::string_view text,
                                const std::function<std::optional<MessageTag>(const Id&)>& resolve) {
  RenderedMessage rendered;
  std::size_t copied = 0;
  for (const auto& token : mention_tokens(text)) {
    std::optional<MessageTag> tag = resolve(token.id);
    if (!tag) continue;
    rendered.text.append(text.substr(copied, token.begin - copied));
    copied = token.end;
    tag->offset = utf16_length(rendered.text);
    tag->length = utf16_length(tag->name);
    rendered.text += tag->name;
    rendered.tags.push_back(std::move(*tag));
  }
  rendered.text.append(text.substr(copied));
  return rendered;
}

std::vector<Id> mentioned_ids(std::string_view text) {
  std::vector<Id> ids;
  for (auto& token : mention_tokens(text)) {
    if (std::find(ids.begin(), ids.end(), token.id) == ids.end()) ids.push_back(std::move(token.id));
  }
  return ids;
}

std::size_t utf16_length(std::string_view text) {
  std::size_t units = 0;
  std::size_t pos = 0;
  while (pos < text.size()) units += next_code_point(text, pos) > 0xFFFF ? 2u : 1u;
  return units;
}

}  // namespace wik::emulator::events
