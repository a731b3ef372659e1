#include "graph/subscriptions.h"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include <algorithm>
#include <iterator>
#include <map>
#include <set>

#include <fmt/format.h>

#include "http/url.h"

namespace wik::graph {
namespace {

namespace asio = boost::asio;
namespace json = boost::json;
using boost::beast::http::verb;
using Fields = std::vector<std::string>;

constexpr std::size_t kMaxNameLength = 64;
// GraphClient's reason for the platform's code 2200: the callback failed the verification GET
// (PROTOCOL.md §7.1). The one platform code this file explains further.
constexpr std::string_view kVerificationFailed = "graph error 2200";

bool is_name(std::string_view name) {
  return !name.empty() && name.size() <= kMaxNameLength && std::all_of(name.begin(), name.end(), [](char c) {
           return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
         });
}

void sort_unique(Fields& fields) {
  std::sort(fields.begin(), fields.end());
  fields.erase(std::unique(fields.begin(), fields.end()), fields.end());
}

std::string join(const std::vector<std::string>& items, std::string_view separator) {
  std::string joined;
  for (const std::string& item : items) {
    if (!joined.empty()) joined += separator;
    joined += item;
  }
  return joined;
}

std::string subscriptions_path(const GraphClient& graph) { return "/" + graph.app_id() + "/subscriptions"; }

Error malformed(std::string_view what) {
  return Error(ErrorCode::kMalformed, "the platform's list of subscriptions is malformed: " + std::string(what));
}

// Returns the subscriptions of a GET answer:
// {"data":[{"object","callback_url","active","fields":[{"name","version"}]}]}; a field may also be
// a bare name.
Result<std::vector<AppSubscription>> parse_subscriptions(const json::value& answer) {
  const auto* body = answer.if_object();
  const auto* data = body != nullptr ? body->if_contains("data") : nullptr;
  if (data == nullptr || !data->is_array()) return malformed("no data list");
  std::vector<AppSubscription> subscriptions;
  for (const json::value& item : data->get_array()) {
    const auto* entry = item.if_object();
    const auto* object = entry != nullptr ? entry->if_contains("object") : nullptr;
    if (object == nullptr || !object->is_string() || !is_name(object->get_string())) {
      return malformed("an entry has no valid object");
    }
    AppSubscription subscription{.object = std::string(object->get_string())};
    if (const auto* url = entry->if_contains("callback_url"); url != nullptr && url->is_string()) {
      subscription.callback_url = std::string(url->get_string());
    }
    if (const auto* active = entry->if_contains("active"); active != nullptr && active->is_bool()) {
      subscription.active = active->get_bool();
    }
    if (const auto* fields = entry->if_contains("fields"); fields != nullptr) {
      if (!fields->is_array()) return malformed("the fields of " + subscription.object + " are not a list");
      for (const json::value& field : fields->get_array()) {
        const json::value* name = field.is_object() ? field.get_object().if_contains("name") : &field;
        if (name == nullptr || !name->is_string()) {
          return malformed("a field of " + subscription.object + " has no name");
        }
        subscription.fields.emplace_back(name->get_string());
      }
    }
    sort_unique(subscription.fields);
    subscriptions.push_back(std::move(subscription));
  }
  std::sort(subscriptions.begin(), subscriptions.end(),
            [](const AppSubscription& a, const AppSubscription& b) { return a.object < b.object; });
  return subscriptions;
}

// Returns kInvalidArgument naming the first thing the platform would refuse in a sync request.
Result<void> check_sync_request(std::string_view callback_url, const std::vector<WantedSubscription>& wanted) {
  const bool http_url = callback_url.starts_with("https://") || callback_url.starts_with("http://");
  if (!http_url || !http::parse_absolute_url(callback_url).ok()) {
    return Error(ErrorCode::kInvalidArgument, "the callback URL must be an absolute http:// or https:// URL");
  }
  for (const WantedSubscription& subscription : wanted) {
    if (!is_name(subscription.object)) {
      return Error(ErrorCode::kInvalidArgument, "a subscription's object must be lower-case letters, digits and '_'");
    }
    for (const std::string& field : subscription.fields) {
      if (!is_name(field)) {
        return Error(ErrorCode::kInvalidArgument,
                     "the fields of " + subscription.object + " must be lower-case letters, digits and '_'");
      }
    }
  }
  return ok_result();
}

// Returns true for the platform's {"success": true} (or "true", as one documented example has it).
bool succeeded(const json::value& answer) {
  const auto* body = answer.if_object();
  const auto* success = body != nullptr ? body->if_contains("success") : nullptr;
  return success != nullptr &&
         ((success->is_bool() && success->get_bool()) || (success->is_string() && success->get_string() == "true"));
}

// Returns the error of a failed step (a call as the app), the step named in its reason and the two
// refusals an operator can fix explained.
Error step_error(const Error& error, std::string_view step, std::string_view callback_url) {
  if (error.code() == ErrorCode::kUnauthenticated) {
    return Error(error.code(),
                 fmt::format("{}: the platform refused the app access token ({}): are the app id and secret right?",
                             step, error.reason()),
                 error.detail());
  }
  if (error.reason() == kVerificationFailed) {
    return Error(error.code(),
                 fmt::format("{}: the platform could not verify the callback URL {} ({}): the webhook endpoint must "
                             "be serving there, answer the platform's verification GET with hub.challenge and hold "
                             "the same verify token",
                             step, callback_url, error.reason()),
                 error.detail());
  }
  return error.with_context(step);
}

asio::awaitable<Result<void>> send_change(GraphClient& graph, GraphRequest request, std::string step,
                                          std::string callback_url) {
  auto answer = co_await graph.call_as_app(std::move(request));
  if (!answer.ok()) co_return step_error(answer.error(), step, callback_url);
  if (!succeeded(*answer)) co_return Error(ErrorCode::kMalformed, step + ": the platform did not answer success");
  co_return ok_result();
}

// POSTs the object's subscription as the change wants it (PROTOCOL.md §7.1).
asio::awaitable<Result<void>> subscribe(GraphClient& graph, const SubscriptionChange& change,
                                        const Secret& verify_token) {
  GraphRequest request{.method = verb::post, .path = subscriptions_path(graph)};
  request.body = json::object{{"object", change.object},
                              {"callback_url", change.callback_after},
                              {"fields", join(change.fields_after, ",")},
                              {"verify_token", verify_token.expose()},
                              {"include_values", true}};
  std::string step = "subscribing " + change.object;
  co_return co_await send_change(graph, std::move(request), std::move(step), change.callback_after);
}

// DELETEs the object's subscription, or only `fields` of it when there are any (PROTOCOL.md §7.3).
asio::awaitable<Result<void>> unsubscribe(GraphClient& graph, const std::string& object, const Fields& fields) {
  GraphRequest request{.method = verb::delete_, .path = subscriptions_path(graph)};
  request.query.emplace_back("object", object);
  if (!fields.empty()) request.query.emplace_back("fields", join(fields, ","));
  std::string step = (fields.empty() ? "unsubscribing " : "unsubscribing fields of ") + object;
  std::string no_callback;
  co_return co_await send_change(graph, std::move(request), std::move(step), std::move(no_callback));
}

// Makes one change. An update POSTs only when it adds fields or moves the callback (the platform may
// merge the POSTed fields into the old ones), then DELETEs the fields it drops.
asio::awaitable<Result<void>> apply_change(GraphClient& graph, const SubscriptionChange& change,
                                           const Secret& verify_token) {
  const Fields whole_object;
  if (change.kind == SubscriptionChange::Kind::kRemove) {
    co_return co_await unsubscribe(graph, change.object, whole_object);
  }
  const bool adds_fields = !std::includes(change.fields_before.begin(), change.fields_before.end(),
                                          change.fields_after.begin(), change.fields_after.end());
  if (adds_fields || change.callback_before != change.callback_after) {
    if (auto subscribed = co_await subscribe(graph, change, verify_token); !subscribed.ok()) co_return subscribed;
  }
  Fields dropped;
  std::set_difference(change.fields_before.begin(), change.fields_before.end(), change.fields_after.begin(),
                      change.fields_after.end(), std::back_inserter(dropped));
  if (dropped.empty()) co_return ok_result();
  co_return co_await unsubscribe(graph, change.object, dropped);
}

}  // namespace

std::vector<SubscriptionChange> plan_subscription_changes(const std::vector<AppSubscription>& current,
                                                          const std::vector<WantedSubscription>& wanted,
                                                          std::string_view callback_url) {
  std::map<std::string, Fields> want;
  for (const WantedSubscription& subscription : wanted) {
    Fields& fields = want[subscription.object];
    fields.insert(fields.end(), subscription.fields.begin(), subscription.fields.end());
  }
  for (auto& [object, fields] : want) sort_unique(fields);
  std::erase_if(want, [](const auto& entry) { return entry.second.empty(); });
  std::map<std::string, const AppSubscription*> have;
  for (const AppSubscription& subscription : current) have[subscription.object] = &subscription;
  std::set<std::string> objects;
  for (const auto& [object, fields] : want) objects.insert(object);
  for (const auto& [object, subscription] : have) objects.insert(object);

  std::vector<SubscriptionChange> changes;
  for (const std::string& object : objects) {
    const auto wanted_fields = want.find(object);
    const auto found = have.find(object);
    using Kind = SubscriptionChange::Kind;
    if (found == have.end()) {
      changes.push_back({.kind = Kind::kAdd, .object = object, .fields_after = wanted_fields->second,
                         .callback_after = std::string(callback_url)});
      continue;
    }
    const AppSubscription& subscribed = *found->second;
    if (wanted_fields == want.end()) {
      changes.push_back({.kind = Kind::kRemove, .object = object, .fields_before = subscribed.fields,
                         .callback_before = subscribed.callback_url});
    } else if (subscribed.fields != wanted_fields->second || subscribed.callback_url != callback_url) {
      changes.push_back({.kind = Kind::kUpdate, .object = object, .fields_before = subscribed.fields,
                         .fields_after = wanted_fields->second, .callback_before = subscribed.callback_url,
                         .callback_after = std::string(callback_url)});
    }
  }
  return changes;
}

asio::awaitable<Result<std::vector<AppSubscription>>> list_subscriptions(GraphClient& graph) {
  GraphRequest request{.path = subscriptions_path(graph)};
  auto answer = co_await graph.call_as_app(std::move(request));
  if (!answer.ok()) co_return step_error(answer.error(), "reading the app's subscriptions", "");
  co_return parse_subscriptions(*answer);
}

asio::awaitable<Result<std::vector<SubscriptionChange>>> sync_subscriptions(GraphClient& graph,
                                                                            std::string callback_url,
                                                                            const Secret& verify_token,
                                                                            std::vector<WantedSubscription> wanted,
                                                                            bool apply) {
  if (auto checked = check_sync_request(callback_url, wanted); !checked.ok()) co_return checked.error();
  if (apply && verify_token.empty()) co_return Error(ErrorCode::kInvalidArgument, "the verify token is empty");
  auto current = co_await list_subscriptions(graph);
  if (!current.ok()) co_return current.error();
  auto changes = plan_subscription_changes(*current, wanted, callback_url);
  if (!apply || changes.empty()) co_return changes;

  for (const SubscriptionChange& change : changes) {
    if (auto applied = co_await apply_change(graph, change, verify_token); !applied.ok()) co_return applied.error();
  }
  auto after = co_await list_subscriptions(graph);
  if (!after.ok()) co_return after.error().with_context("confirming the sync");
  const auto left = plan_subscription_changes(*after, wanted, callback_url);
  if (!left.empty()) {
    std::vector<std::string> objects;
    for (const SubscriptionChange& change : left) objects.push_back(change.object);
    co_return Error(ErrorCode::kConflict, "after the sync the platform's subscriptions still differ for " +
                                              join(objects, ", ") + " (changed meanwhile?); run the sync again");
  }
  co_return changes;
}

}  // namespace wik::graph
