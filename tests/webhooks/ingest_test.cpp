// The webhook callback over HTTP on a real store: handshake, signatures, routing by community,
// durable storage before the 200, de-duplication, refusals, the store deadline and link previews.
#include "webhooks/ingest.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <spdlog/spdlog.h>

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <sstream>

#include "core/hub_signature.h"
#include "http/client/client.h"
#include "http/server/server.h"
#include "http/url.h"
#include "store/sqlite/sqlite_database.h"
#include "support/fake_clock.h"
#include "support/result_matchers.h"
#include "support/run_coroutine.h"
#include "support/temp_dir.h"

namespace wik::webhooks {
namespace {

namespace asio = boost::asio;
namespace json = boost::json;
using ::testing::ElementsAre;
using ::testing::Pair;
using ::testing::UnorderedElementsAre;
using wik::testing::IsOk;

constexpr const char* kSecret = "0123456789abcdef0123456789abcdef";
constexpr const char* kVerifyToken = "verify-me";

// A chat message to the bot of community `community` (PROTOCOL.md §6.5, community id as a number).
json::value chat_item(const std::string& mid, std::int64_t community, const std::string& text) {
  return {{"sender", {{"id", "100015782744074"}, {"community", {{"id", community}}}}},
          {"recipient", {{"id", "2035268540053170"}}},
          {"timestamp", 1764370000011},
          {"message", {{"mid", mid}, {"seq", 1}, {"text", text}}}};
}

std::string page_delivery(const json::array& items) {
  return json::serialize(json::object{
      {"object", "page"},
      {"entry", json::array{json::object{{"id", "2035268540053170"}, {"time", 1764370000123}, {"messaging", items}}}}});
}

struct Drained {
  std::string community_id;
  std::string topic;
  std::string dedupe_key;
  json::value payload;
};

class IngestTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { spdlog::set_level(spdlog::level::warn); }

  void SetUp() override {
    auto database = store::SqliteDatabase::open({.path = dir_.path() / "wik.db"});
    ASSERT_THAT(database, IsOk());
    store_ = std::move(store::Store::open(std::move(database).value(), core::KeyRing::generate("k1"), clock_)).value();
    for (const char* community : {"111", "222"}) {
      ASSERT_THAT(store_->community(community)->put_installation(
                      {.community_name = "C", .access_token = AccessToken("T"), .permissions = {"message"}}),
                  IsOk());
    }
    start({});
  }

  void start(IngestOptions options) {
    if (server_) server_->stop();
    ingest_.reset();  // first: its pool finishes work that still names the server's executors
    server_.reset();
    options.verify_token = Secret(kVerifyToken);
    if (options.app_secrets.empty()) options.app_secrets.emplace_back(kSecret);
    http::ServerOptions server_options;
    server_options.port = 0;
    server_options.io_threads = 1;
    server_options.access_log = false;
    server_ = std::make_unique<http::Server>(server_options);
    ingest_ = std::make_unique<WebhookIngest>(*store_, std::move(options), server_->metrics());
    if (link_handler_) ingest_->set_link_handler(link_handler_);
    ingest_->add_routes(server_->router());
    ASSERT_THAT(server_->start(), IsOk());
    if (!http_) http_ = std::move(http::Client::create({.allow_plain_http = true})).value();
  }

  std::string url(const std::string& query = "") const {
    return "http://127.0.0.1:" + std::to_string(server_->port()) + "/workplace/webhook" + query;
  }

  http::ClientResponse get(const std::string& query) {
    auto response = testing::run_coroutine(io_, http_->request({.url = url(query)}));
    EXPECT_THAT(response, IsOk());
    return response.ok() ? *response : http::ClientResponse{};
  }

  // POSTs `body` signed as the platform signs it (both headers), unless told otherwise.
  http::ClientResponse post(const std::string& body, std::optional<std::string> sha256 = {},
                            std::optional<std::string> sha1 = {}, bool sign = true) {
    http::ClientRequest request{.method = boost::beast::http::verb::post, .url = url(), .body = body};
    request.headers.set(boost::beast::http::field::content_type, "application/json");
    if (sign) {
      request.headers.set("X-Hub-Signature-256",
                          sha256.value_or(core::sign_hub_signature(core::HubAlgorithm::kSha256, Secret(kSecret), body)));
      request.headers.set("X-Hub-Signature",
                          sha1.value_or(core::sign_hub_signature(core::HubAlgorithm::kSha1, Secret(kSecret), body)));
    }
    auto response = testing::run_coroutine(io_, http_->request(std::move(request)));
    EXPECT_THAT(response, IsOk());
    return response.ok() ? *response : http::ClientResponse{};
  }

