#include "core/base64url.h"

#include <gtest/gtest.h>

#include "core/secure_random.h"
#include "support/result_matchers.h"

namespace wik::core {
namespace {

using ::testing::HasSubstr;
using wik::testing::HasError;

// RFC 4648 section 10 vectors, in the URL alphabet without padding.
TEST(Base64UrlTest, EncodesRfc4648VectorsWithoutPadding) {
  EXPECT_EQ(base64url_encode(""), "");
  EXPECT_EQ(base64url_encode("f"), "Zg");
  EXPECT_EQ(base64url_encode("fo"), "Zm8");
  EXPECT_EQ(base64url_encode("foo"), "Zm9v");
  EXPECT_EQ(base64url_encode("foob"), "Zm9vYg");
  EXPECT_EQ(base64url_encode("fooba"), "Zm9vYmE");
  EXPECT_EQ(base64url_encode("foobar"), "Zm9vYmFy");
}

TEST(Base64UrlTest, UsesTheUrlAlphabet) {
  EXPECT_EQ(base64url_encode("\xfb\xff\xbf"), "-_-_");
  EXPECT_EQ(base64url_decode("-_-_").value(), "\xfb\xff\xbf");
}

TEST(Base64UrlTest, DecodesWithAndWithoutPadding) {
  EXPECT_EQ(base64url_decode("Zg").value(), "f");
  EXPECT_EQ(base64url_decode("Zg==").value(), "f");
  EXPECT_EQ(base64url_decode("Zm8").value(), "fo");
  EXPECT_EQ(base64url_decode("Zm8=").value(), "fo");
  EXPECT_EQ(base64url_decode("Zm9v").value(), "foo");
}

TEST(Base64UrlTest, RoundTripsRandomBytes) {
  for (std::size_t size = 0; size < 70; ++size) {
    const Bytes bytes = secure_random_bytes(size);
    EXPECT_EQ(base64url_decode(base64url_encode(bytes)).value(), bytes) << size;
  }
}

TEST(Base64UrlTest, RejectsEveryOtherMalformation) {
  EXPECT_THAT(base64url_decode("Zm9v+A"), HasError(ErrorCode::kMalformed, HasSubstr("alphabet")));
  EXPECT_THAT(base64url_decode("Zm9v/A"), HasError(ErrorCode::kMalformed, HasSubstr("alphabet")));
  EXPECT_THAT(base64url_decode("Zm9 v"), HasError(ErrorCode::kMalformed, HasSubstr("alphabet")));
  EXPECT_THAT(base64url_decode("Zm9v\n"), HasError(ErrorCode::kMalformed, HasSubstr("alphabet")));
  EXPECT_THAT(base64url_decode("Z"), HasError(ErrorCode::kMalformed, HasSubstr("impossible length")));
  EXPECT_THAT(base64url_decode("Zm9vY"), HasError(ErrorCode::kMalformed, HasSubstr("impossible length")));
  EXPECT_THAT(base64url_decode("Zg="), HasError(ErrorCode::kMalformed, HasSubstr("padding")));
  EXPECT_THAT(base64url_decode("Zm8=="), HasError(ErrorCode::kMalformed, HasSubstr("padding")));
  EXPECT_THAT(base64url_decode("Zg==="), HasError(ErrorCode::kMalformed, HasSubstr("padding")));
  EXPECT_THAT(base64url_decode("Z=g="), HasError(ErrorCode::kMalformed));
  EXPECT_THAT(base64url_decode("===="), HasError(ErrorCode::kMalformed));
  // "Zh" decodes to 'f' too if trailing bits were ignored; only the canonical "Zg" is accepted.
  EXPECT_THAT(base64url_decode("Zh"), HasError(ErrorCode::kMalformed, HasSubstr("trailing bits")));
  EXPECT_THAT(base64url_decode("Zm9"), HasError(ErrorCode::kMalformed, HasSubstr("trailing bits")));
  EXPECT_THAT(base64url_decode(std::string("Zg\0", 3)), HasError(ErrorCode::kMalformed));
}

}  // namespace
}  // namespace wik::core
