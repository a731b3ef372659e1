// The app's webhook subscriptions: /app/subscriptions and /{app_id}/subscriptions with the app
// token (PROTOCOL.md §7), and the app node /app, /{app_id}. A POST is verified against the
// callback (the §6.1 GET, through WebhookDelivery) before it is stored or answered.
#include "emulator/graph_api/endpoints.h"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include <algorithm>
#include <cctype>

namespace wik::emulator {
namespace {

namespace json = boost::json;

constexpr auto kObjects = std::to_array<std::string_view>({"page", "group", "user", "link", "workplace_security"});
// The Graph version reported for every subscribed field (taaskly's default, PROTOCOL.md §7.2).
constexpr std::string_view kFieldVersion = "v3.2";
constexpr std::size_t kMaxFieldName = 64;
constexpr std::size_t kMaxFields = 50;
constexpr std::size_t kMaxCallbackUrl = 2048;
constexpr std::size_t kMaxVerifyToken = 1024;
// WebhookDelivery::verify's reasons repeat what the platform's message already says.
constexpr std::string_view kVerificationPrefix = "callback verification failed: ";

// Returns the unsupported-request error unless the path names the caller's app (or "app").
std::optional<GraphFailure> check_app_path(const GraphCall& call) {
  const std::string& id = call.segments.at(0);
  if (id == "app" || id == call.caller.app.id) return std::nullopt;
  return unsupported(call, id);
}

bool is_field_name(std::string_view name) {
  return !name.empty() && name.size() <= kMaxFieldName && std::all_of(name.begin(), name.end(), [](char c) {
           return std::islower(static_cast<unsigned char>(c)) != 0 || c == '_';
         });
}

Checked<std::set<std::string>> field_set(const GraphCall& call, bool required) {
  auto fields = call.params.list("fields");
  if (const auto* failed = failure_of(fields)) return *failed;
  const auto& names = std::get<std::vector<std::string>>(fields);
  if (required && names.empty()) return invalid_parameter("param fields must be non-empty");
  if (names.size() > kMaxFields) return invalid_parameter("param fields has too many items");
  std::set<std::string> set;
  for (const std::string& name : names) {
    if (!is_field_name(name)) return invalid_parameter("param fields has an invalid field name");
    set.insert(name);
  }
  return set;
}

Checked<std::string> object_param(const GraphCall& call, bool required) {
  const auto object = call.params.text("object");
  if (!object || object->empty()) {
    if (required) return invalid_parameter("param object must be non-empty");
    return std::string();
  }
  if (std::find(kObjects.begin(), kObjects.end(), *object) == kObjects.end()) {
    return invalid_parameter("param object must be one of {page, group, user, link, workplace_security}");
  }
  return *object;
}

}  // namespace

Reply get_app(GraphServices& services, const GraphCall& call) {
  auto selection = requested_fields(call);
  if (const auto* failed = failure_of(selection)) return *failed;
  auto selected =
      select_fields(node_of(services, call.caller, call.caller.app), std::get<std::vector<FieldSpec>>(selection));
  if (const auto* failed = failure_of(selected)) return *failed;
  return json::value(std::move(std::get<json::object>(selected)));
}

Reply get_subscriptions(GraphServices& services, const GraphCall& call) {
  if (auto refused = check_app_path(call)) return *refused;
  json::array data;
  for (const Subscription& subscription : services.state.subscriptions(call.caller.app.id)) {
    json::array fields;
    for (const std::string& field : subscription.fields) {
      fields.emplace_back(json::object{{"name", field}, {"version", kFieldVersion}});
    }
    data.emplace_back(json::object{{"object", subscription.object},
                                   {"callback_url", subscription.callback_url},
                                   {"active", true},
                                   {"fields", std::move(fields)}});
  }
  return json::value(json::object{{"data", std::move(data)}});
}

boost::asio::awaitable<Reply> post_subscription(GraphServices& services, const GraphCall& call) {
  if (auto refused = check_app_path(call)) co_return *refused;
  auto object = object_param(call, true);
  if (const auto* failed = failure_of(object)) co_return *failed;
  const auto callback = call.params.text("callback_url");
  if (!callback || callback->size() > kMaxCallbackUrl ||
      !(callback->starts_with("https://") || callback->starts_with("http://"))) {
    co_return invalid_parameter("param callback_url must be a valid URL");
  }
  const auto verify_token = call.params.text("verify_token").value_or("");
  if (verify_token.size() > kMaxVerifyToken) co_return invalid_parameter("param verify_token is too long");
  auto fields = field_set(call, true);
  if (const auto* failed = failure_of(fields)) co_return *failed;
  Subscription subscription{std::get<std::string>(object), *callback, verify_token,
                            std::get<std::set<std::string>>(fields)};
  // The verification GET runs without any lock held; the subscription is stored only if it passes.
  const auto verified = co_await services.delivery.verify(call.caller.app.id, subscription);
  if (!verified.ok()) {
    std::string_view reason = verified.error().reason();
    if (reason.starts_with(kVerificationPrefix)) reason.remove_prefix(kVerificationPrefix.size());
    co_return GraphFailure{GraphError::kSubscriptionVerificationFailed, {std::string(reason)}};
  }
  services.state.subscribe(call.caller.app.id, std::move(subscription));
  co_return json::value(json::object{{"success", true}});
}

Reply delete_subscriptions(GraphServices& services, const GraphCall& call) {
  if (auto refused = check_app_path(call)) return *refused;
  auto object = object_param(call, false);
  if (const auto* failed = failure_of(object)) return *failed;
  auto fields = field_set(call, false);
  if (const auto* failed = failure_of(fields)) return *failed;
  services.state.unsubscribe(call.caller.app.id, std::get<std::string>(object), std::get<std::set<std::string>>(fields));
  return json::value(json::object{{"success", true}});
}

}  // namespace wik::emulator
