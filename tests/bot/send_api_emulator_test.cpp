// What the bot's builders render, sent to the emulator's Graph host as an integration sends it
// (POST /me/messages, POST /me/messenger_profile with a signed install token) and accepted there:
// every message kind, each filled to its limits with multi-byte characters so the kit and the
// emulator count alike, the three sender actions, and the messenger profile as stored.
#include <wik/messenger_profile.h>
#include <wik/reply.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

#include "emulator/graph_api/graph_fixture.h"
#include "support/result_matchers.h"

namespace wik {
namespace {

namespace json = boost::json;
using emulator::testing::Answer;
using wik::testing::IsOk;

std::string repeat(std::string_view character, std::size_t count) {
  std::string text;
  for (std::size_t i = 0; i < count; ++i) text += character;
  return text;
}

const std::string kSmile = "\xF0\x9F\x98\x80";  // 4 bytes, one character

// A card with every field at its longest.
Card fullest_card(std::size_t number) {
  Card card(repeat("é", Reply::kMaxCardTitle - 1) + std::to_string(number));  // REQUIRES: number < 10
  card.subtitle(repeat(kSmile, Reply::kMaxCardSubtitle))
      .image("https://vendor.example/img/" + std::to_string(number) + ".png")
      .default_action("https://vendor.example/t/" + std::to_string(number))
      .button(repeat(kSmile, Reply::kMaxButtonTitle), repeat("é", Reply::kMaxPayload))
      .link_button("Open", "http://vendor.example/t/" + std::to_string(number))
      .button("Close", "CLOSE");
  return card;
}

Reply with_most_quick_replies(Reply reply) {
  for (std::size_t i = 0; i < Reply::kMaxQuickReplies; ++i) {
    reply.quick_reply(repeat("é", Reply::kMaxQuickReplyTitle - 2) + std::to_string(10 + i), repeat(kSmile, 1000));
  }
  return reply;
}

class SendApiEmulatorTest : public emulator::testing::GraphFixture {
 protected:
  json::object to_person() { return json::object{{"id", scoped(1)}}; }
};

TEST_F(SendApiEmulatorTest, EveryMessageKindIsAccepted) {
  Reply most_cards = Reply::cards();
  for (std::size_t i = 0; i < Reply::kMaxCards; ++i) most_cards.card(fullest_card(i));
  const std::vector<std::pair<std::string, Reply>> replies = {
      {"text", Reply::text("Hello")},
      {"longest text", Reply::text(repeat(kSmile, Reply::kMaxTextCharacters))},
      {"text with quick replies", with_most_quick_replies(Reply::text("Pick one"))},
      {"button template", with_most_quick_replies(Reply::text(repeat("é", Reply::kMaxButtonText))
                                                      .button("Close", "CLOSE")
                                                      .link_button("Open", "https://vendor.example/t/1")
                                                      .button(repeat(kSmile, 20), repeat(kSmile, 1000)))},
      {"one plain card", Reply::cards().card(Card("Ticket 42"))},
      {"most cards", with_most_quick_replies(std::move(most_cards))},
  };
  for (const auto& [what, reply] : replies) {
    auto message = reply.message();
    ASSERT_THAT(message, IsOk()) << what;
    const json::object body{{"recipient", to_person()}, {"message", std::move(*message)}};
    const Answer answer = post_json("/me/messages", body);
    EXPECT_EQ(answer.status, 200u) << what << ": " << answer.raw;
    EXPECT_TRUE(answer.body.is_object() && answer.body.get_object().contains("message_id")) << what << ": " << answer.raw;
  }
}

TEST_F(SendApiEmulatorTest, EverySenderActionIsAccepted) {
  for (const SenderAction action : {SenderAction::kTypingOn, SenderAction::kTypingOff, SenderAction::kMarkSeen}) {
    const json::object body{{"recipient", to_person()}, {"sender_action", sender_action_value(action)}};
    const Answer answer = post_json("/me/messages", body);
    EXPECT_EQ(answer.status, 200u) << sender_action_value(action) << ": " << answer.raw;
    EXPECT_EQ(answer.body, json::parse(R"({"recipient_id":")" + scoped(1) + R"("})"));
  }
}

TEST_F(SendApiEmulatorTest, TheMessengerProfileIsAcceptedAndStoredAsRendered) {
  const auto body = MessengerProfile()
                        .get_started(repeat(kSmile, MessengerProfile::kMaxGetStartedPayload))
                        .greeting("default", repeat("é", MessengerProfile::kMaxGreeting))
                        .greeting("fr_FR", "Bonjour !")
                        .body();
  ASSERT_THAT(body, IsOk());
  const Answer set = post_json("/me/messenger_profile", *body);
  ASSERT_EQ(set.status, 200u) << set.raw;
  EXPECT_EQ(set.body, json::parse(R"({"result":"success"})"));
  const Answer read = get("/me/messenger_profile?fields=get_started,greeting");
  ASSERT_EQ(read.status, 200u) << read.raw;
  EXPECT_EQ(read.body.at("data").at(0), json::value(*body));
}

}  // namespace
}  // namespace wik
