// AppTest: a wik::App end to end against the real emulator on loopback, for the kit's tests and
// the examples' tests. The emulator runs in-process with its control API; start_installed_app()
// starts the App, registers it, installs it in the seed community ("Acme Corp") as its system
// administrator, records the install in the kit's store and subscribes the app's webhooks; the
// helpers act as a person of the community and read what the bot sent.
#pragma once

#include <wik/app.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <functional>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "app/database.h"
#include "core/key_ring.h"
#include "emulator/emulator.h"
#include "http/client/client.h"
#include "http/url.h"
#include "store/store.h"
#include "support/fake_clock.h"
#include "support/result_matchers.h"
#include "support/run_coroutine.h"
#include "support/temp_dir.h"

namespace wik::testing {

namespace json = boost::json;

inline constexpr const char* kAppId = "1111222233334444";
inline constexpr const char* kSecret = "0123456789abcdef0123456789abcdef";
inline constexpr const char* kVerifyToken = "verify-token-for-tests";


// Polls `condition` every 10 ms for up to 5 s.
template <class Condition>
inline bool eventually(Condition condition) {
  for (int i = 0; i < 500; ++i) {
    if (condition()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return condition();
}

class AppTest : public ::testing::Test {
 public:
  using Setup = std::function<void(App&)>;

 protected:
  static void SetUpTestSuite() { spdlog::set_level(spdlog::level::warn); }

  void SetUp() override {
    auto emulator = emulator::Emulator::start({.graph_port = 0, .web_port = 0, .control_api = true});
    ASSERT_THAT(emulator, wik::testing::IsOk());
    emulator_ = std::move(*emulator);
    http_ = std::move(http::Client::create({.allow_plain_http = true})).value();

    config_.app.id = kAppId;
    config_.app.secret = Secret(kSecret);
    config_.app.verify_token = Secret(kVerifyToken);
    config_.app.graph_url = emulator_->graph_url();
    config_.app.workplace_url = emulator_->web_url();
    config_.app.redirect_url = "http://127.0.0.1:9/workplace/install";
    config_.server.port = 0;
    config_.server.threads = 1;
    config_.store.sqlite_path = dir_.path() / "wik.db";
    config_.keys.ring = Secret(core::KeyRing::generate("k1").serialize());
  }

  void TearDown() override {
    if (app_) app_->stop();
    app_.reset();
    emulator_->stop();
    if (previous_logger_) spdlog::set_default_logger(previous_logger_);
  }

  // Sends every later log line of the App to log_, at every level, until the test ends.
  void capture_logs() {
    auto logger =
        std::make_shared<spdlog::logger>("app-test", std::make_shared<spdlog::sinks::ostream_sink_mt>(log_));
    logger->set_level(spdlog::level::trace);
    previous_logger_ = spdlog::default_logger();
    spdlog::set_default_logger(logger);
  }

  // Starts the app, registers it with the emulator (its URLs name the app's port) and installs it
  // in the seed community as its administrator; the kit's store gets the install the way the
  // install flow would record it.
  void start_installed_app(const Setup& setup) {
    app_ = std::make_unique<App>(config_);
    setup(*app_);
    ASSERT_THAT(app_->start(), wik::testing::IsOk());
    const std::string base = "http://127.0.0.1:" + std::to_string(app_->port());
    ASSERT_THAT(emulator_->state().register_app({.id = kAppId,
                                                 .secret = kSecret,
                                                 .name = "Echo",
                                                 .publisher = "Example Ltd",
                                                 .redirect_url = base + "/workplace/install",
                                                 .deauthorize_url = base + "/workplace/deauthorize",
                                                 .permissions = permissions_}),
                wik::testing::IsOk());
    for (const auto& user : emulator_->state().users(community_id())) {
      if (user.system_admin) admin_id_ = user.id;
      if (user.email == "bruno@acme.example") person_id_ = user.id;
    }
    auto install = emulator_->state().install_directly(kAppId, admin_id_);
    ASSERT_THAT(install, wik::testing::IsOk());
    install_ = *install;
    record_install_in_kit_store();

    // Subscribe the app's callback as an integration does: the emulator verifies it first.
    const auto subscribed = call_graph(boost::beast::http::verb::post,
                                       "/app/subscriptions",
                                       http::encode_form({{"object", "page"},
                                                          {"callback_url", base + "/workplace/webhook"},
                                                          {"fields", page_fields_},
                                                          {"verify_token", kVerifyToken},
                                                          {"access_token", std::string(kAppId) + "|" + kSecret}}));
    ASSERT_EQ(subscribed.status, 200u) << subscribed.body;
  }

  // A second handle on the app's SQLite database, as `wik` commands open it next to `wik serve`.
  std::unique_ptr<store::Store> open_kit_store() {
    auto database = app::open_database(config_);
    EXPECT_THAT(database, wik::testing::IsOk());
    auto store = store::Store::open(std::move(*database), core::KeyRing::parse(config_.keys.ring->expose()).value(),
                                    clock_);
    EXPECT_THAT(store, wik::testing::IsOk());
    return store.ok() ? std::move(*store) : nullptr;
  }

  // Returns the number of rows of `table` in the app's database, across every community.
  std::int64_t count_rows(const std::string& table) {
    auto database = app::open_database(config_);
    EXPECT_THAT(database, wik::testing::IsOk());
    std::int64_t count = -1;
    const Result<void> counted = (*database)->transact([&](store::Transaction& tx) -> Result<void> {
      auto rows = tx.query("SELECT COUNT(*) FROM " + table);
      if (!rows) return rows.error();
      count = rows->front().integer(0);
      return ok_result();
    });
    EXPECT_TRUE(counted.ok()) << table << ": " << (counted.ok() ? "" : counted.error().detail());
    return count;
  }

  // Opens a chat of the seed person with the bot and sends `text`; returns the thread id.
  std::string person_writes(const std::string& text) {
    const auto opened = control("/users/" + person_id_ + "/open_chat", {{"page_id", install_.page_id}});
    EXPECT_EQ(opened.status, 200u) << opened.body;
    const std::string thread_id(json::parse(opened.body).as_object().at("id").as_string());
    const auto sent = control("/users/" + person_id_ + "/messages", {{"thread_id", thread_id}, {"text", text}});
    EXPECT_EQ(sent.status, 200u) << sent.body;
    return thread_id;
  }

  // The texts of the bot's messages the emulator recorded, in order.
  std::vector<std::string> bot_texts() {
    std::vector<std::string> texts;
    for (const auto& sent : emulator_->state().bot_messages(std::string(kAppId))) {
      const auto* text = sent.message.as_object().if_contains("text");
      texts.push_back(text && text->is_string() ? std::string(text->as_string()) : std::string());
    }
    return texts;
  }

  void record_install_in_kit_store() {
    auto store = open_kit_store();
    ASSERT_NE(store, nullptr);
    ASSERT_THAT(store->community(install_.community_id)
                    ->put_installation({.community_name = "Acme Corp",
                                        .access_token = AccessToken(install_.access_token),
                                        .permissions = install_.permissions}),
                wik::testing::IsOk());
  }

  http::ClientResponse call_graph(boost::beast::http::verb method, const std::string& path, std::string form) {
    http::ClientRequest request{.method = method, .url = emulator_->graph_url() + path, .body = std::move(form)};
    request.headers.set(boost::beast::http::field::content_type, "application/x-www-form-urlencoded");
    auto response = testing::run_coroutine(io_, http_->request(std::move(request)));
    EXPECT_THAT(response, wik::testing::IsOk());
    return response.ok() ? *response : http::ClientResponse{};
  }

  http::ClientResponse control(const std::string& path, const json::object& body) {
    http::ClientRequest request{.method = boost::beast::http::verb::post,
                                .url = emulator_->web_url() + "/_emulator" + path,
                                .body = json::serialize(body)};
    request.headers.set(boost::beast::http::field::content_type, "application/json");
    auto response = testing::run_coroutine(io_, http_->request(std::move(request)));
    EXPECT_THAT(response, wik::testing::IsOk());
    return response.ok() ? *response : http::ClientResponse{};
  }

  std::string community_id() { return emulator_->state().communities().front().id; }

  testing::TempDir dir_;
  testing::FakeClock clock_;
  Config config_;
  std::unique_ptr<emulator::Emulator> emulator_;
  std::unique_ptr<App> app_;
  boost::asio::io_context io_;
  std::unique_ptr<http::Client> http_;  // after io_: destroyed before the io_context of its connections
  emulator::Install install_;
  std::string admin_id_;
  std::string person_id_;
  std::string page_fields_ = "messages,messaging_postbacks";  // the page fields subscribed to
  std::vector<std::string> permissions_ = {"message", "read_user_email"};  // the app requests
  std::ostringstream log_;  // what capture_logs() collected
  std::shared_ptr<spdlog::logger> previous_logger_;
};

}  // namespace wik::testing
