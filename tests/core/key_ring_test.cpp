#include "core/key_ring.h"

#include <gtest/gtest.h>

#include "core/base64url.h"
#include "support/result_matchers.h"

namespace wik::core {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using wik::testing::HasError;
using wik::testing::IsOk;

std::string key_text(char fill) { return base64url_encode(Bytes(32, fill)); }

TEST(KeyRingTest, ParsesKeysAndActiveLine) {
  const std::string text = "# comment\n\nkey k1 " + key_text('a') + "\nkey k2 " + key_text('b') + "\r\nactive k2\n";
  auto ring = KeyRing::parse(text);
  ASSERT_THAT(ring, IsOk());
  EXPECT_EQ(ring->active_key_id(), "k2");
  EXPECT_THAT(ring->key_ids(), ElementsAre("k1", "k2"));
  ASSERT_NE(ring->find("k1"), nullptr);
  EXPECT_EQ(ring->find("k1")->expose(), Bytes(32, 'a'));
  EXPECT_EQ(ring->find("k3"), nullptr);
}

TEST(KeyRingTest, AcceptsSemicolonsForLineBreaks) {
  auto ring = KeyRing::parse("key k1 " + key_text('a') + "; active k1");
  ASSERT_THAT(ring, IsOk());
  EXPECT_EQ(ring->active_key_id(), "k1");
}

TEST(KeyRingTest, RoundTripsThroughSerialize) {
  KeyRing ring = KeyRing::generate("first");
  ASSERT_THAT(ring.rotate_to("second"), IsOk());
  auto again = KeyRing::parse(ring.serialize().expose());
  ASSERT_THAT(again, IsOk());
  EXPECT_EQ(again->active_key_id(), "second");
  EXPECT_EQ(again->find("first")->expose(), ring.find("first")->expose());
  EXPECT_NE(ring.find("first")->expose(), ring.find("second")->expose());
}

TEST(KeyRingTest, ReportsEachProblemWithItsLineButNotTheKey) {
  const std::string material = key_text('z');
  EXPECT_THAT(KeyRing::parse(""), HasError(ErrorCode::kConfig, HasSubstr("no keys")));
  EXPECT_THAT(KeyRing::parse("key k1 " + material), HasError(ErrorCode::kConfig, HasSubstr("no 'active")));
  EXPECT_THAT(KeyRing::parse("key k1 " + material + "\nactive k9"),
              HasError(ErrorCode::kConfig, HasSubstr("'k9' is not in the ring")));
  EXPECT_THAT(KeyRing::parse("key k1 " + material + "\nkey k1 " + material + "\nactive k1"),
              HasError(ErrorCode::kConfig, HasSubstr("line 2")));
  EXPECT_THAT(KeyRing::parse("key k1 " + base64url_encode("short") + "\nactive k1"),
              HasError(ErrorCode::kConfig, HasSubstr("not 32 bytes")));
  EXPECT_THAT(KeyRing::parse("key k1 !!!\nactive k1"), HasError(ErrorCode::kConfig, HasSubstr("line 1")));
  EXPECT_THAT(KeyRing::parse("key bad.id " + material + "\nactive bad.id"),
              HasError(ErrorCode::kConfig, HasSubstr("key id must be")));
  EXPECT_THAT(KeyRing::parse("active k1\nactive k1"), HasError(ErrorCode::kConfig, HasSubstr("second 'active'")));
  EXPECT_THAT(KeyRing::parse("keys k1 " + material), HasError(ErrorCode::kConfig, HasSubstr("expected")));
  EXPECT_THAT(KeyRing::parse("key k1 " + material + " extra\nactive k1"),
              HasError(ErrorCode::kConfig, Not(HasSubstr(material))));
}

TEST(KeyRingTest, RotationKeepsOldKeysAndRefusesDuplicates) {
  KeyRing ring = KeyRing::generate("k1");
  ASSERT_THAT(ring.rotate_to("k2"), IsOk());
  EXPECT_EQ(ring.active_key_id(), "k2");
  EXPECT_NE(ring.find("k1"), nullptr);
  EXPECT_THAT(ring.rotate_to("k1"), HasError(ErrorCode::kConflict));
  EXPECT_EQ(ring.active_key_id(), "k2");
  EXPECT_THAT(ring.set_active("nope"), HasError(ErrorCode::kNotFound));
}

TEST(KeyRingTest, ValidatesKeyIds) {
  EXPECT_TRUE(is_valid_key_id("2026-11_a"));
  EXPECT_FALSE(is_valid_key_id(""));
  EXPECT_FALSE(is_valid_key_id(std::string(33, 'a')));
  EXPECT_FALSE(is_valid_key_id("a.b"));
  EXPECT_FALSE(is_valid_key_id("a b"));
}

}  // namespace
}  // namespace wik::core
