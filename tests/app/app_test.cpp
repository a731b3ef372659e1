// wik::App end to end against the real emulator on loopback: a person's chat message becomes a
// signed webhook, is stored and dispatched to the app's handler, whose reply reaches the emulator
// through the Send API; an uninstall revokes the install and purges the community's rows.
#include <wik/app.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <spdlog/spdlog.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <thread>

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

namespace wik {
namespace {

namespace json = boost::json;
using ::testing::HasSubstr;
using wik::testing::HasError;
using wik::testing::IsOk;

constexpr const char* kAppId = "1111222233334444";
constexpr const char* kSecret = "0123456789abcdef0123456789abcdef";
constexpr const char* kVerifyToken = "verify-token-for-tests";

boost::asio::awaitable<Result<void>> echo(Context& context, const Message& message) {
  const Reply reply = Reply::text("You said: " + message.text).quick_reply("Again", "AGAIN").quick_reply("Stop", "STOP");
  co_return co_await context.reply(reply);
}

// Polls `condition` every 10 ms for up to 5 s.
template <class Condition>
bool eventually(Condition condition) {
  for (int i = 0; i < 500; ++i) {
    if (condition()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return condition();
}

class AppTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { spdlog::set_level(spdlog::level::warn); }

  void SetUp() override {
    auto emulator = emulator::Emulator::start({.graph_port = 0, .web_port = 0, .control_api = true});
    ASSERT_THAT(emulator, IsOk());
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
  }

  // Starts the app, registers it with the emulator (its URLs name the app's port) and installs it
  // in the seed community as its administrator; the kit's store gets the install the way the
  // install flow would record it.
  void start_installed_app() {
    app_ = std::make_unique<App>(config_);
    app_->on_message(echo);
    ASSERT_THAT(app_->start(), IsOk());
    const std::string base = "http://127.0.0.1:" + std::to_string(app_->port());
    ASSERT_THAT(emulator_->state().register_app({.id = kAppId,
                                                 .secret = kSecret,
                                                 .name = "Echo",
                                                 .publisher = "Example Ltd",
                                                 .redirect_url = base + "/workplace/install",
                                                 .deauthorize_url = base + "/workplace/deauthorize",
                                                 .permissions = {"message", "read_user_email"}}),
                IsOk());
    for (const auto& user : emulator_->state().users(community_id())) {
      if (user.system_admin) admin_id_ = user.id;
      if (user.email == "bruno@acme.example") person_id_ = user.id;
    }
    auto install = emulator_->state().install_directly(kAppId, admin_id_);
    ASSERT_THAT(install, IsOk());
    install_ = *install;
    record_install_in_kit_store();

    // Subscribe the app's callback as an integration does: the emulator verifies it first.
    const auto subscribed = call_graph(boost::beast::http::verb::post,
                                       "/app/subscriptions",
                                       http::encode_form({{"object", "page"},
                                                          {"callback_url", base + "/workplace/webhook"},
                                                          {"fields", "messages,messaging_postbacks"},
                                                          {"verify_token", kVerifyToken},
                                                          {"access_token", std::string(kAppId) + "|" + kSecret}}));
    ASSERT_EQ(subscribed.status, 200u) << subscribed.body;
  }

  void record_install_in_kit_store() {
    // A second handle on the app's SQLite database, as `wik` commands open it next to `wik serve`.
    auto database = app::open_database(config_);
    ASSERT_THAT(database, IsOk());
    auto store = store::Store::open(std::move(*database), core::KeyRing::parse(config_.keys.ring->expose()).value(),
                                    clock_);
    ASSERT_THAT(store, IsOk());
    ASSERT_THAT((*store)->community(install_.community_id)
                    ->put_installation({.community_name = "Acme Corp",
                                        .access_token = AccessToken(install_.access_token),
                                        .permissions = install_.permissions}),
                IsOk());
  }

  http::ClientResponse call_graph(boost::beast::http::verb method, const std::string& path, std::string form) {
    http::ClientRequest request{.method = method, .url = emulator_->graph_url() + path, .body = std::move(form)};
    request.headers.set(boost::beast::http::field::content_type, "application/x-www-form-urlencoded");
    auto response = testing::run_coroutine(io_, http_->request(std::move(request)));
    EXPECT_THAT(response, IsOk());
    return response.ok() ? *response : http::ClientResponse{};
  }

  http::ClientResponse control(const std::string& path, const json::object& body) {
    http::ClientRequest request{.method = boost::beast::http::verb::post,
                                .url = emulator_->web_url() + "/_emulator" + path,
                                .body = json::serialize(body)};
    request.headers.set(boost::beast::http::field::content_type, "application/json");
    auto response = testing::run_coroutine(io_, http_->request(std::move(request)));
    EXPECT_THAT(response, IsOk());
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
};

TEST_F(AppTest, AChatMessageReachesTheHandlerAndItsReplyReachesThePerson) {
  start_installed_app();
  const auto opened = control("/users/" + person_id_ + "/open_chat", {{"page_id", install_.page_id}});
  ASSERT_EQ(opened.status, 200u) << opened.body;
  const std::string thread_id(json::parse(opened.body).as_object().at("id").as_string());
  const auto sent = control("/users/" + person_id_ + "/messages", {{"thread_id", thread_id}, {"text", "my laptop won't start"}});
  ASSERT_EQ(sent.status, 200u) << sent.body;

  ASSERT_TRUE(eventually([&] { return !emulator_->state().bot_messages(std::string(kAppId)).empty(); }))
      << "the bot's reply never reached the emulator";
  const auto replies = emulator_->state().bot_messages(std::string(kAppId));
  ASSERT_EQ(replies.size(), 1u);
  EXPECT_EQ(replies[0].thread_id, thread_id);
  const auto& message = replies[0].message.as_object();
  EXPECT_EQ(message.at("text"), "You said: my laptop won't start");
  EXPECT_EQ(message.at("quick_replies").as_array().size(), 2u);
}

TEST_F(AppTest, UninstallRevokesAtOnceAndPurgesTheCommunity) {
  start_installed_app();
  const auto uninstalled = control("/apps/" + std::string(kAppId) + "/uninstall", {{"admin_id", admin_id_}});
  ASSERT_EQ(uninstalled.status, 200u) << uninstalled.body;

  // The purge runs in the background: eventually the community has no installation left at all.
  auto database = app::open_database(config_);
  ASSERT_THAT(database, IsOk());
  auto store =
      store::Store::open(std::move(*database), core::KeyRing::parse(config_.keys.ring->expose()).value(), clock_);
  ASSERT_THAT(store, IsOk());
  EXPECT_TRUE(eventually([&] {
    return !(*store)->community(install_.community_id)->installation().ok();
  })) << "the community's install was not purged";
  EXPECT_THAT((*store)->community(install_.community_id)->installation(), HasError(ErrorCode::kNotFound));
  const auto jobs = (*store)->list_purge_jobs(store::PurgeState::kDone);
  ASSERT_THAT(jobs, IsOk());
  EXPECT_EQ(jobs->size(), 1u);
}

TEST_F(AppTest, StartingWithoutTheVerifyTokenNamesIt) {
  config_.app.verify_token = Secret();
  App app(config_);
  EXPECT_THAT(app.start(), HasError(ErrorCode::kConfig, HasSubstr("app.verify_token")));
}

}  // namespace
}  // namespace wik
