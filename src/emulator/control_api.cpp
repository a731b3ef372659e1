#include "emulator/control_api.h"

#include <boost/json.hpp>
#include <algorithm>
#include <array>
#include <set>
#include <utility>

#include "core/base64url.h"
#include "emulator/state/state_file.h"

namespace wik::emulator {
namespace {

namespace json = boost::json;
using boost::beast::http::verb;
using http::Request;
using http::Response;

// Bounds on control input (anything larger is refused with 400 naming the field).
constexpr std::size_t kMaxTextBytes = 64 * 1024;
constexpr std::size_t kMaxListItems = 1000;
constexpr std::int64_t kMaxDelayMs = 10 * 60 * 1000;                // latency, hang: 10 minutes
constexpr std::int64_t kMaxAdvanceSeconds = 10LL * 366 * 24 * 3600;  // clock steps: 10 years
constexpr std::size_t kMaxAppBodyBytes = 8 * 1024 * 1024;            // app registration carries the icon

// The fields of a control request's JSON object body. Each accessor takes a field out (so unknown
// leftovers can be reported) and records the first problem; finish() returns it as kInvalidArgument
// naming the field.
class Input {
 public:
  static Result<Input> of(const Request& request) {
    if (request.body().empty()) return Input(json::object{});
    auto parsed = request.json();
    if (!parsed) return parsed.error();
    if (!parsed->is_object()) return Error(ErrorCode::kInvalidArgument, "the body must be a JSON object");
    return Input(std::move(parsed->get_object()));
  }

  std::string text(std::string_view key, std::size_t max_bytes = kMaxTextBytes) {
    const json::value* present = object_.if_contains(key);
    if (present == nullptr || present->is_null()) fail(key, "is required");
    return optional_text(key, max_bytes).value_or("");
  }

  std::optional<std::string> optional_text(std::string_view key, std::size_t max_bytes = kMaxTextBytes) {
    const json::value* value = take(key);
    if (value == nullptr) return std::nullopt;
    if (!value->is_string()) {
      fail(key, "must be a string");
      return std::nullopt;
    }
    if (value->get_string().size() > max_bytes) {
      fail(key, "is longer than " + std::to_string(max_bytes) + " bytes");
      return std::nullopt;
    }
    return std::string(value->get_string());
  }

  std::vector<std::string> texts(std::string_view key) {
    const json::value* value = take(key);
    if (value == nullptr) return {};
    if (!value->is_array() || value->get_array().size() > kMaxListItems) {
      fail(key, "must be an array of at most " + std::to_string(kMaxListItems) + " strings");
      return {};
    }
    std::vector<std::string> values;
    for (const json::value& item : value->get_array()) {
      if (!item.is_string() || item.get_string().size() > kMaxTextBytes) {
        fail(key, "must be an array of strings");
        return {};
      }
      values.emplace_back(item.get_string());
    }
    return values;
  }

  bool flag(std::string_view key, bool fallback) {
    const json::value* value = take(key);
    if (value == nullptr) return fallback;
    if (!value->is_bool()) fail(key, "must be true or false");
    return value->is_bool() ? value->get_bool() : fallback;
  }

  // Returns the integer `key` in [min, max]; required unless a fallback is given.
  std::int64_t integer(std::string_view key, std::int64_t min, std::int64_t max,
                       std::optional<std::int64_t> fallback = std::nullopt) {
    const json::value* value = take(key);
    if (value == nullptr) {
      if (!fallback) fail(key, "is required");
      return fallback.value_or(min);
    }
    const auto number = value->is_int64()    ? std::optional<std::int64_t>(value->get_int64())
                        : value->is_uint64() ? std::optional<std::int64_t>(static_cast<std::int64_t>(
                                                   std::min<std::uint64_t>(value->get_uint64(), INT64_MAX)))
                                             : std::nullopt;
    if (!number || *number < min || *number > max) {
      fail(key, "must be an integer from " + std::to_string(min) + " to " + std::to_string(max));
      return min;
    }
    return *number;
  }

  // Returns the optional fraction `key` in [0, 1] (default 0).
  double rate(std::string_view key) {
    const json::value* value = take(key);
    if (value == nullptr) return 0.0;
    const double number = value->is_number() ? value->to_number<double>() : -1.0;
    if (!(number >= 0.0 && number <= 1.0)) {
      fail(key, "must be a number from 0 to 1");
      return 0.0;
    }
    return number;
  }

