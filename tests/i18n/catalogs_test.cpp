// wik::Catalogs with the kit's built-in strings: every key in every shipped language, fallback,
// locale matching, and ICU's plural rules, number and date formatting per locale.
#include <wik/i18n.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "core/utf8.h"
#include "support/result_matchers.h"
#include "support/temp_dir.h"

namespace wik {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using wik::testing::IsOk;

using namespace std::chrono_literals;

// The keys the bot toolkit relies on.
const std::vector<std::string> kKitKeys = {
    "wik.greeting",        "wik.help",       "wik.help.support", "wik.not_understood", "wik.quick.help",
    "wik.quick.try_again", "wik.quick.menu", "wik.ack",          "wik.help.words",     "wik.created",
    "wik.unavailable",     "wik.admin_only", "wik.items.count"};

// 2024-03-05 23:30:00 UTC: late enough that most zones east of UTC are already on March 6.
const std::chrono::system_clock::time_point kTicketTime =
    std::chrono::sys_days{std::chrono::year{2024} / 3 / 5} + 23h + 30min;

// Narrow no-break space: French and others group digits with it.
const std::string kNnbsp = "\u202f";

std::string items(const Catalogs& catalogs, std::string_view locale, MessageArg count) {
  return catalogs.text(locale, "wik.items.count", {{"count", count}});
}

TEST(BuiltinCatalogsTest, EveryShippedLanguageHasEveryKeyWithTheSameArguments) {
  const Catalogs catalogs = Catalogs::builtin();
  EXPECT_THAT(catalogs.check(), IsOk());
  EXPECT_THAT(catalogs.locales(), ElementsAre("de", "en", "es", "fr", "ja", "pt"));
  EXPECT_EQ(catalogs.default_locale(), "en");
}

TEST(BuiltinCatalogsTest, EveryLanguageTranslatesEveryToolkitKey) {
  const Catalogs catalogs = Catalogs::builtin();
  for (const std::string& locale : catalogs.locales()) {
    for (const std::string& key : kKitKeys) {
      const std::string text = catalogs.text(locale, key, {{"count", 2}});
      EXPECT_NE(text, "[[" + key + "]]") << locale << " " << key;
      EXPECT_FALSE(text.empty()) << locale << " " << key;
      // Words like "Menu" are the same in several languages; sentences are not.
      if (locale != "en" && key == "wik.not_understood") {
        EXPECT_NE(text, catalogs.text("en", key)) << locale;
      }
    }
  }
}

TEST(BuiltinCatalogsTest, QuickReplyTitlesFitTwentyCharacters) {
  const Catalogs catalogs = Catalogs::builtin();
  for (const std::string& locale : catalogs.locales()) {
    for (const char* key : {"wik.quick.help", "wik.quick.try_again", "wik.quick.menu"}) {
      const std::string title = catalogs.text(locale, key);
      const auto length = core::utf8_length(title);
      ASSERT_TRUE(length.has_value()) << locale << " " << key;
      EXPECT_LE(*length, 20u) << locale << " " << key << ": " << title;
    }
  }
}

TEST(BuiltinCatalogsTest, HelpWordsAlwaysIncludeHelp) {
  const Catalogs catalogs = Catalogs::builtin();
  for (const std::string& locale : catalogs.locales()) {
    const std::string words = "|" + catalogs.text(locale, "wik.help.words") + "|";
    EXPECT_THAT(words, HasSubstr("|help|")) << locale;
  }
  EXPECT_EQ(catalogs.text("fr", "wik.help.words"), "aide|help|?");
}

TEST(BuiltinCatalogsTest, GreetingFillsInItsArguments) {
  const Catalogs catalogs = Catalogs::builtin();
  const MessageArgs args = {{"name", "Ana"}, {"bot", "Helpdesk"}, {"what", "Ask me about tickets."}};
  EXPECT_EQ(catalogs.text("en", "wik.greeting", args), "Hi Ana! I'm Helpdesk. Ask me about tickets.");
  EXPECT_EQ(catalogs.text("fr", "wik.greeting", args), "Bonjour Ana\u00a0! Je suis Helpdesk. Ask me about tickets.");
  EXPECT_EQ(catalogs.text("ja", "wik.greeting", args), "こんにちは、Anaさん！Helpdeskです。Ask me about tickets.");
  EXPECT_EQ(catalogs.text("en", "wik.created", {{"title", "Ticket 42"}, {"url", "https://vendor.example/t/42"}}),
            "Created: Ticket 42 https://vendor.example/t/42");
}

TEST(BuiltinCatalogsTest, ADefaultWithoutStringsOfItsOwnBecomesEnglish) {
  EXPECT_EQ(Catalogs::builtin("it").default_locale(), "en");
  EXPECT_EQ(Catalogs::builtin("not a locale").default_locale(), "en");
  const Catalogs german = Catalogs::builtin("de");
  EXPECT_EQ(german.default_locale(), "de");
  EXPECT_EQ(german.text("it", "wik.quick.help"), "Hilfe");
  const Catalogs us = Catalogs::builtin("en_US");
  EXPECT_EQ(us.default_locale(), "en_US");
  EXPECT_THAT(us.check(), IsOk());
  EXPECT_EQ(us.text("en_US", "wik.ack"), "Done.");
}

TEST(LookupTest, AMissingKeyShowsItselfWrapped) {
  const Catalogs catalogs = Catalogs::builtin();
  EXPECT_EQ(catalogs.text("fr", "tickets.nope"), "[[tickets.nope]]");
  EXPECT_EQ(catalogs.text("xx", "tickets.nope"), "[[tickets.nope]]");
}

TEST(LookupTest, UnsupportedLocalesGetTheBestMatchOrTheDefault) {
  const Catalogs catalogs = Catalogs::builtin();
  EXPECT_EQ(catalogs.text("fr_CA", "wik.ack"), "C’est fait.");
  EXPECT_EQ(catalogs.text("pt_BR", "wik.ack"), "Pronto.");
  EXPECT_EQ(catalogs.text("de-AT", "wik.ack"), "Erledigt.");
  EXPECT_EQ(catalogs.text("ko_KR", "wik.ack"), "Done.");
}

TEST(LookupTest, AnArgumentNotGivenShowsItsName) {
  const Catalogs catalogs = Catalogs::builtin();
  EXPECT_EQ(catalogs.text("en", "wik.help", {}), "Here is what I can do: {what}");
}

TEST(LookupTest, ArgumentsThatDoNotFitThePatternShowTheKey) {
  const Catalogs catalogs = Catalogs::builtin();
  EXPECT_EQ(items(catalogs, "en", "three"), "[[wik.items.count]]");
}

TEST(LookupTest, InvalidUtf8ArgumentsBecomeReplacementCharacters) {
  const Catalogs catalogs = Catalogs::builtin();
  const std::string name = "A\xff\xfe" "na\xc3";  // a stray byte, a bad lead byte, a truncated sequence
  const std::string text = catalogs.text("en", "wik.greeting", {{"name", name}, {"bot", "B\x80"}, {"what", ""}});
  EXPECT_THAT(text, HasSubstr("Hi A\uFFFD\uFFFDna\uFFFD! I'm B\uFFFD."));
  EXPECT_TRUE(core::utf8_length(text).has_value());
  EXPECT_EQ(catalogs.text("en\xff", "wik.ack"), "Done.");
}

TEST(LookupTest, IsSafeFromManyThreadsAtOnce) {
  const Catalogs catalogs = Catalogs::builtin();
  std::vector<std::thread> threads;
  std::vector<int> wrong(8, 0);
  for (std::size_t t = 0; t < wrong.size(); ++t) {
    threads.emplace_back([&catalogs, &wrong, t] {
      const Catalogs copy = catalogs;  // copies share one state
      const std::string expected[] = {"0 élément", "1 élément", "2 éléments"};
      for (std::int64_t i = 0; i < 200; ++i) {
        if (items(copy, "fr", i % 3) != expected[i % 3]) ++wrong[t];
        const MessageArgs created = {{"title", "x"}, {"url", "y"}};
        if (copy.text("de", "wik.created", created, "Europe/Berlin") != "Erstellt: x y") ++wrong[t];
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_THAT(wrong, ::testing::Each(0));
}

TEST(ResolveTest, FindsTheBestSupportedLocale) {
  const Catalogs catalogs = Catalogs::builtin();
  EXPECT_EQ(catalogs.resolve("fr"), "fr");
  EXPECT_EQ(catalogs.resolve("fr_CA"), "fr");
  EXPECT_EQ(catalogs.resolve("fr-CA"), "fr");
  EXPECT_EQ(catalogs.resolve("fr_BE"), "fr");
  EXPECT_EQ(catalogs.resolve("pt_BR"), "pt");
  EXPECT_EQ(catalogs.resolve("pt-PT"), "pt");
  EXPECT_EQ(catalogs.resolve("ja_JP"), "ja");
  EXPECT_EQ(catalogs.resolve("en_US"), "en");
  EXPECT_EQ(catalogs.resolve("en_GB"), "en");
  EXPECT_EQ(catalogs.resolve("es_MX"), "es");
  EXPECT_EQ(catalogs.resolve("de_DE.UTF-8"), "de");
  EXPECT_EQ(catalogs.resolve("de_DE@euro"), "de");
}

TEST(ResolveTest, FallsBackToTheDefaultLocale) {
  const Catalogs catalogs = Catalogs::builtin();
  EXPECT_EQ(catalogs.resolve("zh_TW"), "en");
  EXPECT_EQ(catalogs.resolve("ko"), "en");
  EXPECT_EQ(catalogs.resolve(""), "en");
  EXPECT_EQ(catalogs.resolve("C"), "en");
  EXPECT_EQ(catalogs.resolve("garbage!!"), "en");
  EXPECT_EQ(catalogs.resolve(std::string(500, 'x')), "en");
  EXPECT_EQ(Catalogs::builtin("de").resolve("zh_TW"), "de");
}

TEST(ResolveTest, PrefersARegionalCatalogWhenThereIsOne) {
  testing::TempDir dir;
  dir.write_file("fr_CA.json", R"({"app.title": "Billets"})");
  dir.write_file("pt_BR.json", R"({"app.title": "Chamados"})");
  dir.write_file("en.json", R"({"app.title": "Tickets"})");
  const auto catalogs = Catalogs::load(dir.path());
  ASSERT_THAT(catalogs, IsOk());
  EXPECT_THAT(catalogs->locales(), ElementsAre("en", "fr_CA", "pt_BR"));
  EXPECT_EQ(catalogs->resolve("fr-CA"), "fr_CA");
  EXPECT_EQ(catalogs->resolve("fr_FR"), "fr_CA");  // French at least
  EXPECT_EQ(catalogs->resolve("pt_PT"), "pt_BR");
  EXPECT_EQ(catalogs->resolve("pt"), "pt_BR");
  EXPECT_EQ(catalogs->resolve("de_DE"), "en");  // German kit strings alone would mix languages
}

TEST(PluralTest, EnglishHasOneAndOther) {
  const Catalogs catalogs = Catalogs::builtin();
  EXPECT_EQ(items(catalogs, "en", 0), "0 items");
  EXPECT_EQ(items(catalogs, "en", 1), "1 item");
  EXPECT_EQ(items(catalogs, "en", 2), "2 items");
  EXPECT_EQ(items(catalogs, "en", 1.5), "1.5 items");
  EXPECT_EQ(items(catalogs, "en", 1234567), "1,234,567 items");
}

TEST(PluralTest, FrenchCountsZeroAndOneAsOneAndRoundMillionsAsMany) {
  const Catalogs catalogs = Catalogs::builtin();
  EXPECT_EQ(items(catalogs, "fr", 0), "0 élément");
  EXPECT_EQ(items(catalogs, "fr", 1), "1 élément");
  EXPECT_EQ(items(catalogs, "fr", 2), "2 éléments");
  EXPECT_EQ(items(catalogs, "fr", 1000000), "1" + kNnbsp + "000" + kNnbsp + "000 d’éléments");
  EXPECT_EQ(items(catalogs, "pt", 0), "0 item");
  EXPECT_EQ(items(catalogs, "pt", 1000000), "1.000.000 de itens");
  EXPECT_EQ(items(catalogs, "es", 0), "0 elementos");
  EXPECT_EQ(items(catalogs, "es", 1), "1 elemento");
  EXPECT_EQ(items(catalogs, "es", 1000000), "1.000.000 de elementos");
}

TEST(PluralTest, JapaneseHasNoPlural) {
  const Catalogs catalogs = Catalogs::builtin();
  EXPECT_EQ(items(catalogs, "ja", 1), "1件");
  EXPECT_EQ(items(catalogs, "ja", 5), "5件");
}

TEST(NumberFormatTest, FollowsTheLocale) {
  const Catalogs catalogs = Catalogs::builtin();
  EXPECT_EQ(items(catalogs, "de", 1234.5), "1.234,5 Einträge");
  EXPECT_EQ(items(catalogs, "en", 1234.5), "1,234.5 items");
  EXPECT_EQ(items(catalogs, "fr", 1234.5), "1" + kNnbsp + "234,5 éléments");
}

// An integration's catalogs with dates, numbers and a date inside a plural branch.
class FormattingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_.write_file("en.json", R"({
      "ticket.opened": "Ticket #{number} opened on {date, date, medium}",
      "ticket.opened_at": "{date, time, short}",
      "ticket.amount": "{amount, number}",
      "ticket.due": "{count, plural, one {Due {date, date, long}} other {# due {date, date, long}}}"
    })");
    dir_.write_file("fr.json", R"({
      "ticket.opened": "Ticket n° {number} ouvert le {date, date, medium}",
      "ticket.opened_at": "{date, time, short}",
      "ticket.amount": "{amount, number}",
      "ticket.due": "{count, plural, one {Échéance le {date, date, long}} other {# échéances le {date, date, long}}}"
    })");
    dir_.write_file("de.json", R"({
      "ticket.opened": "Ticket {number} eröffnet am {date, date, medium}",
      "ticket.opened_at": "{date, time, short}",
      "ticket.amount": "{amount, number}",
      "ticket.due": "{count, plural, one {Fällig am {date, date, long}} other {# fällig am {date, date, long}}}"
    })");
    auto loaded = Catalogs::load(dir_.path());
    ASSERT_THAT(loaded, IsOk());
    catalogs_ = std::make_unique<Catalogs>(std::move(loaded).value());
    ASSERT_THAT(catalogs_->check(), IsOk());
  }

