// Catalogs::load and Catalogs::check: an integration's folder adding and overriding keys, every kind
// of bad input named by file and key, and check() naming every missing or mismatched translation.
#include <wik/i18n.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "i18n/catalog_file.h"
#include "support/result_matchers.h"
#include "support/temp_dir.h"

namespace wik {
namespace {

using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using wik::testing::HasError;
using wik::testing::IsOk;

class CatalogLoadTest : public ::testing::Test {
 protected:
  // Writes catalog `name` and returns the path load() reports it under.
  std::string write(const std::string& name, const std::string& json) { return dir_.write_file(name, json).string(); }

  Result<Catalogs> load(std::string default_locale = "en") {
    return Catalogs::load(dir_.path(), std::move(default_locale));
  }

  testing::TempDir dir_;
};

TEST_F(CatalogLoadTest, AddsKeysAndOverridesTheKits) {
  write("en.json", R"({"tickets.count": "{count, plural, one {# ticket} other {# tickets}}", "wik.ack": "On it!"})");
  write("fr.json",
        R"({"tickets.count": "{count, plural, one {# ticket} other {# tickets}}", "wik.ack": "C’est noté."})");
  write("README.md", "not a catalog");
  std::filesystem::create_directory(dir_.path() / "old.json");
  const auto catalogs = load();
  ASSERT_THAT(catalogs, IsOk());
  EXPECT_THAT(catalogs->locales(), ElementsAre("en", "fr"));
  EXPECT_THAT(catalogs->check(), IsOk());
  EXPECT_EQ(catalogs->text("en", "tickets.count", {{"count", 1}}), "1 ticket");
  EXPECT_EQ(catalogs->text("fr", "tickets.count", {{"count", 0}}), "0 ticket");
  EXPECT_EQ(catalogs->text("en", "wik.ack"), "On it!");
  EXPECT_EQ(catalogs->text("fr", "wik.ack"), "C’est noté.");
  EXPECT_EQ(catalogs->text("fr", "wik.quick.help"), "Aide");  // the kit's, untouched
}

TEST_F(CatalogLoadTest, FallsBackFromRegionToLanguageToDefault) {
  write("en.json", R"({"a": "en a", "b": "en b", "c": "en c"})");
  write("fr.json", R"({"a": "fr a", "b": "fr b"})");
  write("fr_CA.json", R"({"a": "fr_CA a"})");
  const auto catalogs = load();
  ASSERT_THAT(catalogs, IsOk());
  EXPECT_EQ(catalogs->text("fr_CA", "a"), "fr_CA a");
  EXPECT_EQ(catalogs->text("fr_CA", "b"), "fr b");
  EXPECT_EQ(catalogs->text("fr_CA", "c"), "en c");
  EXPECT_EQ(catalogs->text("fr-CA", "b"), "fr b");
  EXPECT_EQ(catalogs->text("fr", "a"), "fr a");
  EXPECT_EQ(catalogs->text("fr_CA", "d"), "[[d]]");
  EXPECT_EQ(catalogs->text("fr_CA", "wik.quick.help"), "Aide");
}

TEST_F(CatalogLoadTest, AnEmptyFolderSupportsTheDefaultLocaleOnly) {
  const auto catalogs = load();
  ASSERT_THAT(catalogs, IsOk());
  EXPECT_THAT(catalogs->locales(), ElementsAre("en"));
  EXPECT_EQ(catalogs->text("fr", "wik.ack"), "Done.");
}

TEST_F(CatalogLoadTest, TheDefaultLocaleCanBeAnother) {
  write("de.json", R"({"app.title": "Tickets"})");
  const auto catalogs = load("de");
  ASSERT_THAT(catalogs, IsOk());
  EXPECT_EQ(catalogs->default_locale(), "de");
  EXPECT_EQ(catalogs->text("ja", "wik.quick.help"), "Hilfe");
  EXPECT_THAT(catalogs->check(), IsOk());
}

TEST_F(CatalogLoadTest, RejectsAMissingFolder) {
  EXPECT_THAT(Catalogs::load(dir_.path() / "nope"), HasError(ErrorCode::kNotFound, HasSubstr("nope")));
}

TEST_F(CatalogLoadTest, RejectsInvalidJson) {
  const std::string file = write("fr.json", R"({"a": "b",})");
  EXPECT_THAT(load(), HasError(ErrorCode::kMalformed, HasSubstr(file + ": not valid JSON")));
}

TEST_F(CatalogLoadTest, RejectsInvalidUtf8) {
  const std::string file = write("fr.json", "{\"a\": \"caf\xe9\"}");
  EXPECT_THAT(load(), HasError(ErrorCode::kMalformed, HasSubstr(file + ": not valid JSON")));
}

TEST_F(CatalogLoadTest, RejectsAnythingButAnObject) {
  const std::string file = write("fr.json", R"(["a", "b"])");
  EXPECT_THAT(load(), HasError(ErrorCode::kMalformed, HasSubstr(file + ": not a JSON object but an array")));
}

TEST_F(CatalogLoadTest, RejectsValuesThatAreNotStrings) {
  const std::string file = write("fr.json", R"({"tickets.count": 3, "tickets.title": {"one": "x"}, "ok": "fine"})");
  EXPECT_THAT(load(), HasError(ErrorCode::kInvalidArgument,
                               AllOf(HasSubstr(file + ": tickets.count: the value is a number, not a string"),
                                     HasSubstr(file + ": tickets.title: the value is an object, not a string"),
                                     Not(HasSubstr("ok")))));
}

TEST_F(CatalogLoadTest, RejectsBadKeys) {
  const std::string file = write("fr.json", R"({"Tickets.Count": "x", "a b": "y", "": "z", "ok.key_2": "fine"})");
  EXPECT_THAT(load(), HasError(ErrorCode::kInvalidArgument,
                               AllOf(HasSubstr(file + ": \"Tickets.Count\": not a message key"),
                                     HasSubstr(file + ": \"a b\": not a message key"),
                                     HasSubstr(file + ": \"\": not a message key"), Not(HasSubstr("ok.key_2")))));
}

TEST_F(CatalogLoadTest, RejectsFilesNotNamedAfterALocale) {
  for (const char* name : {"french.json", "fr-CA.json", "FR.json", "fr_ca.json", "fr_CA_x.json"}) {
    testing::TempDir dir;
    const std::string file = dir.write_file(name, "{}").string();
    EXPECT_THAT(Catalogs::load(dir.path()),
                HasError(ErrorCode::kInvalidArgument, HasSubstr(file + ": not named after a locale")))
        << name;
  }
}

TEST_F(CatalogLoadTest, RejectsPatternsIcuCannotParse) {
  const std::string file = write("fr.json", R"({
    "no_other": "{count, plural, one {# ticket}}",
    "unclosed": "Bonjour {name",
    "bad_type": "{when, sometime}",
    "bad_plural": "Ticket {n} and {count, plural one {x} other {y}}",
    "good": "{count, plural, one {# ticket} other {# tickets}}"
  })");
  EXPECT_THAT(load(), HasError(ErrorCode::kInvalidArgument,
                               AllOf(HasSubstr(file + ": no_other: ICU rejects the pattern: a plural or select "
                                                      "without an 'other' case (U_DEFAULT_KEYWORD_MISSING)"),
                                     HasSubstr(file + ": unclosed: ICU rejects the pattern: a '{' without its '}'"),
                                     HasSubstr(file + ": bad_type: ICU rejects the pattern: an unknown argument type"),
                                     HasSubstr(file + ": bad_plural: ICU rejects the pattern: a syntax error near "
                                                      "character 16"),
                                     Not(HasSubstr("good")))));
}

TEST_F(CatalogLoadTest, RejectsFilesOverOneMebibyte) {
  std::string json = R"({"a": ")";
  json += std::string(Catalogs::kMaxFileBytes, 'x') + "\"}";
  const std::string file = write("fr.json", json);
  EXPECT_THAT(load(), HasError(ErrorCode::kTooLarge, HasSubstr(file + ": larger than the limit of 1048576 bytes")));
  // Exactly at the limit is fine.
  write("fr.json", R"({"a": ")" + std::string(Catalogs::kMaxFileBytes - 10, 'x') + "\"}");
  EXPECT_THAT(load(), IsOk());
}

TEST_F(CatalogLoadTest, ListsEveryProblemOfEveryFileAtOnce) {
  const std::string de = write("de.json", "{");
  const std::string fr = write("fr.json", R"({"Bad": "x", "worse": 1})");
  const auto loaded = load();
  EXPECT_THAT(loaded, HasError(ErrorCode::kMalformed,
                               AllOf(HasSubstr(de + ": not valid JSON"), HasSubstr(fr + ": \"Bad\": not a message key"),
                                     HasSubstr(fr + ": worse: the value is a number"))));
}

TEST_F(CatalogLoadTest, RejectsADefaultLocaleWithoutACatalog) {
  write("fr.json", "{}");
  EXPECT_THAT(load("it"), HasError(ErrorCode::kInvalidArgument, HasSubstr("it.json: missing: the default locale")));
  EXPECT_THAT(load("english"), HasError(ErrorCode::kInvalidArgument, HasSubstr("\"english\" is not a locale name")));
  EXPECT_THAT(load("en_US"), IsOk());  // inherits the kit's en
}

TEST_F(CatalogLoadTest, CheckNamesTheFileAndKeyOfAMissingTranslation) {
  write("en.json", R"({"tickets.title": "Tickets", "tickets.count": "{count, number} tickets"})");
  const std::string fr = write("fr.json", R"({"tickets.title": "Billets"})");
  const auto catalogs = load();
  ASSERT_THAT(catalogs, IsOk());
  EXPECT_THAT(catalogs->check(), HasError(ErrorCode::kInvalidArgument,
                                          HasSubstr(fr + ": tickets.count: missing (the default locale en has it)")));
}

TEST_F(CatalogLoadTest, CheckNamesArgumentsThatDiffer) {
  write("en.json", R"({"ticket.opened": "Ticket {number} opened on {date, date}"})");
  const std::string fr = write("fr.json", R"({"ticket.opened": "Billet {num} ouvert le {date, date}"})");
  const auto catalogs = load();
  ASSERT_THAT(catalogs, IsOk());
  EXPECT_THAT(catalogs->check(),
              HasError(ErrorCode::kInvalidArgument,
                       HasSubstr(fr + ": ticket.opened: uses the arguments {date, num} where en uses {date, number}")));
}

TEST_F(CatalogLoadTest, CheckNamesKeysTheDefaultLocaleLacks) {
  write("en.json", R"({"a": "A"})");
  const std::string fr = write("fr.json", R"({"a": "A", "typo": "B"})");
  const auto catalogs = load();
  ASSERT_THAT(catalogs, IsOk());
  EXPECT_THAT(catalogs->check(),
              HasError(ErrorCode::kInvalidArgument, HasSubstr(fr + ": typo: not in the default locale en")));
}

TEST_F(CatalogLoadTest, CheckCountsKeysARegionInheritsFromItsLanguage) {
  write("en.json", R"({"a": "A", "b": "B"})");
  write("fr.json", R"({"a": "A", "b": "B"})");
  write("fr_CA.json", R"({"b": "B canadien"})");
  const auto catalogs = load();
  ASSERT_THAT(catalogs, IsOk());
  EXPECT_THAT(catalogs->check(), IsOk());
}

TEST_F(CatalogLoadTest, CheckAsksALanguageTheKitLacksForTheKitsKeysToo) {
  write("en.json", R"({"a": "A"})");
  const std::string it = write("it.json", R"({"a": "A"})");
  const auto catalogs = load();
  ASSERT_THAT(catalogs, IsOk());
  EXPECT_THAT(catalogs->check(), HasError(ErrorCode::kInvalidArgument,
                                          AllOf(HasSubstr(it + ": wik.greeting: missing"),
                                                HasSubstr(it + ": wik.items.count: missing"))));
  EXPECT_EQ(catalogs->text("it", "wik.ack"), "Done.");
}

TEST_F(CatalogLoadTest, CheckListsEveryProblemAtOnce) {
  write("en.json", R"({"a": "{x}", "b": "B"})");
  const std::string de = write("de.json", R"({"a": "{y}"})");
  const std::string fr = write("fr.json", R"({"b": "B"})");
  const auto catalogs = load();
  ASSERT_THAT(catalogs, IsOk());
  EXPECT_THAT(catalogs->check(), HasError(ErrorCode::kInvalidArgument,
                                          AllOf(HasSubstr(de + ": a: uses the arguments {y} where en uses {x}"),
                                                HasSubstr(de + ": b: missing"), HasSubstr(fr + ": a: missing"))));
}

TEST(CatalogFileTest, KnowsLocaleNames) {
  for (const char* name : {"en", "fr_CA", "pt_BR", "zh_Hant_TW", "zh_Hant", "es_419", "ast"}) {
    EXPECT_TRUE(i18n::is_locale_name(name)) << name;
  }
  for (const char* name :
       {"", "e", "english", "fr-CA", "fr_ca", "FR", "fr_CA_", "_CA", "zh_hant_TW", "es_41", "fr__CA"}) {
    EXPECT_FALSE(i18n::is_locale_name(name)) << name;
  }
}

TEST(CatalogFileTest, ChainsALocaleToItsAncestors) {
  EXPECT_THAT(i18n::locale_chain("zh_Hant_TW"), ElementsAre("zh_Hant_TW", "zh_Hant", "zh"));
  EXPECT_THAT(i18n::locale_chain("fr"), ElementsAre("fr"));
}

}  // namespace
}  // namespace wik
