#include "emulator/webhook_delivery/actions.h"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include <algorithm>
#include <chrono>
#include <functional>
#include <utility>
#include <vector>

#include "core/utf8.h"
#include "emulator/webhook_delivery/events.h"

namespace wik::emulator {

namespace json = boost::json;

namespace {

bool contains(const std::vector<Id>& ids, const Id& id) { return std::find(ids.begin(), ids.end(), id) != ids.end(); }

bool has_permission(const Install& install, std::string_view permission) {
  return std::find(install.permissions.begin(), install.permissions.end(), permission) != install.permissions.end();
}

std::int64_t now_ms(const PlatformState& state) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(state.clock().now().time_since_epoch()).count();
}

// Returns the person behind `user_id` if they may act: kNotFound when unknown, kPermissionDenied
// when deactivated.
Result<User> active_user(const PlatformState& state, const Id& user_id) {
  auto user = state.user(user_id);
  if (!user) return Error(ErrorCode::kNotFound, "no such person");
  if (!user->active) return Error(ErrorCode::kPermissionDenied, "the person's account is deactivated");
  return std::move(*user);
}

// Checks typed text: kInvalidArgument when empty or not UTF-8, kTooLarge above `max_characters`.
Result<void> check_text(std::string_view text, std::size_t max_characters) {
  const auto characters = core::utf8_length(text);
  if (!characters) return Error(ErrorCode::kInvalidArgument, "the text is not valid UTF-8");
  if (*characters == 0) return Error(ErrorCode::kInvalidArgument, "the text is empty");
  if (*characters > max_characters) {
    return Error(ErrorCode::kTooLarge, "the text is longer than " + std::to_string(max_characters) + " characters");
  }
  return ok_result();
}

// Returns a thread `user_id` takes part in: kNotFound when unknown, kPermissionDenied otherwise.
Result<Thread> thread_of_participant(const PlatformState& state, const Id& user_id, const Id& thread_id) {
  auto thread = state.thread(thread_id);
  if (!thread) return Error(ErrorCode::kNotFound, "no such thread");
  if (!contains(thread->participants, user_id)) {
    return Error(ErrorCode::kPermissionDenied, "the person is not in the thread");
  }
  return std::move(*thread);
}

// Returns the bot message `mid` of a thread, or kNotFound.
Result<ChatMessage> bot_message(const PlatformState& state, const Id& thread_id, const std::string& mid) {
  for (auto& message : state.messages(thread_id)) {
    if (message.mid == mid && message.from_bot) return std::move(message);
  }
  return Error(ErrorCode::kNotFound, "no such bot message in the thread");
}

const json::value* member(const json::value& value, std::string_view key) {
  if (!value.is_object()) return nullptr;
  return value.get_object().if_contains(key);
}

std::optional<std::string> string_member(const json::value& value, std::string_view key) {
  const json::value* found = member(value, key);
  if (found == nullptr || !found->is_string()) return std::nullopt;
  return std::string(found->get_string());
}

// Returns the buttons of a button or generic template message, in order across elements.
std::vector<json::value> template_buttons(const json::value& message) {
  std::vector<json::value> buttons;
  const json::value* attachment = member(message, "attachment");
  const json::value* payload = attachment != nullptr ? member(*attachment, "payload") : nullptr;
  if (payload == nullptr) return buttons;
  const auto append = [&buttons](const json::value* list) {
    if (list != nullptr && list->is_array()) buttons.insert(buttons.end(), list->get_array().begin(), list->get_array().end());
  };
  const auto type = string_member(*payload, "template_type");
  if (type == "button") {
    append(member(*payload, "buttons"));
  } else if (type == "generic") {
    if (const json::value* elements = member(*payload, "elements"); elements != nullptr && elements->is_array()) {
      for (const auto& element : elements->get_array()) append(member(element, "buttons"));
    }
  }
  return buttons;
}

// Returns the install of the bot of a thread, if the thread has one that is still installed.
std::optional<Install> bot_install(const PlatformState& state, const Thread& thread) {
  if (!thread.page_id) return std::nullopt;
  return state.install_by_page(*thread.page_id);
}

// Publishes a chat item to the bot's app; `build` makes the item from the context of that app.
void publish_chat(PlatformState& state, WebhookDelivery& delivery, const Thread& thread, const Id& user_id,
                  std::int64_t timestamp_ms, const std::string& field,
                  const std::function<json::object(const events::ChatContext&)>& build) {
  const auto install = bot_install(state, thread);
  if (!install) return;
  events::ChatContext context{.sender_id = state.scoped_user_id(install->app_id, user_id),
                              .community_id = install->community_id,
                              .page_id = install->page_id,
                              .thread_id = thread.group ? std::optional<Id>(thread.id) : std::nullopt,
                              .timestamp_ms = timestamp_ms,
                              .community_id_as_string = delivery.options().community_id_as_string};
  delivery.publish(install->app_id, "page", field, install->page_id, build(context));
}

// Returns how an app sees the "@[id]" mention of `id` in a community: a bot, a person, a group.
std::optional<events::MessageTag> resolve_mention(PlatformState& state, const Id& app_id, const Id& community_id,
                                                  const Id& id) {
  if (const auto install = state.install_by_page(id); install && install->community_id == community_id) {
    const auto app = state.app(install->app_id);
    return events::MessageTag{.id = id, .name = app ? app->name : "", .type = "page"};
  }
  if (const auto user = state.user(id); user && user->community_id == community_id) {
    return events::MessageTag{.id = state.scoped_user_id(app_id, id), .name = user->name, .type = "user"};
  }
  if (const auto group = state.group(id); group && group->community_id == community_id) {
    return events::MessageTag{.id = id, .name = group->name, .type = "group"};
  }
  return std::nullopt;
}

// What a person wrote in a group, before it is seen through an app's eyes.
struct FeedWrite {
  Id author;  // platform user id
  Group group;
  Community community;
  Id post_id;
  std::optional<Id> comment_id;
  std::optional<Id> parent_id;
  std::string message;  // as typed, with "@[id]" mentions
  std::int64_t created_at = 0;
};

// Returns the item `app_id` sees for a write, with its mentions rendered for that app.
std::pair<events::FeedItem, std::vector<events::MessageTag>> feed_item_for(PlatformState& state, const Id& app_id,
                                                                            const FeedWrite& write) {
  const auto author = state.user(write.author);
  auto rendered = events::render_mentions(write.message, [&](const Id& id) {
    return resolve_mention(state, app_id, write.community.id, id);
  });
  events::FeedItem item{
      .from = {.id = state.scoped_user_id(app_id, write.author), .name = author ? author->name : ""},
      .community_id = write.community.id,
      .group_id = write.group.id,
      .post_id = write.post_id,
      .comment_id = write.comment_id,
      .parent_id = write.parent_id,
      .message = std::move(rendered.text),
      .created_at = write.created_at,
      .permalink_url = events::permalink(write.community, write.group.id, write.post_id, write.comment_id)};
  return {std::move(item), std::move(rendered.tags)};
}

// Publishes a new post or comment: group/posts or group/comments to every app installed in the
// community, then page/mention to each bot mentioned whose install may see mentions.
void publish_feed_write(PlatformState& state, WebhookDelivery& delivery, const FeedWrite& write) {
  const bool is_comment = write.comment_id.has_value();
  for (const auto& install : state.installs(write.community.id)) {
    const auto [item, tags] = feed_item_for(state, install.app_id, write);
    delivery.publish(install.app_id, "group", is_comment ? "comments" : "posts", write.group.id,
                     is_comment ? events::group_comment_value(item) : events::group_post_value(item));
  }
  for (const auto& id : events::mentioned_ids(write.message)) {
    const auto install = state.install_by_page(id);
    if (!install || install->community_id != write.community.id || !has_permission(*install, "bot_mention")) continue;
    const auto [item, tags] = feed_item_for(state, install->app_id, write);
    delivery.publish(install->app_id, "page", "mention", install->page_id, events::mention_value(item, tags));
  }
}

// Returns the group and community of a group id, or kNotFound.
Result<std::pair<Group, Community>> group_and_community(const PlatformState& state, const Id& group_id) {
  auto group = state.group(group_id);
  if (!group) return Error(ErrorCode::kNotFound, "no such group");
  auto community = state.community(group->community_id);
  if (!community) return Error(ErrorCode::kNotFound, "no such community");
  return std::pair{std::move(*group), std::move(*community)};
}

}  // namespace