  // Returns an unknown field (most often a misspelt one), else the first problem found.
  Result<void> finish() const {
    for (const auto& [key, value] : object_) {
      if (!taken_.contains(std::string_view(key))) {
        return Error(ErrorCode::kInvalidArgument, "unknown field \"" + std::string(key) + "\"");
      }
    }
    if (error_) return Error(ErrorCode::kInvalidArgument, *error_);
    return ok_result();
  }

 private:
  explicit Input(json::object object) : object_(std::move(object)) {}

  const json::value* take(std::string_view key) {
    taken_.insert(std::string(key));
    const json::value* value = object_.if_contains(key);
    return value == nullptr || value->is_null() ? nullptr : value;
  }

  void fail(std::string_view key, std::string_view what) {
    if (!error_) error_ = std::string(key) + " " + std::string(what);
  }

  json::object object_;
  std::set<std::string, std::less<>> taken_;
  std::optional<std::string> error_;
};

// --- JSON of the platform's objects ---------------------------------------------------------------

json::array to_array(const std::vector<std::string>& texts) { return json::array(texts.begin(), texts.end()); }

json::value to_json(const Community& community) { return {{"id", community.id}, {"name", community.name}}; }

json::value to_json(const User& user) { return encode_user(user); }

json::value to_json(const Group& group) {
  return {{"id", group.id},
          {"community_id", group.community_id},
          {"name", group.name},
          {"privacy", group.privacy},
          {"members", to_array(group.members)}};
}

json::value to_json(const App& app) {
  return {{"id", app.id},
          {"name", app.name},
          {"publisher", app.publisher},
          {"tagline", app.tagline},
          {"has_icon", !app.icon_png.empty()},
          {"redirect_url", app.redirect_url},
          {"deauthorize_url", app.deauthorize_url},
          {"permissions", to_array(app.permissions)}};
}

json::value to_json(const Install& install) { return encode_install(install); }

json::value to_json(const Thread& thread) {
  json::object shown = encode_thread(thread);
  shown["thread_key"] = "t_" + thread.id;
  return shown;
}

json::value to_json(const ChatMessage& message) { return encode_message(message); }
json::value to_json(const Post& post) { return encode_post(post); }
json::value to_json(const Comment& comment) { return encode_comment(comment); }

json::value to_json(const DeliveryAttempt& attempt) {
  return {{"delivery_id", attempt.delivery_id},
          {"kind", attempt.kind},
          {"app_id", attempt.app_id},
          {"url", attempt.url},
          {"object", attempt.object},
          {"body", attempt.body},
          {"attempt", attempt.attempt},
          {"at_ms", attempt.at_ms},
          {"status", attempt.status},
          {"error", attempt.error},
          {"delivered", attempt.delivered},
          {"final", attempt.final}};
}

template <class T>
Response list(const std::vector<T>& items) {
  json::array data;
  for (const T& item : items) data.push_back(to_json(item));
  return Response::json(json::object{{"data", std::move(data)}});
}

template <class T>
Result<Response> respond(const Result<T>& result) {
  if (!result) return result.error();
  return Response::json(to_json(*result));
}

Response success() { return Response::json(json::object{{"success", true}}); }

std::optional<Id> query_id(const Request& request, std::string_view name) {
  const auto value = request.query(name);
  if (!value || value->empty()) return std::nullopt;
  return Id(*value);
}

// --- handlers: one per endpoint, synchronous (every call they make is short) ---------------------

Result<Response> list_communities(ControlTargets& t, const Request&) { return list(t.state.communities()); }

Result<Response> create_community(ControlTargets& t, const Request& request) {
  auto input = Input::of(request);
  if (!input) return input.error();
  std::string name = input->text("name");
  if (auto valid = input->finish(); !valid) return valid.error();
  return respond(t.state.create_community(std::move(name)));
}

Result<void> require_community(ControlTargets& t, const Id& id) {
  if (!t.state.community(id)) return Error(ErrorCode::kNotFound, "no such community");
  return ok_result();
}

Result<Response> list_users(ControlTargets& t, const Request& request) {
  if (auto found = require_community(t, Id(request.param("community_id"))); !found) return found.error();
  return list(t.state.users(Id(request.param("community_id"))));
}

Result<Response> create_user(ControlTargets& t, const Request& request) {
  auto input = Input::of(request);
  if (!input) return input.error();
  User fields;
  fields.name = input->text("name");
  fields.email = input->optional_text("email").value_or("");
  fields.locale = input->optional_text("locale").value_or("en_US");
  fields.title = input->optional_text("title").value_or("");
  fields.system_admin = input->flag("system_admin", false);
  fields.active = input->flag("active", true);
  if (auto valid = input->finish(); !valid) return valid.error();
  return respond(t.state.create_user(Id(request.param("community_id")), std::move(fields)));
}

Result<Response> list_groups(ControlTargets& t, const Request& request) {
  if (auto found = require_community(t, Id(request.param("community_id"))); !found) return found.error();
  return list(t.state.groups(Id(request.param("community_id"))));
}

Result<Response> create_group(ControlTargets& t, const Request& request) {
  auto input = Input::of(request);
  if (!input) return input.error();
  std::string name = input->text("name");
  std::vector<Id> members = input->texts("members");
  if (auto valid = input->finish(); !valid) return valid.error();
  return respond(t.state.create_group(Id(request.param("community_id")), std::move(name), std::move(members)));
}

Result<Response> add_group_member(ControlTargets& t, const Request& request) {
  auto input = Input::of(request);
  if (!input) return input.error();
  const Id user_id = input->text("user_id");
  if (auto valid = input->finish(); !valid) return valid.error();
  const Id group_id(request.param("group_id"));
  if (auto added = t.actions.add_group_member(group_id, user_id); !added) return added.error();
  return Response::json(to_json(*t.state.group(group_id)));
}

Result<Response> get_user(ControlTargets& t, const Request& request) {
  const auto user = t.state.user(Id(request.param("user_id")));
  if (!user) return Error(ErrorCode::kNotFound, "no such person");
  return Response::json(to_json(*user));
}

Result<Response> list_apps(ControlTargets& t, const Request&) { return list(t.state.apps()); }

// Returns the bytes of standard base64 or base64url text (padding optional).
Result<std::string> decode_base64(std::string text) {
  std::replace(text.begin(), text.end(), '+', '-');
  std::replace(text.begin(), text.end(), '/', '_');
  while (text.ends_with('=')) text.pop_back();
  return core::base64url_decode(text);
}

Result<Response> register_app(ControlTargets& t, const Request& request) {
  auto input = Input::of(request);
  if (!input) return input.error();
  App app;
  app.id = input->text("id");
  app.secret = input->text("secret");
  app.name = input->text("name");
  app.publisher = input->optional_text("publisher").value_or("");
  app.tagline = input->optional_text("tagline").value_or("");
  app.redirect_url = input->optional_text("redirect_url").value_or("");
  app.deauthorize_url = input->optional_text("deauthorize_url").value_or("");
  app.permissions = input->texts("permissions");
  const std::optional<std::string> icon = input->optional_text("icon_png_base64", kMaxAppBodyBytes);
  if (auto valid = input->finish(); !valid) return valid.error();
  if (icon) {
    auto bytes = decode_base64(*icon);
    if (!bytes) return Error(ErrorCode::kInvalidArgument, "icon_png_base64 is not base64");
    app.icon_png = std::move(bytes).value();
  }
  if (auto registered = t.state.register_app(app); !registered) return registered.error();
  return Response::json(to_json(app));
}

Result<Response> scoped_id(ControlTargets& t, const Request& request) {
  const Id app_id(request.param("app_id"));
  const Id user_id(request.param("user_id"));
  if (!t.state.app(app_id)) return Error(ErrorCode::kNotFound, "no such app");
  if (!t.state.user(user_id)) return Error(ErrorCode::kNotFound, "no such person");
  return Response::json(
      json::object{{"app_id", app_id}, {"user_id", user_id}, {"scoped_id", t.state.scoped_user_id(app_id, user_id)}});
}

Result<Response> install_app(ControlTargets& t, const Request& request) {
  auto input = Input::of(request);
  if (!input) return input.error();
  const Id admin_id = input->text("admin_id");
  if (auto valid = input->finish(); !valid) return valid.error();
  return respond(t.actions.install(Id(request.param("app_id")), admin_id));
}

Result<Response> uninstall_app(ControlTargets& t, const Request& request) {
  auto input = Input::of(request);
  if (!input) return input.error();
  const Id admin_id = input->text("admin_id");
  std::optional<Id> community_id = input->optional_text("community_id");
  if (auto valid = input->finish(); !valid) return valid.error();
  if (!community_id) {
    const auto admin = t.state.user(admin_id);
    if (!admin) return Error(ErrorCode::kNotFound, "no such person");
    community_id = admin->community_id;
  }
  auto removed = t.actions.uninstall(Id(request.param("app_id")), *community_id, admin_id);
  if (!removed) return removed.error();
  // The removed install without its token: revoked at once, it is no one's business any more.
  json::object shown = to_json(*removed).as_object();
  shown.erase("access_token");
  return Response::json(shown);
}

Result<Response> list_installs(ControlTargets& t, const Request& request) {
  const std::optional<Id> app_id = query_id(request, "app_id");
  const std::optional<Id> community_id = query_id(request, "community_id");
  std::vector<Install> found;
  if (community_id) {
    found = t.state.installs(*community_id);
  } else if (app_id) {
    found = t.state.installs_of_app(*app_id);
  } else {
    for (const Community& community : t.state.communities()) {
      const auto installs = t.state.installs(community.id);
      found.insert(found.end(), installs.begin(), installs.end());
    }
  }
  std::erase_if(found, [&app_id](const Install& install) { return app_id && install.app_id != *app_id; });
  return list(found);
}

// --- acting as a person ---------------------------------------------------------------------------

Id acting_user(const Request& request) { return Id(request.param("user_id")); }

Result<Response> open_chat(ControlTargets& t, const Request& request) {
  auto input = Input::of(request);
  if (!input) return input.error();
  const Id page_id = input->text("page_id");
  if (auto valid = input->finish(); !valid) return valid.error();
  return respond(t.actions.open_chat(acting_user(request), page_id));
}

Result<Response> send_message(ControlTargets& t, const Request& request) {
  auto input = Input::of(request);
  if (!input) return input.error();
  const Id thread_id = input->text("thread_id");
  std::string text = input->text("text");
  if (auto valid = input->finish(); !valid) return valid.error();
  return respond(t.actions.send_message(acting_user(request), thread_id, std::move(text)));
}

// The fields shared by the two button presses: the thread, the bot message and the button's index.
struct Press {
  Id thread_id;
  std::string mid;
  std::size_t index = 0;
};

Result<Press> read_press(const Request& request) {
  auto input = Input::of(request);
  if (!input) return input.error();
  Press press;
  press.thread_id = input->text("thread_id");
  press.mid = input->text("mid");
  press.index = static_cast<std::size_t>(input->integer("index", 0, 1000));
  if (auto valid = input->finish(); !valid) return valid.error();
  return press;
}

Result<Response> press_quick_reply(ControlTargets& t, const Request& request) {
  auto press = read_press(request);
  if (!press) return press.error();
  return respond(t.actions.press_quick_reply(acting_user(request), press->thread_id, press->mid, press->index));
}

Result<Response> press_postback(ControlTargets& t, const Request& request) {
  auto press = read_press(request);
  if (!press) return press.error();
  if (auto pressed = t.actions.press_postback(acting_user(request), press->thread_id, press->mid, press->index);
      !pressed) {
    return pressed.error();
  }
  return success();
}

Result<Response> press_get_started(ControlTargets& t, const Request& request) {
  auto input = Input::of(request);
  if (!input) return input.error();
  const Id page_id = input->text("page_id");
  if (auto valid = input->finish(); !valid) return valid.error();
  if (auto pressed = t.actions.press_get_started(acting_user(request), page_id); !pressed) return pressed.error();
  return success();
}

Result<Response> mark_read(ControlTargets& t, const Request& request) {
  auto input = Input::of(request);
  if (!input) return input.error();
  const Id thread_id = input->text("thread_id");
  if (auto valid = input->finish(); !valid) return valid.error();
  if (auto read = t.actions.mark_read(acting_user(request), thread_id); !read) return read.error();
  return success();
}

Result<Response> post(ControlTargets& t, const Request& request) {
  auto input = Input::of(request);
  if (!input) return input.error();
  const Id group_id = input->text("group_id");
  std::string message = input->text("message");
  if (auto valid = input->finish(); !valid) return valid.error();
  return respond(t.actions.post(acting_user(request), group_id, std::move(message)));
}

Result<Response> comment(ControlTargets& t, const Request& request) {
  auto input = Input::of(request);
  if (!input) return input.error();
  const Id object_id = input->text("object_id");
  std::string message = input->text("message");
  if (auto valid = input->finish(); !valid) return valid.error();
  return respond(t.actions.comment(acting_user(request), object_id, std::move(message)));
}

// --- what the platform saw and sent ---------------------------------------------------------------

Result<Response> thread_messages(ControlTargets& t, const Request& request) {
  const Id thread_id(request.param("thread_id"));
  if (!t.state.thread(thread_id)) return Error(ErrorCode::kNotFound, "no such thread");
  return list(t.state.messages(thread_id));
}

Result<Response> bot_messages(ControlTargets& t, const Request& request) {
  return list(t.state.bot_messages(query_id(request, "app_id")));
}

Result<Response> deliveries(ControlTargets& t, const Request& request) {
  return list(t.delivery.log(query_id(request, "app_id")));
}

// --- faults, rate limits, clock -------------------------------------------------------------------

Result<Response> set_graph_faults(ControlTargets& t, const Request& request) {
  auto input = Input::of(request);
  if (!input) return input.error();
  const std::string endpoint = input->text("endpoint", 200);
  EndpointFaults faults;
  faults.error_rate = input->rate("error_rate");
  faults.timeout_rate = input->rate("timeout_rate");
  faults.drop_rate = input->rate("drop_rate");
  faults.latency = std::chrono::milliseconds(input->integer("latency_ms", 0, kMaxDelayMs, 0));
  faults.hang = std::chrono::milliseconds(input->integer("hang_ms", 0, kMaxDelayMs, faults.hang.count()));
  faults.processed_timeout_rate = input->rate("processed_timeout_rate");
  faults.processed_drop_rate = input->rate("processed_drop_rate");
  if (auto valid = input->finish(); !valid) return valid.error();
  if (!endpoint.starts_with('/') && endpoint != "*") {
    return Error(ErrorCode::kInvalidArgument, "endpoint must be a Graph route such as \"/me/messages\", or \"*\"");
  }
  t.faults.set(endpoint, faults);
  return Response::json(json::object{{"endpoint", endpoint},
                                     {"error_rate", faults.error_rate},
                                     {"timeout_rate", faults.timeout_rate},
                                     {"drop_rate", faults.drop_rate},
                                     {"latency_ms", faults.latency.count()},
                                     {"hang_ms", faults.hang.count()},
                                     {"processed_timeout_rate", faults.processed_timeout_rate},
                                     {"processed_drop_rate", faults.processed_drop_rate}});
}

Result<Response> graph_fault_counts(ControlTargets& t, const Request&) {
  json::object endpoints;
  for (const auto& [endpoint, counts] : t.faults.counts()) {
    endpoints[endpoint] = json::object{{"errors", counts.errors},
                                       {"timeouts", counts.timeouts},
                                       {"drops", counts.drops},
                                       {"processed_timeouts", counts.processed_timeouts},
                                       {"processed_drops", counts.processed_drops},
                                       {"lost_successes", counts.lost_successes}};
  }
  return Response::json(json::object{{"endpoints", std::move(endpoints)}});
}

Result<Response> clear_graph_faults(ControlTargets& t, const Request&) {
  t.faults.clear();
  return success();
}

Result<Response> set_callback_faults(ControlTargets& t, const Request& request) {
  auto input = Input::of(request);
  if (!input) return input.error();
  const std::optional<Id> app_id = input->optional_text("app_id", 64);
  CallbackFaults faults;
  faults.added_latency = std::chrono::milliseconds(input->integer("latency_ms", 0, kMaxDelayMs, 0));
  faults.refuse_rate = input->rate("refuse_rate");
  if (auto valid = input->finish(); !valid) return valid.error();
  t.delivery.set_faults(app_id, faults);
  return Response::json(json::object{{"app_id", app_id ? json::value(*app_id) : json::value(nullptr)},
                                     {"latency_ms", faults.added_latency.count()},
                                     {"refuse_rate", faults.refuse_rate}});
}

json::object settings_json(const RateLimitSettings& settings) {
  return json::object{{"calls", settings.calls}, {"window_seconds", settings.window.count()}};
}

Response rate_limits_json(const RateLimitSettings& settings) { return Response::json(settings_json(settings)); }

// The settings, and per client (User-Agent) the calls it made, the back-off windows it was told
// and its calls inside them.
Result<Response> get_rate_limits(ControlTargets& t, const Request&) {
  json::object clients;
  for (const auto& [client, counts] : t.limits.backoff_counts()) {
    clients[client] = json::object{{"calls", counts.calls},
                                   {"backoffs_told", counts.backoffs_told},
                                   {"calls_in_backoff", counts.calls_in_backoff}};
  }
  json::object body = settings_json(t.limits.settings());
  body["clients"] = std::move(clients);
  return Response::json(body);
}

Result<Response> set_rate_limits(ControlTargets& t, const Request& request) {
  auto input = Input::of(request);
  if (!input) return input.error();
  RateLimitSettings settings;
  settings.calls = static_cast<std::uint32_t>(input->integer("calls", 0, 1'000'000'000));
  settings.window = std::chrono::seconds(input->integer("window_seconds", 1, 7 * 24 * 3600, 3600));
  if (auto valid = input->finish(); !valid) return valid.error();
  t.limits.configure(settings);
  return rate_limits_json(settings);
}

Response clock_json(const AdjustableClock& clock) {
  return Response::json(json::object{
      {"now", clock.unix_seconds()},
      {"offset_seconds", std::chrono::duration_cast<std::chrono::seconds>(clock.offset()).count()}});
}

Result<Response> get_clock(ControlTargets& t, const Request&) { return clock_json(t.clock); }

Result<Response> advance_clock(ControlTargets& t, const Request& request) {
  auto input = Input::of(request);
  if (!input) return input.error();
  const std::int64_t seconds = input->integer("seconds", 0, kMaxAdvanceSeconds);
  if (auto valid = input->finish(); !valid) return valid.error();
  t.clock.advance(std::chrono::seconds(seconds));
  t.delivery.run_due_retries();
  return clock_json(t.clock);
}

// --- the route table ------------------------------------------------------------------------------

using ControlHandler = Result<Response> (*)(ControlTargets&, const Request&);

struct ControlRoute {
  verb method;
  std::string_view pattern;
  ControlHandler handler;
  std::string_view summary;
};

constexpr std::array kRoutes = {
    ControlRoute{verb::get, "/_emulator/communities", list_communities, "list communities"},
    ControlRoute{verb::post, "/_emulator/communities", create_community, "create a community {name}"},
    ControlRoute{verb::get, "/_emulator/communities/{community_id}/users", list_users, "list a community's people"},
    ControlRoute{verb::post, "/_emulator/communities/{community_id}/users", create_user,
                 "create a person {name, email?, locale?, title?, system_admin?, active?}"},
    ControlRoute{verb::get, "/_emulator/communities/{community_id}/groups", list_groups, "list a community's groups"},
    ControlRoute{verb::post, "/_emulator/communities/{community_id}/groups", create_group,
                 "create a group {name, members?}"},
    ControlRoute{verb::post, "/_emulator/groups/{group_id}/members", add_group_member, "add a group member {user_id}"},
    ControlRoute{verb::get, "/_emulator/users/{user_id}", get_user, "read a person"},
    ControlRoute{verb::get, "/_emulator/apps", list_apps, "list registered apps"},
    ControlRoute{verb::post, "/_emulator/apps", register_app,
                 "register or replace an app {id, secret, name, publisher?, tagline?, redirect_url?, "
                 "deauthorize_url?, permissions?, icon_png_base64?}"},
    ControlRoute{verb::get, "/_emulator/apps/{app_id}/users/{user_id}", scoped_id,
                 "the app-scoped id the app sees for a person"},
    ControlRoute{verb::post, "/_emulator/apps/{app_id}/install", install_app, "install as an administrator {admin_id}"},
    ControlRoute{verb::post, "/_emulator/apps/{app_id}/uninstall", uninstall_app,
                 "uninstall as an administrator {admin_id, community_id?}"},
    ControlRoute{verb::get, "/_emulator/installs", list_installs, "list installs (?app_id=&community_id=)"},
    ControlRoute{verb::post, "/_emulator/users/{user_id}/open_chat", open_chat, "open a chat with a bot {page_id}"},
    ControlRoute{verb::post, "/_emulator/users/{user_id}/messages", send_message, "send a chat message {thread_id, text}"},
    ControlRoute{verb::post, "/_emulator/users/{user_id}/quick_reply", press_quick_reply,
                 "press a quick reply {thread_id, mid, index}"},
    ControlRoute{verb::post, "/_emulator/users/{user_id}/postback", press_postback,
                 "press a postback button {thread_id, mid, index}"},
    ControlRoute{verb::post, "/_emulator/users/{user_id}/get_started", press_get_started,
                 "press a bot's Get Started {page_id}"},
    ControlRoute{verb::post, "/_emulator/users/{user_id}/read", mark_read, "mark a thread read {thread_id}"},
    ControlRoute{verb::post, "/_emulator/users/{user_id}/posts", post,
                 "post in a group {group_id, message}; @[page_id] mentions a bot"},
    ControlRoute{verb::post, "/_emulator/users/{user_id}/comments", comment,
                 "comment on a post or comment {object_id, message}; @[page_id] mentions a bot"},
    ControlRoute{verb::get, "/_emulator/threads/{thread_id}/messages", thread_messages, "a thread's messages"},
    ControlRoute{verb::get, "/_emulator/bot_messages", bot_messages, "what bots sent (?app_id=)"},
    ControlRoute{verb::get, "/_emulator/deliveries", deliveries, "the webhook delivery log (?app_id=)"},
    ControlRoute{verb::post, "/_emulator/faults/graph", set_graph_faults,
                 "set Graph faults {endpoint, error_rate?, timeout_rate?, drop_rate?, latency_ms?, hang_ms?, "
                 "processed_timeout_rate?, processed_drop_rate?}"},
    ControlRoute{verb::delete_, "/_emulator/faults/graph", clear_graph_faults, "clear every Graph fault"},
    ControlRoute{verb::get, "/_emulator/faults/graph", graph_fault_counts, "count the Graph faults drawn, per endpoint"},
    ControlRoute{verb::post, "/_emulator/faults/callbacks", set_callback_faults,
                 "set callback faults {app_id?, latency_ms?, refuse_rate?}"},
    ControlRoute{verb::get, "/_emulator/rate_limits", get_rate_limits,
                 "read the Graph rate limit and, per client, its calls, back-offs told and calls inside them"},
    ControlRoute{verb::post, "/_emulator/rate_limits", set_rate_limits, "set the Graph rate limit {calls, window_seconds?}"},
    ControlRoute{verb::get, "/_emulator/clock", get_clock, "read the platform clock"},
    ControlRoute{verb::post, "/_emulator/clock/advance", advance_clock,
                 "move the platform clock forward {seconds}, then run due webhook retries"},
};

Result<Response> index(ControlTargets&, const Request&) {
  json::array endpoints;
  for (const ControlRoute& route : kRoutes) {
    endpoints.push_back(json::object{{"method", std::string(boost::beast::http::to_string(route.method))},
                                     {"path", route.pattern},
                                     {"summary", route.summary}});
  }
  return Response::json(json::object{{"endpoints", std::move(endpoints)}});
}

boost::asio::awaitable<Result<Response>> answer(Result<Response> response) { co_return response; }

void add_route(http::Router& router, verb method, std::string_view pattern, ControlTargets& targets,
               ControlHandler handler) {
  http::RouteOptions options;
  if (handler == register_app) options.max_body_bytes = kMaxAppBodyBytes;
  router.add(
      method, pattern,
      http::Handler([&targets, handler](Request& request) { return answer(handler(targets, request)); }), options);
}

}  // namespace

void ControlApi::add_routes(http::Router& router) {
  add_route(router, verb::get, "/_emulator", targets_, index);
  for (const ControlRoute& route : kRoutes) add_route(router, route.method, route.pattern, targets_, route.handler);
}

}  // namespace wik::emulator