  std::string opened(std::string_view locale, std::string_view time_zone = Catalogs::kDefaultTimeZone) {
    return catalogs_->text(locale, "ticket.opened", {{"number", 42}, {"date", kTicketTime}}, time_zone);
  }

  testing::TempDir dir_;
  std::unique_ptr<Catalogs> catalogs_;
};

TEST_F(FormattingTest, DatesFollowTheLocaleInUtc) {
  EXPECT_EQ(opened("en"), "Ticket #42 opened on Mar 5, 2024");
  EXPECT_EQ(opened("fr"), "Ticket n° 42 ouvert le 5 mars 2024");
  EXPECT_EQ(opened("de"), "Ticket 42 eröffnet am 05.03.2024");
  EXPECT_EQ(catalogs_->text("de", "ticket.opened_at", {{"date", kTicketTime}}), "23:30");
}

TEST_F(FormattingTest, ATimeZoneArgumentMovesDatesAndTimes) {
  EXPECT_EQ(opened("en", "Asia/Tokyo"), "Ticket #42 opened on Mar 6, 2024");
  EXPECT_EQ(catalogs_->text("de", "ticket.opened_at", {{"date", kTicketTime}}, "Europe/Berlin"), "00:30");
  EXPECT_EQ(opened("en", "Nowhere/Nothing"), "Ticket #42 opened on Mar 5, 2024");
  EXPECT_EQ(opened("en", "UTC;calendar=buddhist"), "Ticket #42 opened on Mar 5, 2024");
}