  // Claims and completes every stored event, returning them in claim order.
  std::vector<Drained> drain() {
    std::vector<Drained> out;
    for (;;) {
      auto claimed = store_->claim_inbox_events("test", 100, std::chrono::seconds(30));
      EXPECT_THAT(claimed, IsOk());
      if (!claimed.ok() || claimed->empty()) return out;
      for (const auto& event : *claimed) {
        out.push_back({event.community_id, event.topic, event.dedupe_key, json::parse(event.payload)});
        EXPECT_THAT(store_->complete_inbox_event(event), IsOk());
      }
    }
  }

  // Returns the /metrics line of a counter ("name{label=\"value\"} N"), or "" when absent.
  std::string metric(const std::string& series) {
    auto response = testing::run_coroutine(
        io_, http_->request({.url = "http://127.0.0.1:" + std::to_string(server_->port()) + "/metrics"}));
    EXPECT_THAT(response, IsOk());
    std::istringstream lines(response.ok() ? response->body : "");
    for (std::string line; std::getline(lines, line);) {
      if (line.starts_with(series + " ")) return line;
    }
    return "";
  }

  testing::TempDir dir_;
  testing::FakeClock clock_{1764370000};
  std::unique_ptr<store::Store> store_;
  LinkHandler link_handler_;
  std::unique_ptr<http::Server> server_;
  std::unique_ptr<WebhookIngest> ingest_;  // declared after the server: destroyed before it
  asio::io_context io_;
  std::unique_ptr<http::Client> http_;
};

TEST_F(IngestTest, TheHandshakeEchoesTheChallengeOnlyForTheRightToken) {
  const auto ok = get("?hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token=verify-me");
  EXPECT_EQ(ok.status, 200u);
  EXPECT_EQ(ok.body, "1158201444");
  EXPECT_THAT(std::string(ok.header("Content-Type").value_or("")), ::testing::StartsWith("text/plain"));
  for (const char* bad : {"?hub.mode=subscribe&hub.challenge=1&hub.verify_token=verify-mf",
                          "?hub.mode=unsubscribe&hub.challenge=1&hub.verify_token=verify-me",
                          "?hub.mode=subscribe&hub.verify_token=verify-me",
                          "?hub.mode=subscribe&hub.challenge=%3Cscript%3E&hub.verify_token=verify-me", ""}) {
    EXPECT_EQ(get(bad).status, 403u) << bad;
  }
}

TEST_F(IngestTest, StoresEachEventUnderItsCommunityBeforeAnswering) {
  const std::string body = page_delivery({chat_item("mid.1", 111, "help"), chat_item("mid.2", 222, "hi"),
                                          chat_item("mid.3", 333, "not installed"), chat_item("mid.4", 111, "more")});
  const auto response = post(body);
  ASSERT_EQ(response.status, 200u);
  EXPECT_EQ(json::parse(response.body), json::parse(R"({"stored":3,"duplicates":0,"dropped":1})"));
  EXPECT_EQ(metric(R"(webhook_events_total{outcome="dropped_not_installed"})"),
            R"(webhook_events_total{outcome="dropped_not_installed"} 1)");

  const auto events = drain();
  ASSERT_EQ(events.size(), 3u);
  std::vector<std::pair<std::string, std::string>> keys;
  for (const auto& event : events) {
    keys.emplace_back(event.community_id, event.dedupe_key);
    EXPECT_EQ(event.topic, "page/messages");
    EXPECT_EQ(event.payload.as_object().at("object"), "page");
    EXPECT_EQ(event.payload.as_object().at("field"), "messages");
  }
  EXPECT_THAT(keys, UnorderedElementsAre(Pair("111", "mid:mid.1"), Pair("222", "mid:mid.2"), Pair("111", "mid:mid.4")));
}

TEST_F(IngestTest, ARevokedCommunitysEventsAreDroppedThoughItsDataIsNotPurgedYet) {
  ASSERT_THAT(store_->community("222")->revoke_installation(), IsOk());  // its data key stays until the purge
  const auto response = post(page_delivery({chat_item("mid.1", 111, "help"), chat_item("mid.2", 222, "hi")}));
  ASSERT_EQ(response.status, 200u);
  EXPECT_EQ(json::parse(response.body), json::parse(R"({"stored":1,"duplicates":0,"dropped":1})"));
  const auto events = drain();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events.front().community_id, "111");
}

