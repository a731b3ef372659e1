// wik::MessengerProfile (PROTOCOL.md §9.3): the body of POST /me/messenger_profile exactly as the
// platform documents it, and what it refuses. Length limits at their boundary are in limits_test.cpp.
#include <wik/messenger_profile.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

#include "support/result_matchers.h"

namespace wik {
namespace {

using ::testing::HasSubstr;
using wik::testing::HasError;
using wik::testing::IsOk;

TEST(MessengerProfileTest, RendersTheDocumentedBody) {
  const auto body = MessengerProfile()
                        .get_started("GET_STARTED")
                        .greeting("default", "Hi! I file expenses.")
                        .greeting("fr_FR", "Bonjour !")
                        .body();
  ASSERT_THAT(body, IsOk());
  EXPECT_EQ(boost::json::value(*body), boost::json::parse(R"({"get_started":{"payload":"GET_STARTED"},
    "greeting":[{"locale":"default","text":"Hi! I file expenses."},{"locale":"fr_FR","text":"Bonjour !"}]})"));
}

TEST(MessengerProfileTest, EachPartStandsAlone) {
  const auto started = MessengerProfile().get_started("GO").body();
  ASSERT_THAT(started, IsOk());
  EXPECT_EQ(boost::json::value(*started), boost::json::parse(R"({"get_started":{"payload":"GO"}})"));
  const auto greeted = MessengerProfile().greeting("default", "Hi").body();
  ASSERT_THAT(greeted, IsOk());
  EXPECT_EQ(boost::json::value(*greeted), boost::json::parse(R"({"greeting":[{"locale":"default","text":"Hi"}]})"));
}

TEST(MessengerProfileTest, ASecondGreetingForALocaleReplacesTheFirstInPlace) {
  const auto body =
      MessengerProfile().greeting("default", "Hi").greeting("de_DE", "Hallo").greeting("default", "Hello").body();
  ASSERT_THAT(body, IsOk());
  EXPECT_EQ(boost::json::value(*body), boost::json::parse(R"({"greeting":[
    {"locale":"default","text":"Hello"},{"locale":"de_DE","text":"Hallo"}]})"));
}

TEST(MessengerProfileTest, RefusesWhatThePlatformWould) {
  EXPECT_THAT(MessengerProfile().body(),
              HasError(ErrorCode::kInvalidArgument, HasSubstr("needs a get_started payload or a greeting")));
  EXPECT_THAT(MessengerProfile().greeting("fr_FR", "Bonjour").body(),
              HasError(ErrorCode::kInvalidArgument, HasSubstr("need one for the \"default\" locale")));
  for (const char* bad : {"fr-FR", "FR_fr", "fr", "fr_FRA", "f_FR", "", "Default"}) {
    EXPECT_THAT(MessengerProfile().greeting("default", "Hi").greeting(bad, "x").body(),
                HasError(ErrorCode::kInvalidArgument, HasSubstr("is neither \"default\" nor a locale such as fr_FR")))
        << bad;
  }
  EXPECT_THAT(MessengerProfile().greeting("default", "Hi").greeting("fil_PH", "Kumusta").body(), IsOk());
}

}  // namespace
}  // namespace wik