TEST_F(FormattingTest, DatesInsidePluralBranchesAreInTheSameZone) {
  const MessageArgs args = {{"count", 1}, {"date", kTicketTime}};
  EXPECT_EQ(catalogs_->text("en", "ticket.due", args), "Due March 5, 2024");
  EXPECT_EQ(catalogs_->text("en", "ticket.due", args, "Asia/Tokyo"), "Due March 6, 2024");
  EXPECT_EQ(catalogs_->text("fr", "ticket.due", {{"count", 3}, {"date", kTicketTime}}), "3 échéances le 5 mars 2024");
}

TEST_F(FormattingTest, PlainNumberArgumentsAreGroupedSoIdentifiersGoAsStrings) {
  const auto opened_as = [this](MessageArg number) {
    return catalogs_->text("en", "ticket.opened", {{"number", std::move(number)}, {"date", kTicketTime}});
  };
  EXPECT_EQ(opened_as(1234), "Ticket #1,234 opened on Mar 5, 2024");
  EXPECT_EQ(opened_as("1234"), "Ticket #1234 opened on Mar 5, 2024");
}

TEST_F(FormattingTest, NumbersFollowTheLocale) {
  EXPECT_EQ(catalogs_->text("de", "ticket.amount", {{"amount", 1234.5}}), "1.234,5");
  EXPECT_EQ(catalogs_->text("en", "ticket.amount", {{"amount", 1234.5}}), "1,234.5");
  EXPECT_EQ(catalogs_->text("ja", "ticket.amount", {{"amount", 1234.5}}), "1,234.5");  // ja has no app strings: en
}

TEST_F(FormattingTest, ARegionalLocaleFormatsInItsOwnConventions) {
  dir_.write_file("fr_CA.json", R"({"ticket.opened": "Billet n° {number} ouvert le {date, date, short}"})");
  const auto catalogs = Catalogs::load(dir_.path());
  ASSERT_THAT(catalogs, IsOk());
  EXPECT_EQ(catalogs->text("fr_CA", "ticket.opened", {{"number", 42}, {"date", kTicketTime}}),
            "Billet n° 42 ouvert le 2024-03-05");
  // Inherited from fr, formatted the Canadian way.
  EXPECT_EQ(catalogs->text("fr_CA", "ticket.opened_at", {{"date", kTicketTime}}), "23 h 30");
  EXPECT_EQ(catalogs->text("fr", "ticket.opened_at", {{"date", kTicketTime}}), "23:30");
}

}  // namespace
}  // namespace wik
