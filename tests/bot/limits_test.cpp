// Every length and count limit of the bot's builders at its boundary (PROTOCOL.md §9.1, §9.3):
// exactly at the limit renders, one past it is kInvalidArgument naming the field and the limit.
// Lengths are tried with 1-, 2- and 4-byte characters, so they are counted as characters, not bytes.
#include <wik/messenger_profile.h>
#include <wik/reply.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <functional>

#include "support/result_matchers.h"

namespace wik {
namespace {

namespace json = boost::json;
using ::testing::AllOf;
using ::testing::HasSubstr;
using wik::testing::HasError;
using wik::testing::IsOk;

using Render = std::function<Result<json::object>(const std::string&)>;

struct LengthLimit {
  std::string name;   // for the test's name
  std::size_t max;    // in characters
  Render render;      // renders a message or body with the string in the field under test
  std::string field;  // how the error names the field
};

void PrintTo(const LengthLimit& limit, std::ostream* out) { *out << limit.name; }

std::string repeat(std::string_view character, std::size_t count) {
  std::string text;
  for (std::size_t i = 0; i < count; ++i) text += character;
  return text;
}

template <class Limit>
std::string name_of(const ::testing::TestParamInfo<Limit>& param) {
  return param.param.name;
}

class LengthLimitTest : public ::testing::TestWithParam<LengthLimit> {};

TEST_P(LengthLimitTest, AtTheLimitPassesAndOnePastFailsNamingIt) {
  const LengthLimit& limit = GetParam();
  for (const std::string_view character : {"a", "é", "\xF0\x9F\x98\x80"}) {
    EXPECT_THAT(limit.render(repeat(character, limit.max)), IsOk()) << character;
    EXPECT_THAT(limit.render(repeat(character, limit.max + 1)),
                HasError(ErrorCode::kInvalidArgument,
                         AllOf(HasSubstr(limit.field), HasSubstr("has " + std::to_string(limit.max + 1) +
                                                                 " characters; the platform allows " +
                                                                 std::to_string(limit.max)))))
        << character;
  }
}

TEST_P(LengthLimitTest, EmptyAndInvalidUtf8AreRefusedNamingTheField) {
  const LengthLimit& limit = GetParam();
  EXPECT_THAT(limit.render(""), HasError(ErrorCode::kInvalidArgument, HasSubstr(limit.field + " is empty")));
  for (const char* bad : {"\xff", "ok\xE2\x82", "\xC0\xAF", "\xED\xA0\x80"}) {
    EXPECT_THAT(limit.render(bad), HasError(ErrorCode::kInvalidArgument, HasSubstr(limit.field + " is not valid UTF-8")))
        << ::testing::PrintToString(std::string(bad));
  }
}

Render card_with(const std::function<Card(const std::string&)>& make) {
  return [make](const std::string& text) { return Reply::cards().card(Card("first")).card(make(text)).message(); };
}

INSTANTIATE_TEST_SUITE_P(
    Builders, LengthLimitTest,
    ::testing::Values(
        LengthLimit{"Text", 2000, [](const std::string& text) { return Reply::text(text).message(); }, "the text"},
        LengthLimit{"ButtonTemplateText", 640,
                    [](const std::string& text) { return Reply::text(text).button("Ok", "OK").message(); },
                    "the text of a button template"},
        LengthLimit{"ButtonTitle", 20, [](const std::string& text) { return Reply::text("x").button(text, "P").message(); },
                    "a button title of the message"},
        LengthLimit{"LinkButtonTitle", 20,
                    [](const std::string& text) { return Reply::text("x").link_button(text, "https://a.example/").message(); },
                    "a button title of the message"},
        LengthLimit{"ButtonPayload", 1000,
                    [](const std::string& text) { return Reply::text("x").button("Go", text).message(); },
                    "a button payload of the message"},
        LengthLimit{"QuickReplyTitle", 20,
                    [](const std::string& text) { return Reply::text("x").quick_reply(text, "P").message(); },
                    "a quick reply title"},
        LengthLimit{"QuickReplyPayload", 1000,
                    [](const std::string& text) { return Reply::text("x").quick_reply("Q", text).message(); },
                    "a quick reply payload"},
        LengthLimit{"CardTitle", 80, card_with([](const std::string& text) { return Card(text); }), "the title of card 2"},
        LengthLimit{"CardSubtitle", 80, card_with([](const std::string& text) { return Card("c").subtitle(text); }),
                    "the subtitle of card 2"},
        LengthLimit{"CardButtonTitle", 20, card_with([](const std::string& text) { return Card("c").button(text, "P"); }),
                    "a button title of card 2"},
        LengthLimit{"CardButtonPayload", 1000,
                    card_with([](const std::string& text) { return Card("c").button("Go", text); }),
                    "a button payload of card 2"},
        LengthLimit{"Greeting", 160,
                    [](const std::string& text) { return MessengerProfile().greeting("default", text).body(); },
                    "the greeting for locale default"},
        LengthLimit{"LocalGreeting", 160,
                    [](const std::string& text) {
                      return MessengerProfile().greeting("default", "Hi").greeting("fr_FR", text).body();
                    },
                    "the greeting for locale fr_FR"},
        LengthLimit{"GetStartedPayload", 1000,
                    [](const std::string& text) { return MessengerProfile().get_started(text).body(); },
                    "the get_started payload"}),
    name_of<LengthLimit>);

struct CountLimit {
  std::string name;
  std::size_t max;
  std::function<Result<json::object>(std::size_t)> render;  // renders a message with that many items
  std::string error;  // how the error names the owner and the items ("the message has N quick replies")
};

void PrintTo(const CountLimit& limit, std::ostream* out) { *out << limit.name; }

// Renders `base` with that many quick replies.
std::function<Result<json::object>(std::size_t)> with_quick_replies(Reply base) {
  return [base](std::size_t count) {
    auto reply = base;
    for (std::size_t i = 0; i < count; ++i) reply.quick_reply("q" + std::to_string(i), "P");
    return reply.message();
  };
}

class CountLimitTest : public ::testing::TestWithParam<CountLimit> {};

TEST_P(CountLimitTest, AtTheLimitPassesAndOnePastFailsNamingIt) {
  const CountLimit& limit = GetParam();
  EXPECT_THAT(limit.render(limit.max), IsOk());
  EXPECT_THAT(limit.render(limit.max + 1),
              HasError(ErrorCode::kInvalidArgument,
                       HasSubstr(limit.error + "; the platform allows at most " + std::to_string(limit.max))));
}

INSTANTIATE_TEST_SUITE_P(
    Builders, CountLimitTest,
    ::testing::Values(
        CountLimit{"QuickReplies", 13, with_quick_replies(Reply::text("pick")), "the message has 14 quick replies"},
        CountLimit{"QuickRepliesOnAButtonTemplate", 13, with_quick_replies(Reply::text("pick").button("b", "B")),
                   "the message has 14 quick replies"},
        CountLimit{"QuickRepliesOnCards", 13, with_quick_replies(Reply::cards().card(Card("c"))),
                   "the message has 14 quick replies"},
        CountLimit{"TemplateButtons", 3,
                   [](std::size_t count) {
                     auto reply = Reply::text("pick");
                     for (std::size_t i = 0; i < count; ++i) reply.button("b" + std::to_string(i), "P");
                     return reply.message();
                   },
                   "the message has 4 buttons"},
        CountLimit{"Cards", 10,
                   [](std::size_t count) {
                     auto reply = Reply::cards();
                     for (std::size_t i = 0; i < count; ++i) reply.card(Card("c" + std::to_string(i)));
                     return reply.message();
                   },
                   "the message has 11 cards"},
        CountLimit{"CardButtons", 3,
                   [](std::size_t count) {
                     Card card("c");
                     for (std::size_t i = 0; i < count; ++i) card.link_button("b", "https://a.example/" + std::to_string(i));
                     return Reply::cards().card(Card("first")).card(std::move(card)).message();
                   },
                   "card 2 has 4 buttons"}),
    name_of<CountLimit>);

}  // namespace
}  // namespace wik
