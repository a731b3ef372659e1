// parse_webhook on the payload shapes of PROTOCOL.md §6.4–§6.5 and on hostile bodies.
#include "webhooks/payload.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

#include "support/result_matchers.h"

namespace wik::webhooks {
namespace {

using ::testing::SizeIs;
using ::testing::StartsWith;
using wik::testing::HasError;
using wik::testing::IsOk;

TEST(ParseWebhookTest, FindsTheCommunityInEachPlaceThePlatformPutsIt) {
  const auto parsed = parse_webhook(R"({"object":"page","entry":[{"id":"2035268540053170","time":1764370000123,
    "messaging":[{"sender":{"id":"1","community":{"id":1861805427438355}},"recipient":{"id":"2"},
                  "message":{"mid":"mid.$cAAK","text":"help"}},
                 {"sender":{"id":"1","community":{"id":"1861805427438355"}},"recipient":{"id":"2"},
                  "postback":{"title":"Get Started","payload":"GET_STARTED"}},
                 {"sender":{"id":"1"},"recipient":{"id":"2","community":{"id":"77"}},
                  "message":{"mid":"m_echo","is_echo":true,"text":"bot said"}},
                 {"sender":{"id":"1","community":{"id":5}},"recipient":{"id":"2"},"read":{"watermark":1}},
                 {"sender":{"id":"1","community":{"id":5}},"recipient":{"id":"2"},"delivery":{"mids":["a"]}}]}]})");
  ASSERT_THAT(parsed, IsOk());
  ASSERT_THAT(parsed->events, SizeIs(5));
  EXPECT_EQ(parsed->events[0].community_id, "1861805427438355");
  EXPECT_EQ(parsed->events[0].field, "messages");
  EXPECT_EQ(parsed->events[0].dedupe_key, "mid:mid.$cAAK");
  EXPECT_EQ(parsed->events[1].community_id, "1861805427438355");
  EXPECT_EQ(parsed->events[1].field, "messaging_postbacks");
  EXPECT_THAT(parsed->events[1].dedupe_key, StartsWith("sha256:"));
  EXPECT_EQ(parsed->events[2].community_id, "77");
  EXPECT_EQ(parsed->events[2].field, "message_echoes");
  EXPECT_EQ(parsed->events[3].field, "message_reads");
  EXPECT_EQ(parsed->events[4].field, "message_deliveries");

  const auto changes = parse_webhook(R"({"object":"group","entry":[{"id":"179193059460974","time":1530000512,
    "changes":[{"field":"posts","value":{"community":{"id":"100024088109067"},"post_id":"1_2","verb":"add"}}]}]})");
  ASSERT_THAT(changes, IsOk());
  ASSERT_THAT(changes->events, SizeIs(1));
  EXPECT_EQ(changes->events[0].community_id, "100024088109067");
  EXPECT_EQ(changes->events[0].object, "group");
  EXPECT_EQ(changes->events[0].field, "posts");

  const auto security = parse_webhook(R"({"object":"workplace_security","entry":[{"id":"100042","time":1,
    "changes":[{"field":"admin_activity","value":{"event":"X","actor_community_id":"100042"}}]}]})");
  ASSERT_THAT(security, IsOk());
  ASSERT_THAT(security->events, SizeIs(1));
  EXPECT_EQ(security->events[0].community_id, "100042");
}

TEST(ParseWebhookTest, ThePayloadKeepsTheItemAndItsEnvelope) {
  const auto parsed = parse_webhook(R"({"object":"page","entry":[{"id":"9","time":1764370000123,
    "changes":[{"field":"mention","value":{"community":{"id":"42"},"message":"Now what","item":"post"}}]}]})");
  ASSERT_THAT(parsed, IsOk());
  ASSERT_THAT(parsed->events, SizeIs(1));
  EXPECT_EQ(boost::json::parse(parsed->events[0].payload),
            boost::json::parse(R"({"object":"page","entry_id":"9","time":1764370000123,"field":"mention",
              "item":{"field":"mention","value":{"community":{"id":"42"},"message":"Now what","item":"post"}}})"));
}

TEST(ParseWebhookTest, TheSameBytesGiveTheSameKeyAndDifferentItemsDifferentKeys) {
  const char* body = R"({"object":"group","entry":[{"id":"1","time":2,"changes":[
    {"field":"comments","value":{"community":{"id":"42"},"comment_id":"1_2","verb":"add"}},
    {"field":"comments","value":{"community":{"id":"42"},"comment_id":"1_3","verb":"add"}}]}]})";
  const auto first = parse_webhook(body);
  const auto again = parse_webhook(body);
  ASSERT_THAT(first, IsOk());
  ASSERT_THAT(again, IsOk());
  EXPECT_EQ(first->events[0].dedupe_key, again->events[0].dedupe_key);
  EXPECT_NE(first->events[0].dedupe_key, first->events[1].dedupe_key);
}

TEST(ParseWebhookTest, SkipsWhatItCannotRouteAndCountsIt) {
  const auto parsed = parse_webhook(R"({"object":"page","entry":[{"id":"1","time":2,
    "messaging":[{"sender":{"id":"1"},"recipient":{"id":"2"},"message":{"mid":"m","text":"no community"}},
                 {"sender":{"id":"1","community":{"id":"x1"}},"message":{"mid":"m2"}},
                 {"sender":{"id":"1","community":{"id":5}},"game_play":{}}]}]})");
  ASSERT_THAT(parsed, IsOk());
  EXPECT_TRUE(parsed->events.empty());
  EXPECT_EQ(parsed->skipped_without_community, 2u);
  EXPECT_EQ(parsed->skipped_unknown, 1u);

  const auto unknown_object = parse_webhook(R"({"object":"instagram","entry":[{"id":"1","changes":[
    {"field":"x","value":{"community":{"id":"5"}}}]}]})");
  ASSERT_THAT(unknown_object, IsOk());
  EXPECT_EQ(unknown_object->skipped_unknown, 1u);
}

TEST(ParseWebhookTest, RefusesBodiesThatAreNotTheEnvelope) {
  for (const char* body : {"", "[]", "{", R"({"object":"page"})", R"({"entry":[]})", R"({"object":7,"entry":[]})",
                           R"({"object":"page","entry":{}})", R"({"object":"page","entry":[1]})",
                           R"({"object":"page","entry":[{"changes":{}}]})",
                           R"({"object":"page","entry":[{"messaging":[1]}]})"}) {
    EXPECT_THAT(parse_webhook(body), HasError(ErrorCode::kMalformed)) << body;
  }
  EXPECT_THAT(parse_webhook(R"({"object":"page","entry":[{"changes":[{},{},{}]}]})", 2), HasError(ErrorCode::kTooLarge));
}

}  // namespace
}  // namespace wik::webhooks
