// Objects and people: /community (/company) and its edges, /me, /{id}, /?ids= (PROTOCOL.md §4).
#include "emulator/graph_api/endpoints.h"

#include <boost/json/array.hpp>

#include <algorithm>
#include <cctype>

namespace wik::emulator {
namespace {

namespace json = boost::json;

// The most ids one /?ids= read may name (the platform's limit).
constexpr std::size_t kMaxIds = 50;

// Permissions behind member fields (PROTOCOL.md §4.3, §8).
constexpr std::string_view kReadEmail = "read_user_email";
constexpr std::string_view kReadWorkProfile = "read_user_work_profile";

std::string upper(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  return text;
}

Node user_node(GraphServices& services, const Caller& caller, const User& user) {
  Node node{"User", {}, {}, {"id", "name"}};
  const Id scoped = services.state.scoped_user_id(caller.app.id, user.id);
  const auto space = user.name.find(' ');
  node.fields["id"] = scoped;
  node.fields["name"] = user.name;
  node.fields["first_name"] = user.name.substr(0, space);
  node.fields["last_name"] = space == std::string::npos ? std::string() : user.name.substr(space + 1);
  node.fields["locale"] = user.locale;
  node.fields["link"] = services.options.web_url + "/profile.php?id=" + scoped;
  node.fields["active"] = user.active;
  if (const auto community = services.state.community(user.community_id)) {
    node.fields["community"] = json::object{{"id", community->id}, {"name", community->name}};
  }
  if (caller.has_permission(kReadEmail)) {
    node.fields["email"] = user.email;
  } else {
    node.withheld.insert("email");
  }
  if (caller.has_permission(kReadWorkProfile)) {
    node.fields["title"] = user.title;
  } else {
    node.withheld.insert("title");
  }
  // Work-profile fields the emulator does not model are still known (and withheld the same way).
  for (const char* field : {"department", "division", "organization", "primary_phone", "primary_address"}) {
    node.withheld.insert(field);
  }
  return node;
}

Node community_node(GraphServices& services, const Caller& caller) {
  const Install& install = *caller.install;
  Node node{"Group", {}, {}, {"id", "name"}};
  const auto community = services.state.community(install.community_id);
  node.fields["id"] = install.community_id;
  node.fields["name"] = community ? community->name : std::string();
  node.fields["privacy"] = "CLOSED";
  node.fields["is_community"] = true;
  json::array permissions;
  for (const std::string& permission : install.permissions) permissions.emplace_back(upper(permission));
  node.fields["install"] = json::object{
      {"id", install.id}, {"install_type", upper(install.install_type)}, {"permissions", std::move(permissions)}};
  return node;
}

std::string permalink(GraphServices& services, const Id& group_id, const Id& post_id) {
  const std::string number = post_id.substr(post_id.find('_') + 1);
  return services.options.web_url + "/groups/" + group_id + "/permalink/" + number + "/";
}

json::object comment_fields(GraphServices& services, const Caller& caller, const Comment& comment) {
  json::object fields{{"id", comment.id},
                      {"message", comment.message},
                      {"from", author_reference(services, caller, comment.from, comment.from_bot)},
                      {"created_time", graph_time(comment.created_at)}};
  if (comment.parent_id) fields["parent"] = json::object{{"id", *comment.parent_id}};
  return fields;
}

Node post_node(GraphServices& services, const Caller& caller, const Post& post) {
  Node node{"Post", {}, {}, {"id", "message", "created_time"}};
  json::array comments;
  for (const Comment& comment : services.state.comments(post.id)) {
    comments.emplace_back(comment_fields(services, caller, comment));
  }
  node.fields = json::object{{"id", post.id},
                             {"message", post.message},
                             {"from", author_reference(services, caller, post.from, post.from_bot)},
                             {"created_time", graph_time(post.created_at)},
                             {"updated_time", graph_time(post.created_at)},
                             {"type", "status"},
                             {"to", json::object{{"data", json::array{json::object{{"id", post.group_id}}}}}},
                             {"permalink_url", permalink(services, post.group_id, post.id)},
                             {"comments", json::object{{"data", std::move(comments)}}}};
  return node;
}

Node comment_node(GraphServices& services, const Caller& caller, const Comment& comment) {
  Node node{"Comment", comment_fields(services, caller, comment), {}, {"id", "message", "from", "created_time"}};
  node.fields["object"] = json::object{{"id", comment.post_id}};
  return node;
}

Node thread_node(GraphServices& services, const Caller& caller, const Thread& thread) {
  Node node{"Thread", {}, {}, {"id"}};
  json::array participants;
  for (const Id& person : thread.participants) participants.emplace_back(person_reference(services, caller, person));
  participants.emplace_back(json::object{{"id", caller.install->page_id}, {"name", caller.app.name}});
  const auto messages = services.state.messages(thread.id);
  const std::int64_t updated = messages.empty() ? 0 : messages.back().sent_at_ms / 1000;
  node.fields = json::object{{"id", "t_" + thread.id},
                             {"name", thread.name},
                             {"participants", json::object{{"data", std::move(participants)}}},
                             {"can_reply", true},
                             {"updated_time", graph_time(updated)},
                             {"link", services.options.web_url + "/chat/t/" + thread.id}};
  return node;
}

Reply single(GraphServices& services, const GraphCall& call, const GraphObject& object) {
  auto selection = requested_fields(call);
  if (const auto* failed = failure_of(selection)) return *failed;
  auto selected = select_fields(node_of(services, call.caller, object), std::get<std::vector<FieldSpec>>(selection));
  if (const auto* failed = failure_of(selected)) return *failed;
  return json::value(std::move(std::get<json::object>(selected)));
}

bool in_community(GraphServices& services, const Id& group_id, const Id& community_id) {
  const auto group = services.state.group(group_id);
  return group && group->community_id == community_id;
}

}  // namespace

json::object person_reference(GraphServices& services, const Caller& caller, const Id& platform_user_id) {
  const auto user = services.state.user(platform_user_id);
  return json::object{{"id", services.state.scoped_user_id(caller.app.id, platform_user_id)},
                      {"name", user ? user->name : std::string()}};
}

json::object author_reference(GraphServices& services, const Caller& caller, const Id& from, bool from_bot) {
  if (!from_bot) return person_reference(services, caller, from);
  const auto install = services.state.install_by_page(from);
  const auto app = install ? services.state.app(install->app_id) : std::nullopt;
  return json::object{{"id", from}, {"name", app ? app->name : std::string()}};
}

std::optional<GraphObject> resolve_object(GraphServices& services, const Caller& caller, const std::string& id) {
  if (caller.kind == Caller::Kind::kApp) {
    if (id == caller.app.id) return GraphObject(caller.app);
    return std::nullopt;
  }
  const Install& install = *caller.install;
  PlatformState& state = services.state;
  if (id == install.app_id) return GraphObject(caller.app);
  if (id == install.page_id) return GraphObject(PageObject{install.page_id, caller.app.name});
  if (id == install.community_id) return GraphObject(CommunityObject{});
  if (id.starts_with("t_")) {
    auto thread = state.thread(id.substr(2));
    if (thread && thread->community_id == install.community_id && thread->page_id == install.page_id) {
      return GraphObject(std::move(*thread));
    }
    return std::nullopt;
  }
  std::optional<User> user;
  if (id.find('@') != std::string::npos) {
    user = state.user_by_email(id);
  } else if (const auto platform_id = state.resolve_scoped_user(caller.app.id, id)) {
    user = state.user(*platform_id);
  }
  if (user) {
    if (user->community_id == install.community_id) return GraphObject(std::move(*user));
    return std::nullopt;
  }
  if (auto group = state.group(id)) {
    if (group->community_id == install.community_id) return GraphObject(std::move(*group));
    return std::nullopt;
  }
  if (auto post = state.post(id)) {
    if (in_community(services, post->group_id, install.community_id)) return GraphObject(std::move(*post));
    return std::nullopt;
  }
  if (auto comment = state.comment(id)) {
    const auto post = state.post(comment->post_id);
    if (post && in_community(services, post->group_id, install.community_id)) return GraphObject(std::move(*comment));
  }
  return std::nullopt;
}

Node node_of(GraphServices& services, const Caller& caller, const GraphObject& object) {
  struct Visitor {
    GraphServices& services;
    const Caller& caller;
    Node operator()(const User& user) const { return user_node(services, caller, user); }
    Node operator()(const Group& group) const {
      return Node{"Group",
                  json::object{{"id", group.id},
                               {"name", group.name},
                               {"privacy", group.privacy},
                               {"member_count", group.members.size()},
                               {"is_community", false}},
                  {},
                  {"id", "name", "privacy"}};
    }
    Node operator()(const Post& post) const { return post_node(services, caller, post); }
    Node operator()(const Comment& comment) const { return comment_node(services, caller, comment); }
    Node operator()(const Thread& thread) const { return thread_node(services, caller, thread); }
    Node operator()(const App& app) const {
      return Node{"Application",
                  json::object{{"id", app.id}, {"name", app.name}, {"link", services.options.web_url + "/apps/" + app.id}},
                  {},
                  {"id", "name"}};
    }
    Node operator()(const PageObject& page) const {
      return Node{"Page", json::object{{"id", page.id}, {"name", page.name}}, {}, {"id", "name"}};
    }
    Node operator()(const CommunityObject&) const { return community_node(services, caller); }
  };
  return std::visit(Visitor{services, caller}, object);
}

Reply get_community(GraphServices& services, const GraphCall& call) { return single(services, call, CommunityObject{}); }

Reply get_community_edge(GraphServices& services, const GraphCall& call) {
  const std::string& edge = call.segments.at(1);
  const Id& community_id = call.install().community_id;
  std::vector<Node> nodes;
  if (edge == "groups") {
    if (auto refused = require_any_permission(call, {"read_group", "manage_group"})) return *refused;
    for (const Group& group : services.state.groups(community_id)) nodes.push_back(node_of(services, call.caller, group));
    return paged_reply(call, nodes, services.options.graph_url);
  }
  const auto inactive_param = call.params.text("inactive");
  const bool inactive_wanted = inactive_param && (*inactive_param == "1" || *inactive_param == "true");
  for (const User& user : services.state.users(community_id)) {
    bool listed = user.active;
    if (edge == "former_members") listed = !user.active;
    if (edge == "organization_members") listed = user.active != inactive_wanted;
    if (edge == "admins") listed = user.active && user.system_admin;
    if (listed) nodes.push_back(user_node(services, call.caller, user));
  }
  return paged_reply(call, nodes, services.options.graph_url);
}

Reply get_me(GraphServices& services, const GraphCall& call) {
  return single(services, call, PageObject{call.install().page_id, call.caller.app.name});
}

Reply get_object(GraphServices& services, const GraphCall& call) {
  const std::string& id = call.segments.at(0);
  const auto object = resolve_object(services, call.caller, id);
  if (!object) return unsupported(call, id);
  if (std::holds_alternative<Group>(*object) || std::holds_alternative<Post>(*object) ||
      std::holds_alternative<Comment>(*object)) {
    if (auto refused = require_any_permission(call, {"read_group", "manage_group", "bot_mention"})) return *refused;
  }
  return single(services, call, *object);
}

Reply get_objects(GraphServices& services, const GraphCall& call) {
  auto ids = call.params.list("ids");
  if (const auto* failed = failure_of(ids)) return *failed;
  const auto& keys = std::get<std::vector<std::string>>(ids);
  if (keys.empty()) return invalid_parameter("Missing ids parameter");
  if (keys.size() > kMaxIds) return invalid_parameter("Too many IDs. Maximum: 50.");
  auto selection = requested_fields(call);
  if (const auto* failed = failure_of(selection)) return *failed;
  json::object result;
  std::string missing;
  for (const std::string& key : keys) {
    const auto object = resolve_object(services, call.caller, key);
    if (!object) {
      missing += (missing.empty() ? "" : ",") + key;
      continue;
    }
    auto selected = select_fields(node_of(services, call.caller, *object), std::get<std::vector<FieldSpec>>(selection));
    if (const auto* failed = failure_of(selected)) return *failed;
    result[key] = std::move(std::get<json::object>(selected));
  }
  if (!missing.empty()) return GraphFailure{GraphError::kUnknownAliases, {missing}};
  return json::value(std::move(result));
}

}  // namespace wik::emulator
