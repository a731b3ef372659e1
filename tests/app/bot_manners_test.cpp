// BotManners with a recording Context: the messenger profile set at install in every language of
// the catalogs, help answered in the person's language without the app's handler, Get Started
// greeting the person by name, and the menu on every such answer.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>

#include "app/bot_manners.h"
#include "support/result_matchers.h"
#include "support/run_coroutine.h"

namespace wik {
namespace {

namespace json = boost::json;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using wik::testing::IsOk;

struct GraphCall {
  std::string path;
  std::optional<json::value> body;
};

// A Context that records what the kit sends and answers GET /{person} with a first name.
class RecordingContext final : public Context {
 public:
  explicit RecordingContext(const Catalogs& catalogs, std::string locale) : catalogs_(catalogs), locale_(std::move(locale)) {}

  const std::string& community_id() const override { return community_id_; }
  Data& data() override { std::abort(); }
  Result<void> commit_with_event(std::function<Result<void>(DataTransaction&)>) override { std::abort(); }
  boost::asio::awaitable<Result<std::string>> setting(std::string) override { std::abort(); }
  boost::asio::awaitable<Result<void>> reply(const Reply& reply) override {
    auto message = reply.message();
    if (!message.ok()) co_return message.error();
    replies.push_back(std::move(*message));
    co_return ok_result();
  }
  boost::asio::awaitable<Result<void>> send(std::string, const Reply& reply) override { co_return co_await this->reply(reply); }
  boost::asio::awaitable<std::string> locale() override { co_return locale_; }
  std::string text(std::string_view key, const MessageArgs& args = {}) const override {
    return catalogs_.text(locale_, key, args);
  }
  boost::asio::awaitable<Result<void>> not_understood() override { co_return ok_result(); }
  boost::asio::awaitable<Result<json::value>> graph(boost::beast::http::verb, std::string path,
                                                    std::vector<std::pair<std::string, std::string>>,
                                                    std::optional<json::value> body) override {
    calls.push_back({path, body});
    co_return json::value(json::object{{"first_name", "Chloé"}});
  }
  boost::asio::awaitable<Result<std::optional<LinkedAccount>>> linked_account() override { std::abort(); }
  boost::asio::awaitable<Result<std::string>> account_link_url() override { std::abort(); }
  boost::asio::awaitable<Result<void>> unlink_account() override { std::abort(); }

  std::vector<json::object> replies;
  std::vector<GraphCall> calls;

 private:
  const Catalogs& catalogs_;
  std::string locale_;
  std::string community_id_ = "1001";
};

Bot test_bot() {
  return Bot{.catalogs = Catalogs::builtin(),
             .name_key = "wik.quick.menu",
             .what_key = "wik.ack",
             .greeting_key = "wik.unavailable",
             .help_key = {},
             .support_contact = "help@vendor.test",
             .menu = {{"wik.quick.try_again", "AGAIN"}}};
}

std::vector<std::string> quick_reply_titles(const json::object& message) {
  std::vector<std::string> titles;
  for (const auto& reply : message.at("quick_replies").as_array()) titles.emplace_back(reply.at("title").as_string());
  return titles;
}

TEST(BotMannersTest, TheProfileGetsTheGetStartedButtonAndAGreetingInEveryLanguage) {
  const app::BotManners manners(test_bot());
  RecordingContext context(manners.bot().catalogs, "en_US");
  boost::asio::io_context io;
  ASSERT_THAT(testing::run_coroutine(io, manners.set_profile(context)), IsOk());
  ASSERT_EQ(context.calls.size(), 1u);
  EXPECT_EQ(context.calls[0].path, "/me/messenger_profile");
  const auto& body = context.calls[0].body->as_object();
  EXPECT_EQ(std::string(body.at("get_started").at("payload").as_string()), Bot::kGetStartedPayload);
  std::vector<std::string> locales;
  for (const auto& greeting : body.at("greeting").as_array()) locales.emplace_back(greeting.at("locale").as_string());
  EXPECT_THAT(locales, ElementsAre("default", "de_DE", "en_US", "es_ES", "fr_FR", "ja_JP", "pt_BR"));
}

TEST(BotMannersTest, HelpWordsOfThePersonsLanguageGetHelpWithTheSupportContactAndTheMenu) {
  const app::BotManners manners(test_bot());
  RecordingContext context(manners.bot().catalogs, "fr_CA");
  boost::asio::io_context io;
  const Message message{.community_id = "1001", .sender_id = "42", .text = " Aide "};
  auto handled = testing::run_coroutine(io, manners.before_message(context, message));
  ASSERT_THAT(handled, IsOk());
  EXPECT_TRUE(*handled);
  ASSERT_EQ(context.replies.size(), 1u);
  EXPECT_THAT(std::string(context.replies[0].at("text").as_string()), HasSubstr("help@vendor.test"));
  EXPECT_THAT(quick_reply_titles(context.replies[0]), ElementsAre("Aide", "Réessayer"));
}

TEST(BotMannersTest, GetStartedGreetsThePersonByNameAndTheHandlerDoesNotRun) {
  const app::BotManners manners(test_bot());
  RecordingContext context(manners.bot().catalogs, "de_DE");
  boost::asio::io_context io;
  const Postback postback{.community_id = "1001", .sender_id = "42", .payload = std::string(Bot::kGetStartedPayload)};
  auto handled = testing::run_coroutine(io, manners.before_postback(context, postback));
  ASSERT_THAT(handled, IsOk());
  EXPECT_TRUE(*handled);
  ASSERT_EQ(context.replies.size(), 1u);
  EXPECT_THAT(std::string(context.replies[0].at("text").as_string()), HasSubstr("Chloé"));
  EXPECT_EQ(context.calls.at(0).path, "/42");

  const Postback other{.community_id = "1001", .sender_id = "42", .payload = "AGAIN"};
  auto passed = testing::run_coroutine(io, manners.before_postback(context, other));
  ASSERT_THAT(passed, IsOk());
  EXPECT_FALSE(*passed);
  EXPECT_EQ(context.replies.size(), 1u);
}

}  // namespace
}  // namespace wik
