#include "app/events.h"

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

namespace wik::app {
namespace {

namespace json = boost::json;

// Reads fields of a JSON object leniently: absent or mistyped fields read as empty.
class Fields {
 public:
  explicit Fields(const json::value* value) : object_(value != nullptr && value->is_object() ? &value->as_object() : nullptr) {}
  bool present() const { return object_ != nullptr; }
  Fields object(std::string_view name) const { return Fields(object_ != nullptr ? object_->if_contains(name) : nullptr); }
  std::string text(std::string_view name) const {
    const auto* value = object_ != nullptr ? object_->if_contains(name) : nullptr;
    if (value == nullptr) return {};
    if (value->is_string()) return std::string(value->as_string());
    if (value->is_int64()) return std::to_string(value->as_int64());
    if (value->is_uint64()) return std::to_string(value->as_uint64());
    return {};
  }
  std::optional<std::string> optional_text(std::string_view name) const {
    auto value = text(name);
    return value.empty() ? std::nullopt : std::optional<std::string>(std::move(value));
  }
  std::int64_t integer(std::string_view name) const {
    const auto* value = object_ != nullptr ? object_->if_contains(name) : nullptr;
    return value != nullptr && value->is_int64() ? value->as_int64() : 0;
  }

 private:
  const json::object* object_;
};

Result<DecodedEvent> require(DecodedEvent event, bool complete, std::string_view topic) {
  if (!complete) return Error(ErrorCode::kMalformed, "a " + std::string(topic) + " event lacks its ids");
  return event;
}

}  // namespace

Result<DecodedEvent> decode_event(std::string_view community_id, std::string_view topic, std::string_view payload) {
  json::error_code ec;
  const json::value parsed = json::parse(payload, ec);
  if (ec || !parsed.is_object()) return Error(ErrorCode::kMalformed, "an inbox payload is not a JSON object");
  const Fields envelope(&parsed);
  const Fields item = envelope.object("item");
  const std::string community(community_id);

  if (topic == "page/messages") {
    const Fields message = item.object("message");
    Message event{.community_id = community,
                  .sender_id = item.object("sender").text("id"),
                  .page_id = item.object("recipient").text("id"),
                  .thread_key = item.object("thread").optional_text("id"),
                  .mid = message.text("mid"),
                  .text = message.text("text"),
                  .quick_reply_payload = message.object("quick_reply").optional_text("payload"),
                  .timestamp_ms = item.integer("timestamp")};
    const bool complete = !event.sender_id.empty() && !event.mid.empty();
    return require(std::move(event), complete, topic);
  }
  if (topic == "page/messaging_postbacks") {
    const Fields postback = item.object("postback");
    Postback event{.community_id = community,
                   .sender_id = item.object("sender").text("id"),
                   .page_id = item.object("recipient").text("id"),
                   .thread_key = item.object("thread").optional_text("id"),
                   .title = postback.text("title"),
                   .payload = postback.text("payload"),
                   .timestamp_ms = item.integer("timestamp")};
    const bool complete = !event.sender_id.empty();
    return require(std::move(event), complete, topic);
  }
  const Fields value = item.object("value");
  const Fields from = value.object("from");
  if (topic == "page/mention") {
    Mention event{.community_id = community,
                  .from_id = from.text("id"),
                  .from_name = from.text("name"),
                  .message = value.text("message"),
                  .post_id = value.text("post_id"),
                  .comment_id = value.optional_text("comment_id"),
                  .permalink_url = value.text("permalink_url")};
    const bool complete = !event.post_id.empty();
    return require(std::move(event), complete, topic);
  }
  if (topic == "group/posts") {
    GroupPost event{.community_id = community,
                    .group_id = envelope.text("entry_id"),
                    .post_id = value.text("post_id"),
                    .from_id = from.text("id"),
                    .from_name = from.text("name"),
                    .message = value.text("message"),
                    .verb = value.text("verb"),
                    .permalink_url = value.text("permalink_url")};
    const bool complete = !event.post_id.empty();
    return require(std::move(event), complete, topic);
  }
  if (topic == "group/comments") {
    Comment event{.community_id = community,
                  .post_id = value.text("post_id"),
                  .comment_id = value.text("comment_id"),
                  .from_id = from.text("id"),
                  .from_name = from.text("name"),
                  .message = value.text("message"),
                  .verb = value.text("verb")};
    const bool complete = !event.comment_id.empty();
    return require(std::move(event), complete, topic);
  }
  return DecodedEvent(std::monostate{});
}

Result<LinkRequest> decode_link_request(std::string_view community_id, std::string_view field, std::string_view payload) {
  if (field != "preview" && field != "collection") {
    return Error(ErrorCode::kMalformed, "a link request is a preview or a collection");
  }
  json::error_code ec;
  const json::value parsed = json::parse(payload, ec);
  if (ec || !parsed.is_object()) return Error(ErrorCode::kMalformed, "a link request payload is not a JSON object");
  const Fields value = Fields(&parsed).object("item").object("value");
  LinkRequest request{.community_id = std::string(community_id),
                      .user_id = value.object("user").text("id"),
                      .link = value.text("link"),
                      .collection = field == "collection"};
  if (!request.collection && request.link.empty()) return Error(ErrorCode::kMalformed, "a link preview request names no link");
  return request;
}

}  // namespace wik::app