Result<Thread> PlatformActions::open_chat(const Id& user_id, const Id& page_id) {
  auto user = active_user(state_, user_id);
  if (!user) return user.error();
  const auto install = state_.install_by_page(page_id);
  if (!install || install->community_id != user->community_id) {
    return Error(ErrorCode::kNotFound, "no bot with that page id is installed in the person's community");
  }
  return state_.direct_thread(user_id, page_id);
}

Result<ChatMessage> PlatformActions::send_message(const Id& user_id, const Id& thread_id, std::string text) {
  if (auto user = active_user(state_, user_id); !user) return user.error();
  if (auto valid = check_text(text, kMaxChatTextCharacters); !valid) return valid.error();
  auto thread = thread_of_participant(state_, user_id, thread_id);
  if (!thread) return thread.error();
  auto message = state_.add_message(thread_id, user_id, false, json::object{{"text", text}});
  if (!message) return message.error();
  publish_chat(state_, delivery_, *thread, user_id, message->sent_at_ms, "messages",
               [&](const events::ChatContext& context) { return events::message_item(context, message->mid, text); });
  return message;
}

Result<ChatMessage> PlatformActions::press_quick_reply(const Id& user_id, const Id& thread_id,
                                                       const std::string& bot_mid, std::size_t index) {
  if (auto user = active_user(state_, user_id); !user) return user.error();
  auto thread = thread_of_participant(state_, user_id, thread_id);
  if (!thread) return thread.error();
  const auto offered = bot_message(state_, thread_id, bot_mid);
  if (!offered) return offered.error();
  const json::value* replies = member(offered->message, "quick_replies");
  if (replies == nullptr || !replies->is_array() || index >= replies->get_array().size()) {
    return Error(ErrorCode::kInvalidArgument, "the message has no quick reply " + std::to_string(index));
  }
  const json::value& reply = replies->get_array()[index];
  const auto title = string_member(reply, "title");
  const auto payload = string_member(reply, "payload");
  if (!title || !payload) return Error(ErrorCode::kInvalidArgument, "the quick reply has no title or payload");
  auto message = state_.add_message(thread_id, user_id, false,
                                    json::object{{"text", *title}, {"quick_reply_payload", *payload}});
  if (!message) return message.error();
  publish_chat(state_, delivery_, *thread, user_id, message->sent_at_ms, "messages",
               [&](const events::ChatContext& context) {
                 return events::message_item(context, message->mid, *title, payload);
               });
  return message;
}

