// Work Chat: the Send API, the messenger profile and thread reads (PROTOCOL.md §9), with the
// Messenger limits the platform applied (text 2000, quick replies 13, titles 20, payloads 1000,
// button text 640, 1–3 buttons, ≤ 10 generic elements with 80-character titles and subtitles).
#include "emulator/graph_api/endpoints.h"

#include <boost/json/array.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <algorithm>

#include "emulator/webhook_delivery/actions.h"

namespace wik::emulator {
namespace {

namespace json = boost::json;

using Problem = std::optional<GraphFailure>;

constexpr std::string_view kMessagePermission = "message";
constexpr std::size_t kMaxQuickReplies = 13;
constexpr std::size_t kMaxTitle = 20;
constexpr std::size_t kMaxPayload = 1000;
constexpr std::size_t kMaxButtonText = 640;
constexpr std::size_t kMaxButtons = 3;
constexpr std::size_t kMaxElements = 10;
constexpr std::size_t kMaxElementText = 80;
constexpr std::size_t kMaxGreeting = 160;
constexpr std::size_t kMaxGroupRecipients = 250;
constexpr std::size_t kMaxUrl = 2048;

// The fields of the messenger profile (PROTOCOL.md §9.3).
constexpr auto kProfileFields =
    std::to_array<std::string_view>({"get_started", "greeting", "persistent_menu", "whitelisted_domains", "home_url",
                                     "account_linking_url", "ice_breakers"});

GraphFailure invalid(std::string what) { return invalid_parameter(std::move(what)); }

// Checks an optional (or required) string member against a length in characters.
Problem check_text(const json::object& object, std::string_view key, const std::string& path, std::size_t max,
                   bool required) {
  const auto* value = object.if_contains(key);
  if (value == nullptr) return required ? Problem(invalid("param " + path + " must be non-empty")) : std::nullopt;
  if (!value->is_string()) return invalid("param " + path + " must be a string");
  if (required && value->get_string().empty()) return invalid("param " + path + " must be non-empty");
  if (utf8_length(value->get_string()) > max) {
    return invalid("Length of param " + path + " must be less than or equal to " + std::to_string(max));
  }
  return std::nullopt;
}

bool is_web_url(const json::value& value) {
  if (!value.is_string()) return false;
  const std::string_view url = value.get_string();
  return url.size() <= kMaxUrl && (url.starts_with("https://") || url.starts_with("http://"));
}

// Returns the array member `key` (nullptr when absent and allowed), checking its size.
Checked<const json::array*> check_array(const json::object& object, std::string_view key, const std::string& path,
                                        std::size_t min, std::size_t max) {
  const auto* value = object.if_contains(key);
  if (value == nullptr) {
    if (min > 0) return invalid("param " + path + " must be non-empty");
    return static_cast<const json::array*>(nullptr);
  }
  if (!value->is_array()) return invalid("param " + path + " must be an array");
  const std::size_t size = value->get_array().size();
  if (size < min || size > max) {
    return invalid("param " + path + " must have " + std::to_string(min) + " to " + std::to_string(max) + " items");
  }
  return &value->get_array();
}

const json::object* as_object(const json::value& value) { return value.is_object() ? &value.get_object() : nullptr; }

Problem check_button(const json::value& value, const std::string& path) {
  const json::object* button = as_object(value);
  if (button == nullptr) return invalid("param " + path + " must be an object");
  const auto* type = button->if_contains("type");
  if (type == nullptr || !type->is_string()) return invalid("param " + path + "[type] must be non-empty");
  if (auto problem = check_text(*button, "title", path + "[title]", kMaxTitle, true)) return problem;
  const std::string_view kind = type->get_string();
  if (kind == "postback") return check_text(*button, "payload", path + "[payload]", kMaxPayload, true);
  if (kind == "web_url") {
    const auto* url = button->if_contains("url");
    if (url == nullptr || !is_web_url(*url)) return invalid("param " + path + "[url] must be a valid URL");
    return std::nullopt;
  }
  if (kind == "phone_number") {
    const auto* number = button->if_contains("payload");
    if (number == nullptr || !number->is_string() || !number->get_string().starts_with("+")) {
      return invalid("param " + path + "[payload] must be a phone number starting with +");
    }
    return std::nullopt;
  }
  return invalid("param " + path + "[type] must be one of {postback, web_url, phone_number}");
}

Problem check_buttons(const json::object& object, const std::string& path, std::size_t min) {
  auto buttons = check_array(object, "buttons", path + "[buttons]", min, kMaxButtons);
  if (const auto* failed = failure_of(buttons)) return *failed;
  if (const json::array* list = std::get<const json::array*>(buttons)) {
    for (std::size_t i = 0; i < list->size(); ++i) {
      if (auto problem = check_button((*list)[i], path + "[buttons][" + std::to_string(i) + "]")) return problem;
    }
  }
  return std::nullopt;
}

Problem check_quick_reply(const json::value& value, const std::string& path) {
  const json::object* reply = as_object(value);
  if (reply == nullptr) return invalid("param " + path + " must be an object");
  const auto* type = reply->if_contains("content_type");
  if (type == nullptr || !type->is_string()) return invalid("param " + path + "[content_type] must be non-empty");
  if (type->get_string() == "user_email" || type->get_string() == "user_phone_number") return std::nullopt;
  if (type->get_string() != "text") {
    return invalid("param " + path + "[content_type] must be one of {text, user_email, user_phone_number}");
  }
  if (auto problem = check_text(*reply, "title", path + "[title]", kMaxTitle, true)) return problem;
  if (auto problem = check_text(*reply, "payload", path + "[payload]", kMaxPayload, true)) return problem;
  if (const auto* image = reply->if_contains("image_url"); image != nullptr && !is_web_url(*image)) {
    return invalid("param " + path + "[image_url] must be a valid URL");
  }
  return std::nullopt;
}

Problem check_generic_element(const json::value& value, const std::string& path) {
  const json::object* element = as_object(value);
  if (element == nullptr) return invalid("param " + path + " must be an object");
  if (auto problem = check_text(*element, "title", path + "[title]", kMaxElementText, true)) return problem;
  if (auto problem = check_text(*element, "subtitle", path + "[subtitle]", kMaxElementText, false)) return problem;
  if (const auto* image = element->if_contains("image_url"); image != nullptr && !is_web_url(*image)) {
    return invalid("param " + path + "[image_url] must be a valid URL");
  }
  if (const auto* action = element->if_contains("default_action")) {
    const json::object* object = as_object(*action);
    const auto* url = object != nullptr ? object->if_contains("url") : nullptr;
    if (url == nullptr || !is_web_url(*url)) return invalid("param " + path + "[default_action][url] must be a valid URL");
  }
  return check_buttons(*element, path, 0);
}

Problem check_attachment(const json::value& value) {
  const std::string path = "message[attachment]";
  const json::object* attachment = as_object(value);
  if (attachment == nullptr) return invalid("param " + path + " must be an object");
  const auto* type = attachment->if_contains("type");
  const auto* payload_value = attachment->if_contains("payload");
  const json::object* payload = payload_value != nullptr ? as_object(*payload_value) : nullptr;
  if (type == nullptr || !type->is_string()) return invalid("param " + path + "[type] must be non-empty");
  if (payload == nullptr) return invalid("param " + path + "[payload] must be an object");
  const std::string_view kind = type->get_string();
  if (kind == "template") {
    const auto* template_type = payload->if_contains("template_type");
    const std::string payload_path = path + "[payload]";
    if (template_type != nullptr && template_type->is_string() && template_type->get_string() == "button") {
      if (auto problem = check_text(*payload, "text", payload_path + "[text]", kMaxButtonText, true)) return problem;
      return check_buttons(*payload, payload_path, 1);
    }
    if (template_type != nullptr && template_type->is_string() && template_type->get_string() == "generic") {
      auto elements = check_array(*payload, "elements", payload_path + "[elements]", 1, kMaxElements);
      if (const auto* failed = failure_of(elements)) return *failed;
      const json::array& list = *std::get<const json::array*>(elements);
      for (std::size_t i = 0; i < list.size(); ++i) {
        if (auto problem = check_generic_element(list[i], payload_path + "[elements][" + std::to_string(i) + "]")) {
          return problem;
        }
      }
      return std::nullopt;
    }
    return invalid("param " + payload_path + "[template_type] must be one of {button, generic}");
  }
  if (kind == "image" || kind == "audio" || kind == "video" || kind == "file") {
    const auto* url = payload->if_contains("url");
    const auto* attachment_id = payload->if_contains("attachment_id");
    if ((url != nullptr && is_web_url(*url)) || (attachment_id != nullptr && attachment_id->is_string())) {
      return std::nullopt;
    }
    return invalid("param " + path + "[payload][url] must be a valid URL");
  }
  return invalid("param " + path + "[type] must be one of {template, image, audio, video, file}");
}

Problem check_message(const json::object& message) {
  const bool has_text = message.contains("text");
  const bool has_attachment = message.contains("attachment");
  if (!has_text && !has_attachment) return invalid("param message must contain text or attachment");
  if (has_text && has_attachment) return invalid("param message must not contain both text and attachment");
  if (has_text) {
    if (auto problem = check_text(message, "text", "message[text]", kMaxChatTextCharacters, true)) return problem;
  } else if (auto problem = check_attachment(message.at("attachment"))) {
    return problem;
  }
  if (auto problem = check_text(message, "metadata", "message[metadata]", kMaxPayload, false)) return problem;
  auto replies = check_array(message, "quick_replies", "message[quick_replies]", 0, kMaxQuickReplies);
  if (const auto* failed = failure_of(replies)) return *failed;
  if (const json::array* list = std::get<const json::array*>(replies)) {
    for (std::size_t i = 0; i < list->size(); ++i) {
      if (auto problem = check_quick_reply((*list)[i], "message[quick_replies][" + std::to_string(i) + "]")) {
        return problem;
      }
    }
  }
  return std::nullopt;
}

// Returns the platform id of an active person of the caller's community behind an app-scoped id.
std::optional<Id> recipient_person(GraphServices& services, const GraphCall& call, const json::value& id) {
  if (!id.is_string() && !id.is_number()) return std::nullopt;
  const std::string scoped = id.is_string() ? std::string(id.get_string()) : json::serialize(id);
  const auto platform_id = services.state.resolve_scoped_user(call.caller.app.id, scoped);
  const auto user = platform_id ? services.state.user(*platform_id) : std::nullopt;
  if (!user || !user->active || user->community_id != call.install().community_id) return std::nullopt;
  return user->id;
}

struct Destination {
  Thread thread;
  std::string recipient_id;  // what the response names
  bool group = false;
};

Checked<Destination> destination(GraphServices& services, const GraphCall& call, const json::object& recipient) {
  const Install& install = call.install();
  const GraphFailure no_user{GraphError::kNoMatchingUser, {}};
  if (const auto* id = recipient.if_contains("id")) {
    const auto person = recipient_person(services, call, *id);
    if (!person) return no_user;
    return Destination{services.state.direct_thread(*person, install.page_id),
                       id->is_string() ? std::string(id->get_string()) : json::serialize(*id), false};
  }
  if (const auto* ids = recipient.if_contains("ids")) {
    if (!ids->is_array() || ids->get_array().empty() || ids->get_array().size() > kMaxGroupRecipients) {
      return invalid("param recipient[ids] must have 1 to 250 items");
    }
    std::vector<Id> people;
    for (const json::value& id : ids->get_array()) {
      const auto person = recipient_person(services, call, id);
      if (!person) return no_user;
      people.push_back(*person);
    }
    auto thread = services.state.create_group_thread(install.page_id, std::move(people));
    if (!thread.ok()) return no_user;
    return Destination{*thread, "t_" + thread->id, true};
  }
  if (const auto* key = recipient.if_contains("thread_key")) {
    if (!key->is_string() || !key->get_string().starts_with("t_")) return no_user;
    const std::string thread_key(key->get_string());
    auto thread = services.state.thread(thread_key.substr(2));
    if (!thread || thread->community_id != install.community_id || thread->page_id != install.page_id) return no_user;
    return Destination{std::move(*thread), thread_key, true};
  }
  return invalid("param recipient must contain id, ids or thread_key");
}

// Returns a profile field given as JSON (body) or as JSON text (query, form).
json::value profile_value(const json::value& given) {
  if (given.is_string()) {
    boost::system::error_code ec;
    json::value parsed = json::parse(given.get_string(), ec);
    if (!ec && (parsed.is_object() || parsed.is_array())) return parsed;
  }
  return given;
}

Problem check_profile(const json::object& profile) {
  if (const auto* greeting = profile.if_contains("greeting")) {
    if (!greeting->is_array()) return invalid("param greeting must be an array");
    for (std::size_t i = 0; i < greeting->get_array().size(); ++i) {
      const json::object* entry = as_object(greeting->get_array()[i]);
      const std::string path = "greeting[" + std::to_string(i) + "]";
      if (entry == nullptr) return invalid("param " + path + " must be an object");
      if (auto problem = check_text(*entry, "locale", path + "[locale]", 16, true)) return problem;
      if (auto problem = check_text(*entry, "text", path + "[text]", kMaxGreeting, true)) return problem;
    }
  }
  if (const auto* started = profile.if_contains("get_started")) {
    const json::object* object = as_object(*started);
    if (object == nullptr) return invalid("param get_started must be an object");
    if (auto problem = check_text(*object, "payload", "get_started[payload]", kMaxPayload, true)) return problem;
  }
  for (const char* list : {"persistent_menu", "whitelisted_domains", "ice_breakers"}) {
    if (const auto* value = profile.if_contains(list); value != nullptr && !value->is_array()) {
      return invalid("param " + std::string(list) + " must be an array");
    }
  }
  for (const char* url : {"home_url", "account_linking_url"}) {
    if (const auto* value = profile.if_contains(url); value != nullptr && !is_web_url(*value)) {
      return invalid("param " + std::string(url) + " must be a valid URL");
    }
  }
  return std::nullopt;
}

json::value success_result() { return json::object{{"result", "success"}}; }

}  // namespace

Reply post_message(GraphServices& services, const GraphCall& call) {
  if (!call.caller.has_permission(kMessagePermission)) return GraphFailure{GraphError::kMessagePermissionMissing, {}};
  auto recipient = call.params.object("recipient");
  if (const auto* failed = failure_of(recipient)) return *failed;
  const auto& recipient_object = std::get<std::optional<json::object>>(recipient);
  if (!recipient_object) return invalid("param recipient must be non-empty");
  auto message = call.params.object("message");
  if (const auto* failed = failure_of(message)) return *failed;
  const auto& message_object = std::get<std::optional<json::object>>(message);
  const auto action = call.params.text("sender_action");
  if (action) {
    if (message_object) return invalid("param sender_action cannot be sent with message");
    if (*action != "mark_seen" && *action != "typing_on" && *action != "typing_off") {
      return invalid("param sender_action must be one of {mark_seen, typing_on, typing_off}");
    }
  } else if (!message_object) {
    return invalid("param message must be non-empty");
  } else if (auto problem = check_message(*message_object)) {
    return *problem;
  }
  if (action && recipient_object->contains("ids")) return invalid("param sender_action needs recipient[id] or recipient[thread_key]");
  auto target = destination(services, call, *recipient_object);
  if (const auto* failed = failure_of(target)) return *failed;
  const Destination& to = std::get<Destination>(target);
  json::object body{{"recipient_id", to.recipient_id}};
  if (action) return json::value(std::move(body));
  auto stored = services.state.add_message(to.thread.id, call.install().page_id, true, *message_object);
  if (!stored.ok()) return GraphFailure{GraphError::kServiceUnavailable, {}};
  // The people's clients receive it at once: their delivery receipts go to the bot's app.
  PlatformActions(services.state, services.delivery).confirm_delivery(*stored);
  body["message_id"] = stored->mid;
  if (to.group) body["thread_key"] = "t_" + to.thread.id;
  return json::value(std::move(body));
}

Reply get_messenger_profile(GraphServices& services, const GraphCall& call) {
  auto fields = call.params.list("fields");
  if (const auto* failed = failure_of(fields)) return *failed;
  const auto& names = std::get<std::vector<std::string>>(fields);
  const json::object profile = services.state.messenger_profile(call.install().id);
  json::object shown;
  for (const auto& member : profile) {
    if (names.empty() || std::find(names.begin(), names.end(), member.key()) != names.end()) {
      shown[member.key()] = member.value();
    }
  }
  json::array data;
  if (!shown.empty()) data.emplace_back(std::move(shown));
  return json::value(json::object{{"data", std::move(data)}});
}

Reply post_messenger_profile(GraphServices& services, const GraphCall& call) {
  json::object profile;
  for (const std::string_view field : kProfileFields) {
    if (const auto* value = call.params.values().if_contains(field)) profile[field] = profile_value(*value);
  }
  if (profile.empty()) {
    return invalid("Requires one of the params: get_started, greeting, persistent_menu, whitelisted_domains, "
                   "home_url, account_linking_url, ice_breakers");
  }
  if (auto problem = check_profile(profile)) return *problem;
  services.state.set_messenger_profile(call.install().id, profile);
  return success_result();
}

Reply delete_messenger_profile(GraphServices& services, const GraphCall& call) {
  auto fields = call.params.list("fields");
  if (const auto* failed = failure_of(fields)) return *failed;
  const auto& names = std::get<std::vector<std::string>>(fields);
  if (names.empty()) return invalid("param fields must be non-empty");
  for (const std::string& name : names) {
    if (std::find(kProfileFields.begin(), kProfileFields.end(), name) == kProfileFields.end()) {
      return invalid("param fields has an unknown field " + name.substr(0, 64));
    }
  }
  services.state.delete_messenger_profile_fields(call.install().id, names);
  return success_result();
}

Reply subscribed_apps(GraphServices&, const GraphCall& call) {
  if (call.method != "get") return json::value(json::object{{"success", true}});
  json::array data{json::object{{"id", call.caller.app.id}, {"name", call.caller.app.name}}};
  return json::value(json::object{{"data", std::move(data)}});
}

Reply get_thread_messages(GraphServices& services, const GraphCall& call) {
  const std::string& id = call.segments.at(0);
  const auto object = resolve_object(services, call.caller, id);
  const Thread* thread = object ? std::get_if<Thread>(&*object) : nullptr;
  if (thread == nullptr) return unsupported(call, id);
  if (!call.caller.has_permission(kMessagePermission)) return GraphFailure{GraphError::kMessagePermissionMissing, {}};
  auto messages = services.state.messages(thread->id);
  std::reverse(messages.begin(), messages.end());  // newest first
  std::vector<Node> nodes;
  for (const ChatMessage& message : messages) {
    const auto* text = message.message.is_object() ? message.message.get_object().if_contains("text") : nullptr;
    Node node{"Message", {}, {}, {"id", "message", "created_time", "from"}};
    node.fields = json::object{{"id", message.mid},
                               {"message", text != nullptr && text->is_string() ? text->get_string() : ""},
                               {"created_time", graph_time(message.sent_at_ms / 1000)},
                               {"from", author_reference(services, call.caller, message.from, message.from_bot)}};
    if (const auto* attachment = message.message.is_object() ? message.message.get_object().if_contains("attachment")
                                                             : nullptr) {
      node.fields["attachments"] = json::object{{"data", json::array{*attachment}}};
    }
    nodes.push_back(std::move(node));
  }
  return paged_reply(call, nodes, services.options.graph_url);
}

}  // namespace wik::emulator
