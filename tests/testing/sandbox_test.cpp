// The public test kit (include/wik/testing.h) used as an integration author would: an App with a
// chat handler, driven by the seed community's people through the emulator.
#include <wik/testing.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

namespace wik {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

boost::asio::awaitable<Result<void>> echo(Context& context, const Message& message) {
  const std::string said = message.quick_reply_payload ? "pressed " + *message.quick_reply_payload : message.text;
  const Reply reply = Reply::text("You said: " + said).quick_reply("Again", "AGAIN").quick_reply("Stop", "STOP");
  co_return co_await context.reply(reply);
}

TEST(SandboxTest, APersonWritesAndPressesAQuickReplyAndTheBotAnswersThroughThePlatform) {
  auto sandbox = testing::Sandbox::start([](App& app) { app.on_message(echo); });
  ASSERT_TRUE(sandbox.ok()) << sandbox.error().reason();
  auto bruno = (*sandbox)->person("bruno@acme.example");
  ASSERT_TRUE(bruno.ok());
  EXPECT_EQ(bruno->locale, "pt_BR");

  auto replies = (*sandbox)->say(*bruno, "hello");
  ASSERT_TRUE(replies.ok()) << replies.error().reason();
  ASSERT_EQ(replies->size(), 1u);
  EXPECT_EQ((*replies)[0].text, "You said: hello");
  EXPECT_THAT((*replies)[0].quick_replies, ElementsAre("Again", "Stop"));

  auto pressed = (*sandbox)->press(*bruno, (*replies)[0], 1);
  ASSERT_TRUE(pressed.ok()) << pressed.error().reason();
  EXPECT_EQ((*pressed)[0].text, "You said: pressed STOP");
  EXPECT_EQ((*sandbox)->messages_to(*bruno).size(), 2u);
}

// Offers a quick reply whose press the handler leaves unanswered.
boost::asio::awaitable<Result<void>> offer_silent_choice(Context& context, const Message& message) {
  if (message.quick_reply_payload) co_return ok_result();
  const Reply reply = Reply::text("Pick one").quick_reply("Quiet", "QUIET");
  co_return co_await context.reply(reply);
}

Bot bot_acknowledging(bool acknowledge) {
  // Built-in keys stand in for the bot's own texts, which the kit's catalogs do not have.
  return Bot{.name_key = "wik.quick.menu",
             .what_key = "wik.quick.menu",
             .greeting_key = "wik.quick.menu",
             .acknowledge_actions = acknowledge};
}

TEST(SandboxTest, AnActionTheHandlerLeavesUnansweredIsAcknowledgedInThePersonsLanguage) {
  auto sandbox = testing::Sandbox::start([](App& app) { app.bot(bot_acknowledging(true)).on_message(offer_silent_choice); });
  ASSERT_TRUE(sandbox.ok()) << sandbox.error().reason();
  auto bruno = (*sandbox)->person("bruno@acme.example");
  ASSERT_TRUE(bruno.ok());
  auto offered = (*sandbox)->say(*bruno, "hello", 2);  // the greeting on first contact, then the offer
  ASSERT_TRUE(offered.ok()) << offered.error().reason();
  ASSERT_EQ(offered->back().text, "Pick one");

  auto pressed = (*sandbox)->press(*bruno, offered->back(), 0);
  ASSERT_TRUE(pressed.ok()) << pressed.error().reason();
  EXPECT_EQ((*pressed)[0].text, "Pronto.");
}

TEST(SandboxTest, AnAppMayTurnTheAcknowledgementOff) {
  auto sandbox = testing::Sandbox::start(
      [](App& app) { app.bot(bot_acknowledging(false)).on_message(offer_silent_choice); },
      {.timeout = std::chrono::milliseconds(500)});
  ASSERT_TRUE(sandbox.ok()) << sandbox.error().reason();
  auto chloe = (*sandbox)->person("chloe@acme.example");
  ASSERT_TRUE(chloe.ok());
  auto offered = (*sandbox)->say(*chloe, "bonjour", 2);
  ASSERT_TRUE(offered.ok()) << offered.error().reason();
  auto pressed = (*sandbox)->press(*chloe, offered->back(), 0);
  ASSERT_FALSE(pressed.ok());
  EXPECT_EQ(pressed.error().code(), ErrorCode::kTimeout);
  EXPECT_EQ((*sandbox)->messages_to(*chloe).size(), 2u);
}

TEST(SandboxTest, WaitingForMoreRepliesThanTheBotSendsEndsInATimeoutThatSaysSo) {
  auto sandbox = testing::Sandbox::start([](App& app) { app.on_message(echo); },
                                         {.timeout = std::chrono::milliseconds(500)});
  ASSERT_TRUE(sandbox.ok()) << sandbox.error().reason();
  auto chloe = (*sandbox)->person("chloe@acme.example");
  ASSERT_TRUE(chloe.ok());
  auto replies = (*sandbox)->say(*chloe, "bonjour", 2);
  ASSERT_FALSE(replies.ok());
  EXPECT_EQ(replies.error().code(), ErrorCode::kTimeout);
  EXPECT_THAT(replies.error().reason(), HasSubstr("1 of the 2"));
  EXPECT_EQ((*sandbox)->person("nobody@acme.example").error().code(), ErrorCode::kNotFound);
}

TEST(SandboxTest, UninstallReachesTheAppsUninstallHandler) {
  std::atomic<int> uninstalls{0};
  auto sandbox = testing::Sandbox::start([&](App& app) {
    app.on_uninstall([&](Context&, const Uninstall&) -> boost::asio::awaitable<Result<void>> {
      ++uninstalls;
      co_return ok_result();
    });
  });
  ASSERT_TRUE(sandbox.ok()) << sandbox.error().reason();
  ASSERT_TRUE((*sandbox)->uninstall().ok());
  for (int i = 0; i < 500 && uninstalls == 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_EQ(uninstalls, 1);
}

// "connect": the account-link URL as a URL button; anything else: who the person is linked to.
boost::asio::awaitable<Result<void>> connect_or_who(Context& context, const Message& message) {
  if (message.text == "connect") {
    auto url = co_await context.account_link_url();
    if (!url.ok()) co_return url.error();
    const Reply reply = Reply::text("Connect your account").link_button("Connect", *url);
    co_return co_await context.reply(reply);
  }
  auto account = co_await context.linked_account();
  if (!account.ok()) co_return account.error();
  const Reply reply = Reply::text(*account ? "You are " + (*account)->email : std::string("Not connected"));
  co_return co_await context.reply(reply);
}

std::string button_url(const testing::BotMessage& message) {
  return std::string(message.message.at("attachment").at("payload").at("buttons").at(0).at("url").as_string());
}

TEST(SandboxTest, APersonLinksTheirAccountThroughTheKitsLinkPage) {
  auto sandbox = testing::Sandbox::start([](App& app) { app.on_message(connect_or_who); });
  ASSERT_TRUE(sandbox.ok()) << sandbox.error().reason();
  ASSERT_TRUE((*sandbox)->create_account("bruno@vendor.example", Secret("correct horse")).ok());
  EXPECT_EQ((*sandbox)->create_account("bruno@vendor.example", Secret("x")).error().code(), ErrorCode::kConflict);
  auto bruno = (*sandbox)->person("bruno@acme.example");
  ASSERT_TRUE(bruno.ok());

  auto offer = (*sandbox)->say(*bruno, "connect");
  ASSERT_TRUE(offer.ok()) << offer.error().reason();
  const std::string url = button_url((*offer)[0]);
  EXPECT_EQ((*sandbox)->link_account(url, "bruno@vendor.example", Secret("wrong")).error().code(),
            ErrorCode::kUnauthenticated);
  auto linked = (*sandbox)->link_account(url, "bruno@vendor.example", Secret("correct horse"));
  ASSERT_TRUE(linked.ok()) << linked.error().reason();
  auto who = (*sandbox)->say(*bruno, "who am I?");
  ASSERT_TRUE(who.ok()) << who.error().reason();
  EXPECT_EQ((*who)[0].text, "You are bruno@vendor.example");

  auto again = (*sandbox)->link_account(url, "bruno@vendor.example", Secret("correct horse"));
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code(), ErrorCode::kConflict);
  EXPECT_THAT(again.error().reason(), HasSubstr("already used"));
}

}  // namespace
}  // namespace wik
