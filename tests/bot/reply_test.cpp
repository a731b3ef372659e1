// wik::Reply and SenderAction against the Send API (PROTOCOL.md §9.1): the JSON each builder
// renders, which combinations are allowed, and text splitting. Every limit at its boundary is in
// limits_test.cpp.
#include <wik/reply.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

#include "support/result_matchers.h"

namespace wik {
namespace {

using ::testing::HasSubstr;
using wik::testing::HasError;
using wik::testing::IsOk;

// Expects `reply` to render exactly the JSON `expected`.
void expect_renders(const Reply& reply, std::string_view expected) {
  const auto message = reply.message();
  ASSERT_THAT(message, IsOk());
  EXPECT_EQ(boost::json::value(*message), boost::json::parse(expected)) << boost::json::value(*message);
}

TEST(ReplyTest, RendersTextWithQuickReplies) {
  expect_renders(Reply::text("What kind of problem?").quick_reply("Hardware", "CAT_HW"),
                 R"({"text":"What kind of problem?",
                     "quick_replies":[{"content_type":"text","title":"Hardware","payload":"CAT_HW"}]})");
}

TEST(ReplyTest, ButtonsMakeAButtonTemplate) {
  expect_renders(
      Reply::text("Ticket 42 is open").button("Close it", "CLOSE_42").link_button("Open", "https://vendor.example/t/42"),
      R"({"attachment":{"type":"template","payload":{
           "template_type":"button","text":"Ticket 42 is open","buttons":[
             {"type":"postback","title":"Close it","payload":"CLOSE_42"},
             {"type":"web_url","title":"Open","url":"https://vendor.example/t/42"}]}}})");
}

TEST(ReplyTest, QuickRepliesAccompanyAButtonTemplate) {
  expect_renders(Reply::text("Close it?").button("Yes", "CLOSE").quick_reply("Later", "LATER"),
                 R"({"attachment":{"type":"template","payload":{"template_type":"button","text":"Close it?",
                       "buttons":[{"type":"postback","title":"Yes","payload":"CLOSE"}]}},
                     "quick_replies":[{"content_type":"text","title":"Later","payload":"LATER"}]})");
}

TEST(ReplyTest, CardsMakeAGenericTemplate) {
  expect_renders(Reply::cards()
                     .card(Card("Ticket 42")
                               .subtitle("Printer jam on floor 3")
                               .image("https://vendor.example/img/42.png")
                               .default_action("https://vendor.example/t/42")
                               .button("Close", "CLOSE_42")
                               .link_button("Open", "http://vendor.example/t/42"))
                     .card(Card("Ticket 43"))
                     .quick_reply("More", "MORE"),
                 R"({"attachment":{"type":"template","payload":{"template_type":"generic","elements":[
                       {"title":"Ticket 42","subtitle":"Printer jam on floor 3",
                        "image_url":"https://vendor.example/img/42.png",
                        "default_action":{"type":"web_url","url":"https://vendor.example/t/42"},
                        "buttons":[{"type":"postback","title":"Close","payload":"CLOSE_42"},
                                   {"type":"web_url","title":"Open","url":"http://vendor.example/t/42"}]},
                       {"title":"Ticket 43"}]}},
                     "quick_replies":[{"content_type":"text","title":"More","payload":"MORE"}]})");
}

TEST(ReplyTest, EachCardFieldIsOptionalOnItsOwn) {
  expect_renders(Reply::cards().card(Card("A").subtitle("a")).card(Card("B").image("https://x.example/b.png")),
                 R"({"attachment":{"type":"template","payload":{"template_type":"generic","elements":[
                       {"title":"A","subtitle":"a"},{"title":"B","image_url":"https://x.example/b.png"}]}}})");
  expect_renders(Reply::cards().card(Card("C").default_action("https://x.example/c")),
                 R"({"attachment":{"type":"template","payload":{"template_type":"generic","elements":[
                       {"title":"C","default_action":{"type":"web_url","url":"https://x.example/c"}}]}}})");
}

