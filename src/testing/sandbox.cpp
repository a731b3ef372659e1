#include <wik/testing.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <filesystem>
#include <map>
#include <optional>
#include <thread>

#include "app/database.h"
#include "core/clock.h"
#include "core/hex.h"
#include "core/key_ring.h"
#include "core/secure_random.h"
#include "emulator/emulator.h"
#include "http/client/client.h"
#include "http/url.h"
#include "store/store.h"

namespace wik::testing {
namespace {

namespace asio = boost::asio;
namespace json = boost::json;
namespace fs = std::filesystem;

constexpr const char* kAppId = "1111222233334444";

template <class T>
asio::awaitable<void> keep(asio::awaitable<Result<T>> work, std::optional<Result<T>>& out) {
  out.emplace(co_await std::move(work));
}

BotMessage bot_message_of(const emulator::ChatMessage& sent) {
  BotMessage out{.mid = sent.mid, .thread_id = sent.thread_id, .text = {}, .quick_replies = {}, .message = sent.message};
  if (const auto* message = sent.message.if_object()) {
    if (const auto* text = message->if_contains("text"); text && text->is_string()) {
      out.text = std::string(text->as_string());
    } else if (const auto* attachment = message->if_contains("attachment"); attachment && attachment->is_object()) {
      const auto* payload = attachment->as_object().if_contains("payload");
      const auto* text_of = payload && payload->is_object() ? payload->as_object().if_contains("text") : nullptr;
      if (text_of && text_of->is_string()) out.text = std::string(text_of->as_string());
    }
    if (const auto* replies = message->if_contains("quick_replies"); replies && replies->is_array()) {
      for (const auto& reply : replies->as_array()) {
        const auto* title = reply.is_object() ? reply.as_object().if_contains("title") : nullptr;
        if (title && title->is_string()) out.quick_replies.emplace_back(title->as_string());
      }
    }
  }
  return out;
}

// Returns the value of the form field `name` of `page` (`name="…" value="…"`), or "".
std::string field_value(const std::string& page, std::string_view name) {
  const std::string marker = "name=\"" + std::string(name) + "\" value=\"";
  const std::size_t at = page.find(marker);
  if (at == std::string::npos) return {};
  const std::size_t start = at + marker.size();
  return page.substr(start, page.find('"', start) - start);
}

// Returns the text of the first <h1> of `page`, which names what a kit page says happened.
std::string heading(const std::string& page) {
  const std::size_t open = page.find("<h1>");
  const std::size_t close = page.find("</h1>", open);
  return open == std::string::npos || close == std::string::npos ? std::string("an error page")
                                                                  : page.substr(open + 4, close - open - 4);
}

Error refused(const http::ClientResponse& response, std::string_view what) {
  ErrorCode code = ErrorCode::kPermissionDenied;
  if (response.status == 404) code = ErrorCode::kNotFound;
  if (response.status == 409) code = ErrorCode::kConflict;
  if (response.status == 410) code = ErrorCode::kExpired;
  if (response.status == 401) code = ErrorCode::kUnauthenticated;
  if (response.status >= 500) code = ErrorCode::kUnavailable;
  return Error(code, std::string(what) + " answered " + std::to_string(response.status) + ": " + heading(response.body));
}

}  // namespace

class Sandbox::Impl {
 public:
  ~Impl() {
    if (app) app->stop();
    app.reset();
    if (emulator) emulator->stop();
    http.reset();
    std::error_code ignored;
    if (!folder.empty()) fs::remove_all(folder, ignored);
  }

  // Sends a control-API request (the emulator acting for a person) and returns its JSON answer.
  Result<json::value> control(const std::string& path, const json::object& body) {
    http::ClientRequest request{.method = boost::beast::http::verb::post,
                                .url = emulator->web_url() + "/_emulator" + path,
                                .body = json::serialize(body)};
    request.headers.set(boost::beast::http::field::content_type, "application/json");
    std::optional<Result<http::ClientResponse>> response;
    asio::co_spawn(io, keep(http->request(std::move(request)), response), asio::detached);
    io.restart();
    io.run();
    if (!response || !response->ok()) return Error(ErrorCode::kUnavailable, "the emulator did not answer");
    if ((*response)->status != 200) {
      return Error(ErrorCode::kInvalidArgument, "the emulator refused " + path + ": " + (*response)->body);
    }
    boost::system::error_code error;
    json::value answer = json::parse((*response)->body, error);
    if (error) return Error(ErrorCode::kMalformed, "the emulator's answer is not JSON");
    return answer;
  }

