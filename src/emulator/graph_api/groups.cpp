// Groups: feeds, posts, comments and likes (PROTOCOL.md §10). Reading needs read_group (or
// manage_group; bot_mention for the posts and comments a mention points at), posting needs
// write_group (commenting and liking also accept bot_mention, which is how a bot answers a mention).
#include "emulator/graph_api/endpoints.h"

#include <boost/json/object.hpp>

#include "emulator/webhook_delivery/actions.h"

namespace wik::emulator {
namespace {

namespace json = boost::json;

// Returns the group `call` names, or the unsupported-request error.
Checked<Group> named_group(GraphServices& services, const GraphCall& call) {
  const std::string& id = call.segments.at(0);
  const auto object = resolve_object(services, call.caller, id);
  if (object) {
    if (const auto* group = std::get_if<Group>(&*object)) return *group;
  }
  return unsupported(call, id);
}

// Returns the post or comment `call` names (its id), or the unsupported-request error.
Checked<Id> named_post_or_comment(GraphServices& services, const GraphCall& call) {
  const std::string& id = call.segments.at(0);
  const auto object = resolve_object(services, call.caller, id);
  if (object && (std::holds_alternative<Post>(*object) || std::holds_alternative<Comment>(*object))) return id;
  return unsupported(call, id);
}

Checked<std::string> message_text(const GraphCall& call, bool link_allowed) {
  std::string text = call.params.text("message").value_or("");
  if (link_allowed) {
    if (const auto link = call.params.text("link"); link && !link->empty()) text += (text.empty() ? "" : "\n") + *link;
  }
  if (text.empty()) return invalid_parameter(link_allowed ? "Missing message or link" : "Missing message");
  const std::size_t limit = link_allowed ? kMaxPostCharacters : kMaxCommentCharacters;
  if (utf8_length(text) > limit) {
    return invalid_parameter("Length of param message must be less than or equal to " + std::to_string(limit));
  }
  return text;
}

}  // namespace

Reply get_feed(GraphServices& services, const GraphCall& call) {
  auto group = named_group(services, call);
  if (const auto* failed = failure_of(group)) return *failed;
  if (auto refused = require_any_permission(call, {"read_group", "manage_group"})) return *refused;
  std::vector<Node> nodes;
  for (const Post& post : services.state.feed(std::get<Group>(group).id)) {
    nodes.push_back(node_of(services, call.caller, post));
  }
  return paged_reply(call, nodes, services.options.graph_url);
}

Reply post_feed(GraphServices& services, const GraphCall& call) {
  auto group = named_group(services, call);
  if (const auto* failed = failure_of(group)) return *failed;
  if (auto refused = require_any_permission(call, {"write_group"})) return *refused;
  auto text = message_text(call, true);
  if (const auto* failed = failure_of(text)) return *failed;
  auto post = services.state.add_post(std::get<Group>(group).id, call.install().page_id, true, std::get<std::string>(text));
  if (!post.ok()) return GraphFailure{GraphError::kServiceUnavailable, {}};
  return json::value(json::object{{"id", post->id}});
}

Reply get_comments(GraphServices& services, const GraphCall& call) {
  auto object = named_post_or_comment(services, call);
  if (const auto* failed = failure_of(object)) return *failed;
  if (auto refused = require_any_permission(call, {"read_group", "manage_group", "bot_mention"})) return *refused;
  std::vector<Node> nodes;
  for (const Comment& comment : services.state.comments(std::get<Id>(object))) {
    nodes.push_back(node_of(services, call.caller, comment));
  }
  return paged_reply(call, nodes, services.options.graph_url);
}

Reply post_comment(GraphServices& services, const GraphCall& call) {
  auto object = named_post_or_comment(services, call);
  if (const auto* failed = failure_of(object)) return *failed;
  if (auto refused = require_any_permission(call, {"write_group", "bot_mention"})) return *refused;
  auto text = message_text(call, false);
  if (const auto* failed = failure_of(text)) return *failed;
  auto comment =
      services.state.add_comment(std::get<Id>(object), call.install().page_id, true, std::get<std::string>(text));
  if (!comment.ok()) return invalid_parameter(comment.error().reason());
  return json::value(json::object{{"id", comment->id}});
}

Reply change_like(GraphServices& services, const GraphCall& call) {
  auto object = named_post_or_comment(services, call);
  if (const auto* failed = failure_of(object)) return *failed;
  if (auto refused = require_any_permission(call, {"write_group", "bot_mention"})) return *refused;
  return json::value(json::object{{"success", true}});
}

}  // namespace wik::emulator
