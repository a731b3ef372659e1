#include <wik/testing.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <filesystem>
#include <optional>
#include <thread>

#include "app/database.h"
#include "core/clock.h"
#include "core/hex.h"
#include "core/key_ring.h"
#include "core/secure_random.h"
#include "emulator/emulator.h"
#include "http/client/client.h"
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

Result<void> Sandbox::uninstall() {
  json::object body{{"admin_id", impl_->admin_id}};
  auto done = impl_->control("/apps/" + std::string(kAppId) + "/uninstall", body);
  if (!done.ok()) return done.error();
  return ok_result();
}

}  // namespace wik::testing