  Result<std::string> thread_with_bot(const Person& person) {
    json::object body{{"page_id", install.page_id}};
    auto opened = control("/users/" + person.id + "/open_chat", body);
    if (!opened.ok()) return opened.error();
    const auto* id = opened->is_object() ? opened->as_object().if_contains("id") : nullptr;
    if (id == nullptr || !id->is_string()) return Error(ErrorCode::kMalformed, "open_chat answered without an id");
    return std::string(id->as_string());
  }

  std::vector<BotMessage> in_thread(const std::string& thread_id) const {
    std::vector<BotMessage> out;
    for (const auto& sent : emulator->state().bot_messages(std::string(kAppId))) {
      if (sent.thread_id == thread_id) out.push_back(bot_message_of(sent));
    }
    return out;
  }

  // Sends `request` as a browser holding `cookies` and keeps the cookies the answer sets.
  Result<http::ClientResponse> visit(http::ClientRequest request, std::map<std::string, std::string>& cookies) {
    std::string header;
    for (const auto& [name, value] : cookies) header += (header.empty() ? "" : "; ") + name + "=" + value;
    if (!header.empty()) request.headers.set(boost::beast::http::field::cookie, header);
    std::optional<Result<http::ClientResponse>> response;
    asio::co_spawn(io, keep(http->request(std::move(request)), response), asio::detached);
    io.restart();
    io.run();
    if (!response || !response->ok()) return Error(ErrorCode::kUnavailable, "the app did not answer");
    for (const auto& field : (*response)->headers) {
      if (field.name() != boost::beast::http::field::set_cookie) continue;
      const std::string_view set_cookie = field.value();
      const std::string_view pair = set_cookie.substr(0, set_cookie.find(';'));
      const std::size_t equals = pair.find('=');
      if (equals == std::string_view::npos) continue;
      cookies[std::string(pair.substr(0, equals))] = std::string(pair.substr(equals + 1));
    }
    return std::move(**response);
  }

