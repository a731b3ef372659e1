// CommunityContext: the wik::Context of one community (include/wik/context.h), for a handler's
// event or an admin page, over the kit's services.
//
// The install (and its token) is read from the store at each Graph call, on the blocking pool, so
// a revoked install can no longer be used by a handler that is still running, and no store call
// blocks the caller's I/O thread. Person ids that go into a Graph path are checked to be ids
// (digits) first. Locales are cached per community and person (LocaleCache); text() uses the
// locale once locale() has read it (the App reads it before a chat handler runs when a Bot is set).
// A webhook event's handler leaves its replies and its commit_with_event() writes in the event's
// EventEffects: the dispatcher commits them with the event's completion and the outbox
// (webhooks/outbox_sender.h) sends the replies after it. Account linking is app/account_links.h's,
// for the person the context was made for. Borrows the services, which must outlive it.
#pragma once

#include <wik/context.h>

#include <boost/asio/thread_pool.hpp>

#include <cstddef>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "app/account_links.h"
#include "app/community_data.h"
#include "graph/graph_client.h"
#include "store/store.h"
#include "webhooks/dispatcher.h"

namespace wik::app {

// The platform locales of people, per community; bounded (cleared when full). Thread-safe.
class LocaleCache {
 public:
  explicit LocaleCache(std::size_t capacity = 10000) : capacity_(capacity) {}
  std::optional<std::string> find(const std::string& community_id, const std::string& person_id) const;
  void put(const std::string& community_id, const std::string& person_id, std::string locale);

 private:
  const std::size_t capacity_;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, std::string> locales_;  // "community\nperson" → locale
};

class BotManners;

// What every context of the app shares.
struct ContextServices {
  store::Store& store;
  graph::GraphClient& graph;
  boost::asio::thread_pool& blocking;
  LocaleCache& locales;
  const BotManners* manners = nullptr;  // null when the app set no Bot
  const std::vector<CommunitySetting>* settings = nullptr;  // the app's declared settings; null: none
  const AccountLinkSettings* account_links = nullptr;       // null: no link page is served
};

class CommunityContext final : public Context {
 public:
  // `person_id`: who caused the event ("" for none); `thread_key`: set for a group chat.
  // `effects`: when set (a webhook event's handler), reply() and send() append the Send API body
  // there for the kit's outbox instead of calling the platform, and commit_with_event() its
  // writes; otherwise replies are sent at once and commit_with_event() is refused.
  CommunityContext(ContextServices& services, std::string community_id, std::string person_id = {},
                   std::optional<std::string> thread_key = std::nullopt, webhooks::EventEffects* effects = nullptr);

  const std::string& community_id() const override { return community_id_; }
  Data& data() override { return data_; }
  Result<void> commit_with_event(std::function<Result<void>(DataTransaction&)> work) override;
  boost::asio::awaitable<Result<std::string>> setting(std::string name) override;
  boost::asio::awaitable<Result<void>> reply(const Reply& reply) override;
  boost::asio::awaitable<Result<void>> send(std::string user_id, const Reply& reply) override;
  boost::asio::awaitable<std::string> locale() override;
  std::string text(std::string_view key, const MessageArgs& args = {}) const override;
  boost::asio::awaitable<Result<void>> not_understood() override;
  boost::asio::awaitable<Result<boost::json::value>> graph(boost::beast::http::verb method, std::string path,
                                                           std::vector<std::pair<std::string, std::string>> query,
                                                           std::optional<boost::json::value> body) override;
  boost::asio::awaitable<Result<std::optional<LinkedAccount>>> linked_account() override;
  boost::asio::awaitable<Result<std::string>> account_link_url() override;
  boost::asio::awaitable<Result<void>> unlink_account() override;

 private:
  boost::asio::awaitable<Result<void>> send_to(boost::json::object recipient, const Reply& reply);

  ContextServices& services_;
  std::string community_id_;
  std::string person_id_;
  std::optional<std::string> thread_key_;
  std::string locale_;  // the person's platform locale once locale() read it
  webhooks::EventEffects* effects_;
  CommunityData data_;
};

// True when `id` is a platform id: 1-32 decimal digits.
bool is_platform_id(std::string_view id) noexcept;

}  // namespace wik::app
