#include "app/community_context.h"

#include <boost/json/serialize.hpp>

#include <algorithm>
#include <functional>
#include <map>

#include "app/bot_manners.h"
#include "app/graph_access.h"
#include "http/offload.h"

namespace wik::app {
namespace {

namespace asio = boost::asio;
using boost::beast::http::verb;

constexpr std::chrono::seconds kStoreDeadline{30};

std::string cache_key(const std::string& community_id, const std::string& person_id) {
  return community_id + "\n" + person_id;
}

// A platform locale such as "fr_CA": 2-16 letters, '_' or '-'.
bool is_locale(std::string_view text) {
  return text.size() >= 2 && text.size() <= 16 && std::ranges::all_of(text, [](char c) {
           return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == '-';
         });
}

}  // namespace

bool is_platform_id(std::string_view id) noexcept {
  return !id.empty() && id.size() <= 32 && std::ranges::all_of(id, [](char c) { return c >= '0' && c <= '9'; });
}

std::optional<std::string> LocaleCache::find(const std::string& community_id, const std::string& person_id) const {
  const std::lock_guard lock(mutex_);
  const auto found = locales_.find(cache_key(community_id, person_id));
  if (found == locales_.end()) return std::nullopt;
  return found->second;
}

void LocaleCache::put(const std::string& community_id, const std::string& person_id, std::string locale) {
  const std::lock_guard lock(mutex_);
  if (locales_.size() >= capacity_) locales_.clear();
  locales_.insert_or_assign(cache_key(community_id, person_id), std::move(locale));
}

CommunityContext::CommunityContext(ContextServices& services, std::string community_id, std::string person_id,
                                   std::optional<std::string> thread_key, webhooks::EventEffects* effects)
    : services_(services),
      community_id_(std::move(community_id)),
      person_id_(std::move(person_id)),
      thread_key_(std::move(thread_key)),
      effects_(effects),
      data_(services.store, services.blocking, community_id_) {}

asio::awaitable<Result<std::string>> CommunityContext::setting(std::string name) {
  const CommunitySetting* declared = nullptr;
  if (services_.settings != nullptr) {
    const auto found = std::ranges::find_if(*services_.settings,
                                            [&](const CommunitySetting& setting) { return setting.name == name; });
    if (found != services_.settings->end()) declared = &*found;
  }
  if (declared == nullptr) {
    co_return Error(ErrorCode::kInvalidArgument, "the app declared no community setting named '" + name +
                                                     "' (declare it with App::community_setting)");
  }
  // The pool may still run the lookup after the deadline: it owns copies of what it uses.
  std::function<Result<std::optional<std::string>>()> lookup =
      [&store = services_.store, community_id = community_id_, name]() -> Result<std::optional<std::string>> {
    Result<store::CommunityScope> scope = store.community(community_id);
    if (!scope) return scope.error();
    Result<std::map<std::string, std::string>> stored = scope->settings();
    if (!stored) return stored.error();
    const auto found = stored->find(name);
    if (found == stored->end()) return std::optional<std::string>();
    return std::optional<std::string>(std::move(found->second));
  };
  auto value = co_await http::run_blocking(services_.blocking, std::move(lookup), kStoreDeadline);
  if (!value) co_return Error(ErrorCode::kUnavailable, "the database did not answer in time");
  if (!value->ok()) co_return value->error();
  if (!**value) co_return declared->default_value;
  co_return std::move(***value);
}

Result<void> CommunityContext::commit_with_event(std::function<Result<void>(DataTransaction&)> work) {
  if (effects_ == nullptr) {
    return Error(ErrorCode::kInvalidArgument,
                 "there is no webhook event to commit with here (an admin page, a hook): use data()");
  }
  effects_->writes.push_back([community_id = community_id_, work = std::move(work)](store::Transaction& tx) {
    ScopedTransaction scoped(tx, community_id);
    return work(scoped);
  });
  return ok_result();
}

asio::awaitable<Result<void>> CommunityContext::reply(const Reply& reply) {
  boost::json::object recipient;
  if (thread_key_) {
    recipient["thread_key"] = *thread_key_;
  } else if (!person_id_.empty()) {
    recipient["id"] = person_id_;
  } else {
    co_return Error(ErrorCode::kInvalidArgument, "there is no one to reply to: use send() with a person's id");
  }
  co_return co_await send_to(std::move(recipient), reply);
}

asio::awaitable<Result<void>> CommunityContext::send(std::string user_id, const Reply& reply) {
  if (!is_platform_id(user_id)) co_return Error(ErrorCode::kInvalidArgument, "a person's id is digits only");
  boost::json::object recipient{{"id", user_id}};
  co_return co_await send_to(std::move(recipient), reply);
}

asio::awaitable<Result<void>> CommunityContext::send_to(boost::json::object recipient, const Reply& reply) {
  auto message = reply.message();
  if (!message.ok()) co_return message.error();
  // Named arguments: g++ 12 destroys some temporaries of a co_await expression twice.
  std::optional<boost::json::value> body =
      boost::json::object{{"recipient", std::move(recipient)}, {"message", std::move(*message)}};
  if (effects_ != nullptr) {
    effects_->replies.push_back(boost::json::serialize(*body));
    co_return ok_result();
  }
  std::string path = "/me/messages";
  std::vector<std::pair<std::string, std::string>> no_query;
  auto sent = co_await graph(verb::post, std::move(path), std::move(no_query), std::move(body));
  if (!sent.ok()) co_return sent.error();
  co_return ok_result();
}

std::string CommunityContext::text(std::string_view key, const MessageArgs& args) const {
  static const Catalogs kBuiltin = Catalogs::builtin();
  const Catalogs& catalogs = services_.manners ? services_.manners->bot().catalogs : kBuiltin;
  return catalogs.text(locale_.empty() ? catalogs.default_locale() : locale_, key, args);
}

asio::awaitable<Result<void>> CommunityContext::not_understood() {
  const std::string sorry = text("wik.not_understood");
  Reply answer = services_.manners ? services_.manners->with_menu(*this, sorry)
                                   : Reply::text(sorry).quick_reply(text("wik.quick.help"), std::string(Bot::kHelpPayload));
  co_return co_await reply(answer);
}

asio::awaitable<std::string> CommunityContext::locale() {
  if (!is_platform_id(person_id_)) co_return std::string();
  if (!locale_.empty()) co_return locale_;
  if (auto cached = services_.locales.find(community_id_, person_id_)) {
    locale_ = *cached;
    co_return std::move(*cached);
  }
  std::string path = "/" + person_id_;
  std::vector<std::pair<std::string, std::string>> fields{{"fields", "locale"}};
  std::optional<boost::json::value> no_body;
  auto person = co_await graph(verb::get, std::move(path), std::move(fields), std::move(no_body));
  if (!person.ok()) co_return std::string();  // not cached: a later event asks again
  std::string locale;
  if (const auto* object = person->if_object()) {
    if (const auto* value = object->if_contains("locale"); value && value->is_string() && is_locale(value->as_string())) {
      locale = std::string(value->as_string());
    }
  }
  services_.locales.put(community_id_, person_id_, locale);
  locale_ = locale;
  co_return locale;
}

asio::awaitable<Result<boost::json::value>> CommunityContext::graph(verb method, std::string path,
                                                                    std::vector<std::pair<std::string, std::string>> query,
                                                                    std::optional<boost::json::value> body) {
  std::function<Result<graph::InstallAuth>()> lookup = [&store = services_.store, community_id = community_id_] {
    return install_auth(store, community_id);
  };
  auto install = co_await http::run_blocking(services_.blocking, std::move(lookup), kStoreDeadline);
  if (!install) co_return Error(ErrorCode::kUnavailable, "the database did not answer in time");
  if (!install->ok()) co_return install->error();
  graph::GraphRequest request{.method = method, .path = std::move(path), .query = std::move(query),
                              .body = std::move(body)};
  co_return co_await services_.graph.call(**install, std::move(request));
}

asio::awaitable<Result<std::optional<LinkedAccount>>> CommunityContext::linked_account() {
  co_return co_await app::linked_account(services_, *this, person_id_);
}

asio::awaitable<Result<std::string>> CommunityContext::account_link_url() {
  co_return co_await app::account_link_url(services_, *this, person_id_);
}

asio::awaitable<Result<void>> CommunityContext::unlink_account() {
  co_return co_await app::unlink_account(services_, *this, person_id_);
}

}  // namespace wik::app