  // Waits until `thread_id` has more than `before` bot messages, `replies` of them, and returns them.
  Result<std::vector<BotMessage>> await_replies(const std::string& thread_id, std::size_t before, std::size_t replies) {
    const auto deadline = std::chrono::steady_clock::now() + options.timeout;
    for (;;) {
      auto all = in_thread(thread_id);
      if (all.size() >= before + replies) {
        return std::vector<BotMessage>(all.begin() + static_cast<std::ptrdiff_t>(before),
                                       all.begin() + static_cast<std::ptrdiff_t>(before + replies));
      }
      if (std::chrono::steady_clock::now() > deadline) {
        return Error(ErrorCode::kTimeout, "the bot sent " + std::to_string(all.size() - before) + " of the " +
                                              std::to_string(replies) + " message(s) awaited");
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }

  SandboxOptions options;
  Config config;
  fs::path folder;
  core::SystemClock clock;
  asio::io_context io;
  std::unique_ptr<emulator::Emulator> emulator;
  std::unique_ptr<http::Client> http;  // after io: destroyed before the io_context of its connections
  std::unique_ptr<App> app;
  emulator::Install install;
  std::string admin_id;
};

Sandbox::Sandbox(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Sandbox::~Sandbox() = default;

Result<std::unique_ptr<Sandbox>> Sandbox::start(const std::function<void(App&)>& setup, SandboxOptions options) {
  auto impl = std::make_unique<Impl>();
  impl->options = std::move(options);
  impl->folder = fs::temp_directory_path() / ("wik-sandbox-" + core::to_hex(core::secure_random_bytes(8)));
  std::error_code made;
  fs::create_directory(impl->folder, made);
  if (made) return Error(ErrorCode::kUnavailable, "cannot create the sandbox folder", made.message());
  fs::permissions(impl->folder, fs::perms::owner_all, made);

  auto emulator = emulator::Emulator::start({.graph_port = 0, .web_port = 0, .control_api = true});
  if (!emulator.ok()) return emulator.error();
  impl->emulator = std::move(*emulator);
  auto http = http::Client::create({.allow_plain_http = true});
  if (!http.ok()) return http.error();
  impl->http = std::move(*http);

  const std::string secret = core::to_hex(core::secure_random_bytes(16));
  const std::string verify_token = core::to_hex(core::secure_random_bytes(16));
  Config config;
  config.app.id = kAppId;
  config.app.secret = Secret(secret);
  config.app.verify_token = Secret(verify_token);
  config.app.graph_url = impl->emulator->graph_url();
  config.app.workplace_url = impl->emulator->web_url();
  config.app.redirect_url = "http://127.0.0.1:9/workplace/install";  // installs are made directly
  config.server.port = 0;
  config.server.threads = 1;
  config.store.sqlite_path = impl->folder / "app.db";
  config.keys.ring = Secret(core::KeyRing::generate("sandbox").serialize());
  config.log.level = LogLevel::kWarn;
  impl->config = config;
  impl->app = std::make_unique<App>(config);
  setup(*impl->app);
  if (auto started = impl->app->start(); !started.ok()) return started.error();

  emulator::PlatformState& state = impl->emulator->state();
  const std::string base = "http://127.0.0.1:" + std::to_string(impl->app->port());
  if (auto registered = state.register_app({.id = kAppId,
                                            .secret = secret,
                                            .name = "Sandbox app",
                                            .publisher = "wik sandbox",
                                            .redirect_url = base + "/workplace/install",
                                            .deauthorize_url = base + "/workplace/deauthorize",
                                            .permissions = impl->options.permissions});
      !registered.ok()) {
    return registered.error();
  }
  const std::string community = state.communities().front().id;
  for (const auto& user : state.users(community)) {
    if (user.system_admin) impl->admin_id = user.id;
  }
  auto install = state.install_directly(kAppId, impl->admin_id);
  if (!install.ok()) return install.error();
  impl->install = *install;

  // The install as the kit's install flow records it, through a second handle on the App's store.
  auto database = app::open_database(config);
  if (!database.ok()) return database.error();
  auto ring = core::KeyRing::parse(config.keys.ring->expose());
  if (!ring.ok()) return ring.error();
  auto store = store::Store::open(std::move(*database), std::move(*ring), impl->clock);
  if (!store.ok()) return store.error();
  auto scope = (*store)->community(install->community_id);
  if (!scope.ok()) return scope.error();
  if (auto recorded = scope->put_installation({.community_name = state.community(community)->name,
                                               .access_token = AccessToken(install->access_token),
                                               .permissions = install->permissions});
      !recorded.ok()) {
    return recorded.error();
  }

  emulator::Subscription subscription{.object = "page", .callback_url = base + "/workplace/webhook",
                                      .verify_token = verify_token, .fields = {}};
  std::string fields = impl->options.page_fields;
  for (std::size_t at = 0; at <= fields.size();) {
    const std::size_t comma = std::min(fields.find(',', at), fields.size());
    if (comma > at) subscription.fields.insert(fields.substr(at, comma - at));
    at = comma + 1;
  }
  state.subscribe(kAppId, std::move(subscription));
  return std::unique_ptr<Sandbox>(new Sandbox(std::move(impl)));
}

App& Sandbox::app() { return *impl_->app; }

const std::string& Sandbox::community_id() const { return impl_->install.community_id; }

std::vector<Person> Sandbox::people() const {
  std::vector<Person> out;
  for (const auto& user : impl_->emulator->state().users(community_id())) {
    out.push_back({.id = user.id, .name = user.name, .email = user.email, .locale = user.locale});
  }
  return out;
}

Result<Person> Sandbox::person(std::string_view email) const {
  for (Person& person : people()) {
    if (person.email == email) return std::move(person);
  }
  return Error(ErrorCode::kNotFound, "no such person in the sandbox's community");
}

Result<std::vector<BotMessage>> Sandbox::say(const Person& person, const std::string& text, std::size_t replies) {
  auto thread = impl_->thread_with_bot(person);
  if (!thread.ok()) return thread.error();
  const std::size_t before = impl_->in_thread(*thread).size();
  json::object body{{"thread_id", *thread}, {"text", text}};
  if (auto sent = impl_->control("/users/" + person.id + "/messages", body); !sent.ok()) return sent.error();
  return impl_->await_replies(*thread, before, replies);
}

Result<std::vector<BotMessage>> Sandbox::press(const Person& person, const BotMessage& message, std::size_t index,
                                               std::size_t replies) {
  const std::size_t before = impl_->in_thread(message.thread_id).size();
  json::object body{{"thread_id", message.thread_id}, {"mid", message.mid}, {"index", index}};
  if (auto pressed = impl_->control("/users/" + person.id + "/quick_reply", body); !pressed.ok()) {
    return pressed.error();
  }
  return impl_->await_replies(message.thread_id, before, replies);
}

std::vector<BotMessage> Sandbox::messages_to(const Person& person) const {
  const emulator::Thread thread = impl_->emulator->state().direct_thread(person.id, impl_->install.page_id);
  return impl_->in_thread(thread.id);
}

Result<std::int64_t> Sandbox::create_account(std::string_view email, const Secret& password, std::string_view role) {
  auto database = app::open_database(impl_->config);
  if (!database.ok()) return database.error();
  auto ring = core::KeyRing::parse(impl_->config.keys.ring->expose());
  if (!ring.ok()) return ring.error();
  auto store = store::Store::open(std::move(*database), std::move(*ring), impl_->clock);
  if (!store.ok()) return store.error();
  auto account = (*store)->create_account(email, password, role);
  if (!account.ok()) return account.error();
  return account->id;
}

Result<void> Sandbox::link_account(const std::string& url, std::string_view email, const Secret& password) {
  const std::string base = "http://127.0.0.1:" + std::to_string(impl_->app->port());
  if (!url.starts_with(base + "/")) return Error(ErrorCode::kInvalidArgument, "the URL is not one of the app's");
  const std::string target = url.substr(base.size());
  std::map<std::string, std::string> cookies;
  auto opened = impl_->visit({.method = boost::beast::http::verb::get, .url = url}, cookies);
  if (!opened.ok()) return opened.error();
  if (opened->status != 200) return refused(*opened, "the link page");

  auto form = impl_->visit(
      {.method = boost::beast::http::verb::get, .url = base + "/signin?" + http::encode_form({{"next", target}})},
      cookies);
  if (!form.ok()) return form.error();
  http::ClientRequest sign_in{.method = boost::beast::http::verb::post,
                              .url = base + "/signin",
                              .body = http::encode_form({{"csrf", cookies["wik_csrf"]},
                                                         {"email", std::string(email)},
                                                         {"password", std::string(password.expose())},
                                                         {"next", target}})};
  sign_in.headers.set(boost::beast::http::field::content_type, "application/x-www-form-urlencoded");
  auto signed_in = impl_->visit(std::move(sign_in), cookies);
  if (!signed_in.ok()) return signed_in.error();
  if (signed_in->status == 401) return Error(ErrorCode::kUnauthenticated, "the email or password is wrong");
  if (signed_in->status != 303) return refused(*signed_in, "the sign-in");

  auto page = impl_->visit({.method = boost::beast::http::verb::get, .url = url}, cookies);
  if (!page.ok()) return page.error();
  if (page->status != 200) return refused(*page, "the link page");
  // The account signed in here is the browser's only one: the page preselects it.
  const std::string& body = page->body;
  const std::size_t checked = body.find("\" required checked>");
  const std::size_t value = checked == std::string::npos ? checked : body.rfind("value=\"", checked);
  if (value == std::string::npos) return Error(ErrorCode::kPermissionDenied, "the link page offered no account");
  const std::string account = body.substr(value + 7, checked - value - 7);
  http::ClientRequest confirm{.method = boost::beast::http::verb::post,
                              .url = base + target.substr(0, target.find('?')),  // the form posts to the page
                              .body = http::encode_form({{"csrf", field_value(body, "csrf")},
                                                         {"c", field_value(body, "c")},
                                                         {"t", field_value(body, "t")},
                                                         {"account", account}})};
  confirm.headers.set(boost::beast::http::field::content_type, "application/x-www-form-urlencoded");
  auto confirmed = impl_->visit(std::move(confirm), cookies);
  if (!confirmed.ok()) return confirmed.error();
  if (confirmed->status != 200) return refused(*confirmed, "the confirmation");
  return ok_result();
}

Result<void> Sandbox::uninstall() {
  json::object body{{"admin_id", impl_->admin_id}};
  auto done = impl_->control("/apps/" + std::string(kAppId) + "/uninstall", body);
  if (!done.ok()) return done.error();
  return ok_result();
}

}  // namespace wik::testing