TEST_F(IngestTest, ARedeliveryIsStoredOnce) {
  const std::string body = page_delivery({chat_item("mid.1", 111, "help"), chat_item("mid.2", 222, "hi")});
  ASSERT_EQ(post(body).status, 200u);
  const auto again = post(body);
  ASSERT_EQ(again.status, 200u);
  EXPECT_EQ(json::parse(again.body), json::parse(R"({"stored":0,"duplicates":2,"dropped":0})"));
  EXPECT_EQ(drain().size(), 2u);
}

TEST_F(IngestTest, UnsignedOrWronglySignedDeliveriesAreRefusedAndNothingIsStored) {
  const std::string body = page_delivery({chat_item("mid.1", 111, "help")});
  const std::string wrong = core::sign_hub_signature(core::HubAlgorithm::kSha256, Secret("other"), body);
  EXPECT_EQ(post(body, wrong).status, 403u);
  EXPECT_EQ(post(body, {}, {}, false).status, 403u);
  std::string altered = body;
  altered[altered.find("help")] = 'H';
  const auto signature_of_original = core::sign_hub_signature(core::HubAlgorithm::kSha256, Secret(kSecret), body);
  EXPECT_EQ(post(altered, signature_of_original, core::sign_hub_signature(core::HubAlgorithm::kSha1, Secret(kSecret), body))
                .status,
            403u);
  EXPECT_EQ(post(body, "sha512=00").status, 403u);
  EXPECT_EQ(metric(R"(webhook_rejected_total{reason="bad_signature"})"),
            R"(webhook_rejected_total{reason="bad_signature"} 4)");
  EXPECT_TRUE(drain().empty());
}

TEST_F(IngestTest, TheLegacySha1SignatureCountsOnlyWhenAllowed) {
  const std::string body = page_delivery({chat_item("mid.1", 111, "help")});
  http::ClientRequest request{.method = boost::beast::http::verb::post, .url = url(), .body = body};
  request.headers.set(boost::beast::http::field::content_type, "application/json");
  request.headers.set("X-Hub-Signature", core::sign_hub_signature(core::HubAlgorithm::kSha1, Secret(kSecret), body));
  auto refused = testing::run_coroutine(io_, http_->request(request));
  ASSERT_THAT(refused, IsOk());
  EXPECT_EQ(refused->status, 403u);

  start({.accept_sha1 = true});
  request.url = url();
  auto accepted = testing::run_coroutine(io_, http_->request(request));
  ASSERT_THAT(accepted, IsOk());
  EXPECT_EQ(accepted->status, 200u);
  EXPECT_EQ(drain().size(), 1u);
}

TEST_F(IngestTest, DuringASecretRotationTheOldSecretStillVerifies) {
  start({.app_secrets = {Secret("new-secret-0123456789"), Secret(kSecret)}});
  EXPECT_EQ(post(page_delivery({chat_item("mid.1", 111, "help")})).status, 200u);
}

TEST_F(IngestTest, TheOldSecretVerifiesOnlyUntilTheRotationEnds) {
  const Secret current("new-secret-0123456789");
  start({.app_secrets = {current, Secret(kSecret)},
         .previous_secrets_until = clock_.now() + std::chrono::hours(1),
         .clock = &clock_});
  clock_.advance(std::chrono::minutes(59));
  EXPECT_EQ(post(page_delivery({chat_item("mid.1", 111, "help")})).status, 200u);
  clock_.advance(std::chrono::minutes(1));
  EXPECT_EQ(post(page_delivery({chat_item("mid.2", 111, "help")})).status, 403u);
  const std::string body = page_delivery({chat_item("mid.3", 111, "help")});
  EXPECT_EQ(post(body, core::sign_hub_signature(core::HubAlgorithm::kSha256, current, body),
                 core::sign_hub_signature(core::HubAlgorithm::kSha1, current, body))
                .status,
            200u);
  EXPECT_EQ(drain().size(), 2u);  // mid.1 and mid.3
}

TEST_F(IngestTest, MalformedAndOversizedDeliveriesGetA4xx) {
  EXPECT_EQ(post("{not json").status, 400u);
  EXPECT_EQ(post(R"({"object":"page"})").status, 400u);
  EXPECT_EQ(post(R"({"object":"page","entry":[7]})").status, 400u);
  json::array items;
  for (int i = 0; i < 1001; ++i) items.push_back(chat_item("mid." + std::to_string(i), 111, "x"));
  EXPECT_EQ(post(page_delivery(items)).status, 413u);
  start({.max_body_bytes = 1024});
  EXPECT_EQ(post(std::string(2048, ' ')).status, 413u);
  EXPECT_TRUE(drain().empty());
}

