#include "core/redaction.h"

#include <gtest/gtest.h>

#include <string>
#include <string_view>

namespace wik::core {
namespace {

TEST(RedactionTest, RedactsQueryAndFormParameters) {
  EXPECT_EQ(redact_secrets("GET /me?access_token=EAAB123&fields=id"), "GET /me?access_token=[redacted]&fields=id");
  EXPECT_EQ(redact_secrets("appsecret_proof=abc123&appsecret_time=1700000000"),
            "appsecret_proof=[redacted]&appsecret_time=1700000000");
  EXPECT_EQ(redact_secrets("client_id=1&client_secret=s3cr3t&code=AQD-x_y"),
            "client_id=1&client_secret=[redacted]&code=[redacted]");
  EXPECT_EQ(redact_secrets("signed_request=sig.payload"), "signed_request=[redacted]");
  EXPECT_EQ(redact_secrets("hub.mode=subscribe&hub.verify_token=tok3n&hub.challenge=42"),
            "hub.mode=subscribe&hub.verify_token=[redacted]&hub.challenge=42");
  EXPECT_EQ(redact_secrets("state=csrf123 session=abc; password=hunter2, key=k1<br> secret=x>y app_secret=z'"),
            "state=[redacted] session=[redacted]; password=[redacted], key=[redacted]<br> secret=[redacted]>y "
            "app_secret=[redacted]'");
}

TEST(RedactionTest, EachTerminatorEndsAPlainValue) {
  for (const char terminator : std::string_view("& \t\r\n\"',;<>")) {
    const std::string text = std::string("token=abc") + terminator + "rest";
    EXPECT_EQ(redact_secrets(text), std::string("token=[redacted]") + terminator + "rest") << int{terminator};
  }
  EXPECT_EQ(redact_secrets("token=abc"), "token=[redacted]");
}

TEST(RedactionTest, RedactsQuotedParameterValues) {
  EXPECT_EQ(redact_secrets(R"(password="hunter 2" user="bob")"), R"(password="[redacted]" user="bob")");
  EXPECT_EQ(redact_secrets("token='a b'"), "token='[redacted]'");
  EXPECT_EQ(redact_secrets("token=\"cut off"), "token=\"[redacted]");
}

TEST(RedactionTest, MatchesNamesInAnyCase) {
  EXPECT_EQ(redact_secrets("ACCESS_TOKEN=abc Client_Secret=def"), "ACCESS_TOKEN=[redacted] Client_Secret=[redacted]");
  EXPECT_EQ(redact_secrets(R"({"Access_Token":"abc"})"), R"({"Access_Token":"[redacted]"})");
}

TEST(RedactionTest, MatchesOnlyWholeIdentifiers) {
  for (std::string_view text : {"error_code=200", "monkey=banana", "page_access_token=x", "statement=select",
                                "tokens=3", "mykey=v", "keys=1", "session_id=9", "codes=a", "secret2=x"}) {
    EXPECT_EQ(redact_secrets(text), text);
  }
  EXPECT_EQ(redact_secrets("x-api-key=abc"), "x-api-key=[redacted]");
  EXPECT_EQ(redact_secrets("?code=abc&error_code=200"), "?code=[redacted]&error_code=200");
}

TEST(RedactionTest, RedactsJsonStringMembers) {
  EXPECT_EQ(redact_secrets(R"({"access_token":"EAAB123","token_type":"bearer","expires_in":5183944})"),
            R"({"access_token":"[redacted]","token_type":"bearer","expires_in":5183944})");
  EXPECT_EQ(redact_secrets("{ \"client_secret\" :\n  \"abc\" }"), "{ \"client_secret\" :\n  \"[redacted]\" }");
  EXPECT_EQ(redact_secrets(R"({"password":"a\"b\\","user":"bob"})"), R"({"password":"[redacted]","user":"bob"})");
  EXPECT_EQ(redact_secrets(R"({"hub.verify_token":"v"})"), R"({"hub.verify_token":"[redacted]"})");
  EXPECT_EQ(redact_secrets(R"({"session":"unterminated\"...)"), R"({"session":"[redacted])");
}

TEST(RedactionTest, LeavesJsonValuesThatAreNotStrings) {
  for (std::string_view text : {R"({"error":{"code":100,"message":"bad"}})", R"({"token":null,"key":true})",
                                R"({"state":{"nested":1},"secret":[1,2]})", R"({"code": 190})"}) {
    EXPECT_EQ(redact_secrets(text), text);
  }
}

TEST(RedactionTest, LeavesEmptyValuesAlone) {
  for (std::string_view text : {"token=", "token=&code=", R"({"token":""})", "Bearer ", "token=\"\""}) {
    EXPECT_EQ(redact_secrets(text), text);
  }
}

TEST(RedactionTest, RedactsAuthorizationCredentials) {
  EXPECT_EQ(redact_secrets("Authorization: Bearer EAAB.abc-123_x==\r\nHost: graph"),
            "Authorization: Bearer [redacted]\r\nHost: graph");
  EXPECT_EQ(redact_secrets("authorization: OAuth\tEAAB123"), "authorization: OAuth\t[redacted]");
  EXPECT_EQ(redact_secrets(R"({"Authorization":"bearer xyz"})"), R"({"Authorization":"bearer [redacted]"})");
  EXPECT_EQ(redact_secrets("Bearer-token Bearertoken oauth2 x"), "Bearer-token Bearertoken oauth2 x");
}

TEST(RedactionTest, RedactsEveryOccurrence) {
  EXPECT_EQ(redact_secrets("a?token=1&b=2 c?token=3 Bearer 4 Bearer 5"),
            "a?token=[redacted]&b=2 c?token=[redacted] Bearer [redacted] Bearer [redacted]");
}

TEST(RedactionTest, LeavesOrdinaryTextUnchanged) {
  for (std::string_view text : {"", "listening on 127.0.0.1:8080", "tokenized secretly with keys", "=&=\"\":",
                                "token", "\"token\"", "\"token\" : 5", "Bearer", "\x01\xff token \xfe"}) {
    EXPECT_EQ(redact_secrets(text), text);
  }
}

TEST(RedactionTest, IsIdempotent) {
  const std::string once =
      redact_secrets(R"(GET /x?access_token=a&code=b Authorization: Bearer c {"secret":"d\"e","key":1})");
  EXPECT_EQ(redact_secrets(once), once);
}

}  // namespace
}  // namespace wik::core