TEST(ReplyTest, RefusesMixingCardsWithTextAndButtons) {
  EXPECT_THAT(Reply::cards().message(), HasError(ErrorCode::kInvalidArgument, HasSubstr("needs at least one card")));
  EXPECT_THAT(Reply::cards().card(Card("c")).button("Go", "GO").message(),
              HasError(ErrorCode::kInvalidArgument, HasSubstr("add them to its cards")));
  EXPECT_THAT(Reply::text("hi").card(Card("c")).message(),
              HasError(ErrorCode::kInvalidArgument, HasSubstr("not on a text message")));
  EXPECT_THAT(Reply::cards().card(Card("c").subtitle("")).message(),
              HasError(ErrorCode::kInvalidArgument, HasSubstr("the subtitle of card 1 is empty")));
}

TEST(ReplyTest, UrlsMustBeHttpOrHttps) {
  for (const char* bad : {"javascript:alert(1)", "ftp://x.example/f", "/relative", "https://"}) {
    EXPECT_THAT(Reply::text("b").link_button("Go", bad).message(),
                HasError(ErrorCode::kInvalidArgument, HasSubstr("a link button of the message needs an http(s) URL")))
        << bad;
    EXPECT_THAT(Reply::cards().card(Card("c").image(bad)).message(),
                HasError(ErrorCode::kInvalidArgument, HasSubstr("the image of card 1 needs an http(s) URL")))
        << bad;
    EXPECT_THAT(Reply::cards().card(Card("c").default_action(bad)).message(),
                HasError(ErrorCode::kInvalidArgument, HasSubstr("the default action of card 1 needs an http(s) URL")))
        << bad;
    EXPECT_THAT(Reply::cards().card(Card("c").link_button("Go", bad)).message(),
                HasError(ErrorCode::kInvalidArgument, HasSubstr("a link button of card 1 needs an http(s) URL")))
        << bad;
  }
}

TEST(ReplyTest, TooLongTextIsAnErrorAndNeverCut) {
  const std::string longest(Reply::kMaxTextCharacters, 'a');
  const auto message = Reply::text(longest).message();
  ASSERT_THAT(message, IsOk());
  EXPECT_EQ(message->at("text").as_string(), longest);
  EXPECT_THAT(Reply::text(longest + "b").message(),
              HasError(ErrorCode::kInvalidArgument, HasSubstr("the text has 2001 characters")));
}

TEST(ReplyTest, SplitsLongTextAtWhitespaceWithoutLosingAnything) {
  std::string text;
  for (int i = 0; i < 900; ++i) text += "word" + std::to_string(i) + " ";
  const auto pieces = Reply::split_text(text);
  ASSERT_GE(pieces.size(), 2u);
  std::string joined;
  for (const auto& piece : pieces) {
    EXPECT_THAT(Reply::text(piece).message(), IsOk());
    EXPECT_TRUE(piece.back() == ' ' || &piece == &pieces.back()) << "split inside a word";
    joined += piece;
  }
  EXPECT_EQ(joined, text);
  std::string accented;
  for (int i = 0; i < 4500; ++i) accented += "é";  // no whitespace at all: split by characters
  const auto hard = Reply::split_text(accented);
  ASSERT_EQ(hard.size(), 3u);
  EXPECT_THAT(Reply::text(hard[0]).message(), IsOk());
  EXPECT_EQ(hard[0].size(), 2 * Reply::kMaxTextCharacters);  // 2,000 characters of 2 bytes
  EXPECT_EQ(hard[0] + hard[1] + hard[2], accented);
  EXPECT_TRUE(Reply::split_text("").empty());
}

TEST(ReplyTest, TextsMakesOneMessagePerPiece) {
  std::string text;
  for (int i = 0; i < 700; ++i) text += "\xF0\x9F\x98\x80 ";  // 1,400 characters, 3,500 bytes
  text += text;
  const auto replies = Reply::texts(text);
  const auto pieces = Reply::split_text(text);
  ASSERT_EQ(replies.size(), pieces.size());
  ASSERT_EQ(replies.size(), 2u);
  for (std::size_t i = 0; i < replies.size(); ++i) {
    const auto message = replies[i].message();
    ASSERT_THAT(message, IsOk());
    EXPECT_EQ(message->at("text").as_string(), pieces[i]);
  }
  EXPECT_TRUE(Reply::texts("").empty());
}

TEST(SenderActionTest, RendersTheSendApiValues) {
  EXPECT_EQ(sender_action_value(SenderAction::kTypingOn), "typing_on");
  EXPECT_EQ(sender_action_value(SenderAction::kTypingOff), "typing_off");
  EXPECT_EQ(sender_action_value(SenderAction::kMarkSeen), "mark_seen");
}

}  // namespace
}  // namespace wik
