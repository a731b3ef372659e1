#include "core/sealed_box.h"

#include <gtest/gtest.h>

#include "core/base64url.h"
#include "support/result_matchers.h"

namespace wik::core {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;
using wik::testing::HasError;
using wik::testing::IsOk;

const AccessToken kToken("DQVJ0b2tlbi1leGFtcGxl-community-token");

TEST(SealedBoxTest, SealsAndOpensAToken) {
  const KeyRing ring = KeyRing::generate("k1");
  const std::string sealed = seal_access_token(ring, kToken, "100042");
  EXPECT_THAT(sealed, StartsWith("wik1.k1."));
  EXPECT_THAT(sealed, Not(HasSubstr(std::string(kToken.expose()))));
  auto opened = open_access_token(ring, sealed, "100042");
  ASSERT_THAT(opened, IsOk());
  EXPECT_EQ(opened->expose(), kToken.expose());
}

TEST(SealedBoxTest, EachSealUsesAFreshNonce) {
  const KeyRing ring = KeyRing::generate("k1");
  EXPECT_NE(seal_access_token(ring, kToken, "100042"), seal_access_token(ring, kToken, "100042"));
}

TEST(SealedBoxTest, ATokenCopiedToAnotherCommunityDoesNotOpen) {
  const KeyRing ring = KeyRing::generate("k1");
  const std::string sealed = seal_access_token(ring, kToken, "100042");
  EXPECT_THAT(open_access_token(ring, sealed, "100043"), HasError(ErrorCode::kBadSignature));
  EXPECT_THAT(open_access_token(ring, sealed, "1000420"), HasError(ErrorCode::kBadSignature));
}

TEST(SealedBoxTest, RotationOpensOldSealsAndResealsUnderTheActiveKey) {
  KeyRing ring = KeyRing::generate("k1");
  const std::string old_seal = seal_access_token(ring, kToken, "100042");
  ASSERT_THAT(ring.rotate_to("k2"), IsOk());
  EXPECT_EQ(sealed_key_id(old_seal).value(), "k1");

  auto resealed = reseal_access_token(ring, old_seal, "100042");
  ASSERT_THAT(resealed, IsOk());
  EXPECT_EQ(sealed_key_id(*resealed).value(), "k2");
  EXPECT_EQ(open_access_token(ring, *resealed, "100042")->expose(), kToken.expose());
  EXPECT_EQ(open_access_token(ring, old_seal, "100042")->expose(), kToken.expose());
}

TEST(SealedBoxTest, AValueSealedUnderARemovedKeyReportsTheMissingKey) {
  const KeyRing old_ring = KeyRing::generate("gone");
  const KeyRing new_ring = KeyRing::generate("k2");
  const std::string sealed = seal_access_token(old_ring, kToken, "100042");
  EXPECT_THAT(open_access_token(new_ring, sealed, "100042"), HasError(ErrorCode::kNotFound, HasSubstr("gone")));
}

TEST(SealedBoxTest, SwappingTheKeyIdDoesNotOpen) {
  // Two keys in one ring: relabelling a seal with the other id must fail, not decrypt garbage.
  KeyRing ring = KeyRing::generate("k1");
  ASSERT_THAT(ring.rotate_to("k2"), IsOk());
  std::string sealed = seal_access_token(ring, kToken, "100042");
  sealed.replace(0, 7, "wik1.k1");
  EXPECT_THAT(open_access_token(ring, sealed, "100042"), HasError(ErrorCode::kBadSignature));
}

TEST(SealedBoxTest, RejectsDamagedValues) {
  const KeyRing ring = KeyRing::generate("k1");
  const std::string sealed = seal_access_token(ring, kToken, "100042");
  EXPECT_THAT(open_access_token(ring, "", "100042"), HasError(ErrorCode::kMalformed));
  EXPECT_THAT(open_access_token(ring, "wik2.k1.AAAA", "100042"), HasError(ErrorCode::kMalformed));
  EXPECT_THAT(open_access_token(ring, "wik1.k1", "100042"), HasError(ErrorCode::kMalformed));
  EXPECT_THAT(open_access_token(ring, "wik1.k1.AAAA", "100042"), HasError(ErrorCode::kMalformed));
  EXPECT_THAT(open_access_token(ring, "wik1.k1.!!!!", "100042"), HasError(ErrorCode::kMalformed));
  Bytes truncated = base64url_decode(std::string_view(sealed).substr(8)).value();
  truncated.pop_back();
  EXPECT_THAT(open_access_token(ring, "wik1.k1." + base64url_encode(truncated), "100042"),
              HasError(ErrorCode::kBadSignature));
  std::string flipped = sealed;
  flipped[20] = flipped[20] == 'A' ? 'B' : 'A';
  EXPECT_THAT(open_access_token(ring, flipped, "100042"), HasError(ErrorCode::kBadSignature));
}

}  // namespace
}  // namespace wik::core
