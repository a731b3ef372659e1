#include "core/hex.h"

#include <gtest/gtest.h>

#include "support/result_matchers.h"

namespace wik::core {
namespace {

using wik::testing::HasError;

TEST(HexTest, EncodesLowerCase) { EXPECT_EQ(to_hex(std::string("\x00\x9f\xff", 3)), "009fff"); }

TEST(HexTest, DecodesEitherCase) {
  EXPECT_EQ(from_hex("009FfF").value(), std::string("\x00\x9f\xff", 3));
  EXPECT_EQ(from_hex("").value(), "");
}

TEST(HexTest, RejectsOddLengthAndNonHex) {
  EXPECT_THAT(from_hex("abc"), HasError(ErrorCode::kMalformed, ::testing::HasSubstr("odd length")));
  EXPECT_THAT(from_hex("zz"), HasError(ErrorCode::kMalformed, ::testing::HasSubstr("non-hex")));
  EXPECT_THAT(from_hex(std::string("a\0", 2)), HasError(ErrorCode::kMalformed));
}

}  // namespace
}  // namespace wik::core