Result<void> PlatformActions::press_postback(const Id& user_id, const Id& thread_id, const std::string& bot_mid,
                                             std::size_t index) {
  if (auto user = active_user(state_, user_id); !user) return user.error();
  auto thread = thread_of_participant(state_, user_id, thread_id);
  if (!thread) return thread.error();
  const auto offered = bot_message(state_, thread_id, bot_mid);
  if (!offered) return offered.error();
  const auto buttons = template_buttons(offered->message);
  if (index >= buttons.size()) {
    return Error(ErrorCode::kInvalidArgument, "the message has no button " + std::to_string(index));
  }
  const auto title = string_member(buttons[index], "title");
  const auto payload = string_member(buttons[index], "payload");
  if (string_member(buttons[index], "type") != "postback" || !title || !payload) {
    return Error(ErrorCode::kInvalidArgument, "button " + std::to_string(index) + " is not a postback button");
  }
  auto pressed = state_.add_message(thread_id, user_id, false,
                                    json::object{{"text", *title}, {"postback_payload", *payload}});
  if (!pressed) return pressed.error();
  publish_chat(state_, delivery_, *thread, user_id, pressed->sent_at_ms, "messaging_postbacks",
               [&](const events::ChatContext& context) { return events::postback_item(context, *title, *payload); });
  return ok_result();
}

Result<void> PlatformActions::press_get_started(const Id& user_id, const Id& page_id) {
  auto thread = open_chat(user_id, page_id);
  if (!thread) return thread.error();
  const auto install = state_.install_by_page(page_id);
  if (!install) return Error(ErrorCode::kNotFound, "no bot with that page id is installed");
  const json::object profile = state_.messenger_profile(install->id);
  const json::value* get_started = profile.if_contains("get_started");
  const auto payload = get_started != nullptr ? string_member(*get_started, "payload") : std::nullopt;
  if (!payload) return Error(ErrorCode::kNotFound, "the bot has no Get Started button");
  publish_chat(state_, delivery_, *thread, user_id, now_ms(state_), "messaging_postbacks",
               [&](const events::ChatContext& context) {
                 return events::postback_item(context, "Get Started", *payload);
               });
  return ok_result();
}

