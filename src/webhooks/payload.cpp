#include "webhooks/payload.h"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <algorithm>
#include <array>
#include <optional>
#include <utility>

#include "core/hex.h"
#include "core/hmac.h"

namespace wik::webhooks {
namespace {

namespace json = boost::json;

constexpr std::array<std::string_view, 5> kObjects = {"page", "group", "user", "link", "workplace_security"};
constexpr std::size_t kMaxIdLength = 32;

// The messaging item kinds and the subscription field each belongs to (PROTOCOL.md §6.5).
constexpr std::array<std::pair<std::string_view, std::string_view>, 6> kMessagingKinds = {{
    {"message", "messages"},
    {"postback", "messaging_postbacks"},
    {"delivery", "message_deliveries"},
    {"read", "message_reads"},
    {"optin", "messaging_optins"},
    {"referral", "messaging_referrals"},
}};

const json::object* object_at(const json::object& parent, std::string_view name) {
  const auto* value = parent.if_contains(name);
  return value != nullptr && value->is_object() ? &value->as_object() : nullptr;
}

// Returns an id given as a decimal string or a non-negative integer, as text.
std::optional<std::string> decimal_id(const json::value* value) {
  if (value == nullptr) return std::nullopt;
  std::string id;
  if (value->is_string()) id = std::string(value->as_string());
  if (value->is_int64() && value->as_int64() >= 0) id = std::to_string(value->as_int64());
  if (value->is_uint64()) id = std::to_string(value->as_uint64());
  if (id.empty() || id.size() > kMaxIdLength) return std::nullopt;
  for (const char c : id) {
    if (c < '0' || c > '9') return std::nullopt;
  }
  return id;
}

std::optional<std::string> community_id_of(const json::object& item) {
  const json::object* value = object_at(item, "value");
  for (const json::object* holder : {value, object_at(item, "sender"), object_at(item, "recipient")}) {
    if (holder == nullptr) continue;
    if (const json::object* community = object_at(*holder, "community")) {
      if (auto id = decimal_id(community->if_contains("id"))) return id;
    }
  }
  if (value != nullptr) {
    for (const char* name : {"target_community_id", "actor_community_id"}) {
      if (auto id = decimal_id(value->if_contains(name))) return id;
    }
  }
  return std::nullopt;
}

std::optional<std::string> messaging_field(const json::object& item) {
  for (const auto& [kind, field] : kMessagingKinds) {
    const json::object* content = object_at(item, kind);
    if (content == nullptr) continue;
    if (kind == "message") {
      const auto* echo = content->if_contains("is_echo");
      if (echo != nullptr && echo->is_bool() && echo->as_bool()) return "message_echoes";
    }
    return std::string(field);
  }
  return std::nullopt;
}

std::string dedupe_key(std::string_view object, std::string_view entry_id, std::string_view field,
                       const json::object& item, const std::string& item_json) {
  if (field == "messages" || field == "message_echoes") {
    const json::object* message = object_at(item, "message");
    const auto* mid = message != nullptr ? message->if_contains("mid") : nullptr;
    if (mid != nullptr && mid->is_string() && !mid->as_string().empty() && mid->as_string().size() <= 256) {
      return "mid:" + std::string(mid->as_string());
    }
  }
  std::string material(object);
  material.append("\n").append(entry_id).append("\n").append(item_json);
  return "sha256:" + core::to_hex(core::sha256(material));
}

}  // namespace

Result<ParsedDelivery> parse_webhook(std::string_view body, std::size_t max_events) {
  json::error_code ec;
  const json::value parsed = json::parse(body, ec);
  if (ec || !parsed.is_object()) return Error(ErrorCode::kMalformed, "the webhook body is not a JSON object");
  const json::object& root = parsed.as_object();
  const auto* object_value = root.if_contains("object");
  const auto* entries = root.if_contains("entry");
  if (object_value == nullptr || !object_value->is_string() || entries == nullptr || !entries->is_array()) {
    return Error(ErrorCode::kMalformed, "the webhook body has no object and entry list");
  }
  const std::string object(object_value->as_string());
  ParsedDelivery delivery;
  const bool known_object = std::find(kObjects.begin(), kObjects.end(), object) != kObjects.end();

  std::size_t items = 0;
  for (const json::value& entry_value : entries->as_array()) {
    if (!entry_value.is_object()) return Error(ErrorCode::kMalformed, "a webhook entry is not an object");
    const json::object& entry = entry_value.as_object();
    const std::string entry_id = decimal_id(entry.if_contains("id")).value_or("");
    const json::value time = entry.contains("time") ? entry.at("time") : json::value(nullptr);
    for (const char* list_name : {"changes", "messaging"}) {
      const auto* list = entry.if_contains(list_name);
      if (list == nullptr) continue;
      if (!list->is_array()) return Error(ErrorCode::kMalformed, std::string("webhook ") + list_name + " is not a list");
      for (const json::value& item_value : list->as_array()) {
        if (++items > max_events) {
          return Error(ErrorCode::kTooLarge, "a webhook delivery carries more than " + std::to_string(max_events) +
                                                 " events");
        }
        if (!item_value.is_object()) return Error(ErrorCode::kMalformed, "a webhook item is not an object");
        const json::object& item = item_value.as_object();
        std::optional<std::string> field;
        if (std::string_view(list_name) == "changes") {
          const auto* name = item.if_contains("field");
          if (name != nullptr && name->is_string() && !name->as_string().empty()) field = std::string(name->as_string());
        } else {
          field = messaging_field(item);
        }
        if (!known_object || !field) {
          ++delivery.skipped_unknown;
          continue;
        }
        auto community = community_id_of(item);
        if (!community) {
          ++delivery.skipped_without_community;
          continue;
        }
        std::string item_json = json::serialize(item);
        WebhookEvent event{.object = object, .field = *field, .community_id = std::move(*community)};
        event.dedupe_key = dedupe_key(object, entry_id, *field, item, item_json);
        event.payload = json::serialize(json::object{
            {"object", object}, {"entry_id", entry_id}, {"time", time}, {"field", *field}, {"item", item}});
        delivery.events.push_back(std::move(event));
      }
    }
  }
  return delivery;
}

}  // namespace wik::webhooks
