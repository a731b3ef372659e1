// wik::Reply against the Send API's limits (PROTOCOL.md §9.1): what renders, and every limit named.
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

TEST(ReplyTest, RendersTextWithQuickReplies) {
  const auto message = Reply::text("What kind of problem?").quick_reply("Hardware", "CAT_HW").message();
  ASSERT_THAT(message, IsOk());
  EXPECT_EQ(boost::json::value(*message), boost::json::parse(R"({"text":"What kind of problem?",
    "quick_replies":[{"content_type":"text","title":"Hardware","payload":"CAT_HW"}]})"));
}

TEST(ReplyTest, ButtonsMakeAButtonTemplate) {
  const auto message =
      Reply::text("Ticket 42 is open").button("Close it", "CLOSE_42").link_button("Open", "https://vendor.example/t/42").message();
  ASSERT_THAT(message, IsOk());
  EXPECT_EQ(boost::json::value(*message), boost::json::parse(R"({"attachment":{"type":"template","payload":{
    "template_type":"button","text":"Ticket 42 is open","buttons":[
      {"type":"postback","title":"Close it","payload":"CLOSE_42"},
      {"type":"web_url","title":"Open","url":"https://vendor.example/t/42"}]}}})"));
}

TEST(ReplyTest, NamesEveryLimitItBreaks) {
  EXPECT_THAT(Reply::text("").message(), HasError(ErrorCode::kInvalidArgument, HasSubstr("the text is empty")));
  EXPECT_THAT(Reply::text(std::string(2001, 'a')).message(),
              HasError(ErrorCode::kInvalidArgument, HasSubstr("2001 characters; the platform allows 2000")));
  EXPECT_THAT(Reply::text(std::string(641, 'a')).button("Ok", "OK").message(),
              HasError(ErrorCode::kInvalidArgument, HasSubstr("allows 640")));
  auto many = Reply::text("pick");
  for (int i = 0; i < 14; ++i) many.quick_reply("q" + std::to_string(i), "P");
  EXPECT_THAT(many.message(), HasError(ErrorCode::kInvalidArgument, HasSubstr("at most 13 quick replies")));
  EXPECT_THAT(Reply::text("pick").quick_reply(std::string(21, 'x'), "P").message(),
              HasError(ErrorCode::kInvalidArgument, HasSubstr("quick reply title")));
  EXPECT_THAT(Reply::text("pick").quick_reply("x", std::string(1001, 'p')).message(),
              HasError(ErrorCode::kInvalidArgument, HasSubstr("quick reply payload")));
  EXPECT_THAT(Reply::text("b").button("1", "1").button("2", "2").button("3", "3").button("4", "4").message(),
              HasError(ErrorCode::kInvalidArgument, HasSubstr("at most 3 buttons")));
  EXPECT_THAT(Reply::text("b").link_button("Go", "javascript:alert(1)").message(),
              HasError(ErrorCode::kInvalidArgument, HasSubstr("http(s) URL")));
  EXPECT_THAT(Reply::text("\xff").message(), HasError(ErrorCode::kInvalidArgument, HasSubstr("UTF-8")));
}

TEST(ReplyTest, CountsCharactersNotBytes) {
  std::string accented;
  for (int i = 0; i < 2000; ++i) accented += "é";
  EXPECT_THAT(Reply::text(accented).message(), IsOk());
  EXPECT_THAT(Reply::text(accented + "é").message(), HasError(ErrorCode::kInvalidArgument));
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
  EXPECT_EQ(hard[0] + hard[1] + hard[2], accented);
  EXPECT_TRUE(Reply::split_text("").empty());
}

}  // namespace
}  // namespace wik