Result<void> PlatformActions::mark_read(const Id& user_id, const Id& thread_id) {
  if (auto user = active_user(state_, user_id); !user) return user.error();
  auto thread = thread_of_participant(state_, user_id, thread_id);
  if (!thread) return thread.error();
  const std::int64_t watermark = now_ms(state_);
  publish_chat(state_, delivery_, *thread, user_id, watermark, "message_reads",
               [&](const events::ChatContext& context) { return events::read_item(context, watermark); });
  return ok_result();
}

void PlatformActions::confirm_delivery(const ChatMessage& bot_message) {
  if (!bot_message.from_bot) return;
  const auto thread = state_.thread(bot_message.thread_id);
  if (!thread) return;
  const std::int64_t delivered_at = now_ms(state_);
  for (const Id& person : thread->participants) {
    publish_chat(state_, delivery_, *thread, person, delivered_at, "message_deliveries",
                 [&](const events::ChatContext& context) {
                   return events::delivery_item(context, {bot_message.mid}, bot_message.sent_at_ms);
                 });
  }
}

Result<Post> PlatformActions::post(const Id& user_id, const Id& group_id, std::string message) {
  if (auto user = active_user(state_, user_id); !user) return user.error();
  if (auto valid = check_text(message, kMaxPostCharacters); !valid) return valid.error();
  auto place = group_and_community(state_, group_id);
  if (!place) return place.error();
  auto added = state_.add_post(group_id, user_id, false, message);
  if (!added) return added.error();
  publish_feed_write(state_, delivery_,
                     {.author = user_id, .group = place->first, .community = place->second, .post_id = added->id,
                      .message = std::move(message), .created_at = added->created_at});
  return added;
}

Result<Comment> PlatformActions::comment(const Id& user_id, const Id& object_id, std::string message) {
  if (auto user = active_user(state_, user_id); !user) return user.error();
  if (auto valid = check_text(message, kMaxCommentCharacters); !valid) return valid.error();
  auto added = state_.add_comment(object_id, user_id, false, message);
  if (!added) return added.error();
  const auto post = state_.post(added->post_id);
  if (!post) return Error(ErrorCode::kNotFound, "no such post");
  auto place = group_and_community(state_, post->group_id);
  if (!place) return place.error();
  publish_feed_write(state_, delivery_,
                     {.author = user_id, .group = place->first, .community = place->second, .post_id = added->post_id,
                      .comment_id = added->id, .parent_id = added->parent_id, .message = std::move(message),
                      .created_at = added->created_at});
  return added;
}

Result<void> PlatformActions::add_group_member(const Id& group_id, const Id& user_id) {
  auto place = group_and_community(state_, group_id);
  if (!place) return place.error();
  const bool already_member = contains(place->first.members, user_id);
  auto added = state_.add_group_member(group_id, user_id);
  if (!added) return added.error();
  if (already_member) return ok_result();
  const auto user = state_.user(user_id);
  const std::int64_t now = state_.clock().unix_seconds();
  for (const auto& install : state_.installs(place->second.id)) {
    const events::Actor member{.id = state_.scoped_user_id(install.app_id, user_id), .name = user ? user->name : ""};
    delivery_.publish(install.app_id, "group", "membership", group_id,
                      events::membership_value(member, place->second.id, "add", now));
  }
  return ok_result();
}

Result<Install> PlatformActions::install(const Id& app_id, const Id& admin_id) {
  return state_.install_directly(app_id, admin_id);
}

Result<Install> PlatformActions::uninstall(const Id& app_id, const Id& community_id, const Id& admin_id) {
  auto admin = active_user(state_, admin_id);
  if (!admin) return admin.error();
  if (!admin->system_admin || admin->community_id != community_id) {
    return Error(ErrorCode::kPermissionDenied, "only a system administrator of the community can uninstall");
  }
  auto removed = state_.uninstall(app_id, community_id);
  if (!removed) return removed.error();
  delivery_.deauthorize(*removed, admin_id);
  return removed;
}

}  // namespace wik::emulator
