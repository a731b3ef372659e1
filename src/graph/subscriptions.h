// The app's webhook subscriptions (PROTOCOL.md §7): reading them, and making them equal to what
// the app wants (its manifest's [webhooks] table) in one step that shows its changes first.
//
// Subscriptions belong to the app, not to a community: one per object (page, group, user, link,
// workplace_security), each with one callback URL and a set of fields. sync_subscriptions compares
// the platform's set with the wanted one and, when told to apply, creates, updates and removes
// subscriptions until they match, then reads them back to confirm. The platform verifies the
// callback (a GET handshake with the verify token) before it accepts a subscription, so the
// integration's webhook endpoint must be serving when a sync adds or changes one.
//
// The verify token travels only in a POST body, never in a URL, and appears in no result or error.
// The platform never reports it back, so a changed verify token is not a difference: the platform
// uses it only for the handshake of the next change. All calls are app calls (GraphClient's app
// access token, no proof); their errors are GraphClient's, with the step that failed in the reason.
// Stateless free functions; thread-safe as GraphClient is, which must outlive each call.
#pragma once

#include <wik/result.h>
#include <wik/secret.h>

#include <boost/asio/awaitable.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "graph/graph_client.h"

namespace wik::graph {

// One object's subscription, as the platform reports it.
struct AppSubscription {
  std::string object;  // page, group, user, link, workplace_security
  std::string callback_url;
  std::vector<std::string> fields;  // sorted, no duplicates
  bool active = true;
};

// The fields the app wants for one object. Every wanted object gets the same callback URL.
struct WantedSubscription {
  std::string object;
  std::vector<std::string> fields;
};

// One difference between the platform's subscriptions and the wanted ones. Field lists are sorted.
struct SubscriptionChange {
  enum class Kind {
    kAdd,     // wanted, not subscribed: fields_before and callback_before are empty
    kUpdate,  // subscribed with other fields or another callback URL
    kRemove,  // subscribed, not wanted: fields_after and callback_after are empty
  };
  Kind kind = Kind::kAdd;
  std::string object;
  std::vector<std::string> fields_before;
  std::vector<std::string> fields_after;
  std::string callback_before;
  std::string callback_after;
};

// Returns the changes that turn `current` into `wanted` at `callback_url`, ordered by object; empty
// when they already match. A wanted object listed twice gets the union of its fields; one with no
// fields counts as not wanted.
std::vector<SubscriptionChange> plan_subscription_changes(const std::vector<AppSubscription>& current,
                                                          const std::vector<WantedSubscription>& wanted,
                                                          std::string_view callback_url);

// Returns the app's subscriptions (GET /{app_id}/subscriptions), ordered by object. kMalformed
// when the answer is not the documented list.
boost::asio::awaitable<Result<std::vector<AppSubscription>>> list_subscriptions(GraphClient& graph);

// Returns the changes that make the app's subscriptions equal to `wanted` at `callback_url` (see
// plan_subscription_changes). With `apply`, also makes them: an added or changed object is POSTed
// with its callback URL, fields and `verify_token`; fields no longer wanted are then DELETEd by
// name, so the fields that stay are never unsubscribed; an object no longer wanted is DELETEd. The
// subscriptions are read back afterwards: kConflict if they still differ (someone changed them
// meanwhile). kInvalidArgument, before any call, for a callback URL that is not http(s), an object
// or field name that is not lower-case letters, digits and '_', or an empty verify token with
// `apply`. A failed step stops the sync there: the changes before it stay made, and running the
// sync again completes it.
boost::asio::awaitable<Result<std::vector<SubscriptionChange>>> sync_subscriptions(
    GraphClient& graph, std::string callback_url, const Secret& verify_token,
    std::vector<WantedSubscription> wanted, bool apply);

}  // namespace wik::graph
