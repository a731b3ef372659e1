// The Graph endpoints, one function per (method, route) of the dispatch table in graph_api.cpp,
// grouped by file: objects.cpp (community, people, /me, /{id}, ?ids=), chat.cpp (Send API,
// messenger profile, threads), groups.cpp (feed, comments, likes), subscriptions.cpp
// (/app/subscriptions, /{app_id}). Each gets a call whose token was already checked against the
// route's token rule and answers a JSON body or a named platform error; none blocks for long.
// Also the object resolution they share: an id (or email) seen from one install's community.
// Private to graph_api/.
#pragma once

#include <boost/asio/awaitable.hpp>

#include <variant>

#include "emulator/graph_api/fields.h"
#include "emulator/graph_api/graph_call.h"

namespace wik::emulator {

// --- objects.cpp ------------------------------------------------------------------------------
Reply get_community(GraphServices& services, const GraphCall& call);
Reply get_community_edge(GraphServices& services, const GraphCall& call);  // members, admins, groups, …
Reply get_me(GraphServices& services, const GraphCall& call);
Reply get_object(GraphServices& services, const GraphCall& call);  // /{id}
Reply get_objects(GraphServices& services, const GraphCall& call);  // /?ids=

// A Graph object as one caller may see it.
struct PageObject {
  Id id;
  std::string name;
};
struct CommunityObject {};
using GraphObject = std::variant<User, Group, Post, Comment, Thread, App, PageObject, CommunityObject>;

// Returns the object `id` names (an app-scoped user id, an email, a group, post, comment, "t_…"
// thread, the caller's app, bot page or community) when the caller may see it: objects of another
// community or app are nullopt, exactly like unknown ids.
std::optional<GraphObject> resolve_object(GraphServices& services, const Caller& caller, const std::string& id);

// Returns everything `object` can show to the caller.
Node node_of(GraphServices& services, const Caller& caller, const GraphObject& object);

// Returns a person as the caller's app sees it: {"id": scoped id, "name": …}.
boost::json::object person_reference(GraphServices& services, const Caller& caller, const Id& platform_user_id);
// Returns the author of a post, comment or message: a person, or the bot page.
boost::json::object author_reference(GraphServices& services, const Caller& caller, const Id& from, bool from_bot);

// --- chat.cpp ---------------------------------------------------------------------------------
Reply post_message(GraphServices& services, const GraphCall& call);
Reply get_messenger_profile(GraphServices& services, const GraphCall& call);
Reply post_messenger_profile(GraphServices& services, const GraphCall& call);
Reply delete_messenger_profile(GraphServices& services, const GraphCall& call);
Reply subscribed_apps(GraphServices& services, const GraphCall& call);
Reply get_thread_messages(GraphServices& services, const GraphCall& call);

// --- groups.cpp -------------------------------------------------------------------------------
Reply get_feed(GraphServices& services, const GraphCall& call);
Reply post_feed(GraphServices& services, const GraphCall& call);
Reply get_comments(GraphServices& services, const GraphCall& call);
Reply post_comment(GraphServices& services, const GraphCall& call);
Reply change_like(GraphServices& services, const GraphCall& call);  // POST and DELETE

// --- subscriptions.cpp ------------------------------------------------------------------------
Reply get_app(GraphServices& services, const GraphCall& call);
Reply get_subscriptions(GraphServices& services, const GraphCall& call);
boost::asio::awaitable<Reply> post_subscription(GraphServices& services, const GraphCall& call);
Reply delete_subscriptions(GraphServices& services, const GraphCall& call);

}  // namespace wik::emulator