TEST_F(IngestTest, ADeliveryOfAThousandEventsIsStoredTogether) {
  json::array items;
  for (int i = 0; i < 1000; ++i) items.push_back(chat_item("mid." + std::to_string(i), i % 2 ? 111 : 222, "x"));
  const std::string body = page_delivery(items);
  const auto response = post(body);
  ASSERT_EQ(response.status, 200u);
  EXPECT_EQ(json::parse(response.body).as_object().at("stored"), 1000);
  // Every one of them is in the inbox: the same delivery again is all duplicates.
  const auto again = post(body);
  ASSERT_EQ(again.status, 200u);
  EXPECT_EQ(json::parse(again.body).as_object().at("duplicates"), 1000);
}

TEST_F(IngestTest, WhenTheStoreMissesItsDeadlineThePlatformIsToldToRetry) {
  start({.store_deadline = std::chrono::milliseconds(0)});
  const std::string body = page_delivery({chat_item("mid.1", 111, "help")});
  EXPECT_EQ(post(body).status, 503u);
  // The late write still lands; the platform's retry is then a duplicate, and nothing is lost.
  start({});
  const auto retried = post(body);
  ASSERT_EQ(retried.status, 200u);
  EXPECT_EQ(drain().size(), 1u);
}

TEST_F(IngestTest, WhenTheStoreCannotTellWhetherACommunityIsInstalledThePlatformIsToldToRetry) {
  // The store fails to read installations (as after an I/O error): that is no "not installed".
  auto raw = store::SqliteDatabase::open({.path = dir_.path() / "wik.db"});
  ASSERT_THAT(raw, IsOk());
  const auto rename = [&](std::string_view sql) {
    ASSERT_THAT((*raw)->transact([&](store::Transaction& tx) -> Result<void> {
      Result<std::int64_t> renamed = tx.execute(sql);
      if (!renamed) return renamed.error();
      return ok_result();
    }),
                IsOk());
  };
  rename("ALTER TABLE installations RENAME TO installations_unreadable");
  const std::string body = page_delivery({chat_item("mid.1", 111, "help")});
  EXPECT_EQ(post(body).status, 503u);
  EXPECT_TRUE(drain().empty());
  rename("ALTER TABLE installations_unreadable RENAME TO installations");
  EXPECT_EQ(post(body).status, 200u);  // the platform's retry
  EXPECT_EQ(drain().size(), 1u);
}

asio::awaitable<Result<json::value>> preview_of(const WebhookEvent& event) {
  const auto item = json::parse(event.payload).as_object().at("item").as_object();
  const std::string link(item.at("value").as_object().at("link").as_string());
  if (link.ends_with("/slow")) {
    asio::steady_timer timer(co_await asio::this_coro::executor, std::chrono::seconds(5));
    co_await timer.async_wait(asio::use_awaitable);
  }
  co_return json::value{{"data", json::array{json::object{{"link", link}, {"title", "Q3 plan"}}}}, {"linked_user", true}};
}

std::string link_delivery(const std::string& link, const std::string& community) {
  return json::serialize(json::object{
      {"object", "link"},
      {"entry", json::array{json::object{
                    {"id", "1580950351981002"},
                    {"time", 1522161596},
                    {"changes", json::array{json::object{
                                    {"field", "preview"},
                                    {"value", {{"link", link}, {"community", {{"id", community}}}, {"user", {{"id", "3"}}}}}}}}}}}});
}

TEST_F(IngestTest, LinkPreviewsAreAnsweredInlineWithinTheirDeadline) {
  link_handler_ = preview_of;
  start({.link_deadline = std::chrono::milliseconds(300)});
  const auto answered = post(link_delivery("https://vendor.example/doc/8", "111"));
  ASSERT_EQ(answered.status, 200u);
  EXPECT_EQ(json::parse(answered.body).as_object().at("data").as_array().at(0).as_object().at("title"), "Q3 plan");

  const auto slow = post(link_delivery("https://vendor.example/slow", "111"));
  ASSERT_EQ(slow.status, 200u);
  EXPECT_EQ(json::parse(slow.body), json::parse(R"({"data":[]})"));

  const auto uninstalled = post(link_delivery("https://vendor.example/doc/8", "999"));
  EXPECT_EQ(json::parse(uninstalled.body), json::parse(R"({"data":[]})"));
  EXPECT_TRUE(drain().empty());  // previews are answered, never queued
}

}  // namespace
}  // namespace wik::webhooks
