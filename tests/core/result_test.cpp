#include <wik/result.h>

#include <gtest/gtest.h>

#include "support/result_matchers.h"

namespace wik {
namespace {

using ::testing::HasSubstr;
using wik::testing::HasError;
using wik::testing::IsOk;

Result<int> parse_positive(int n) {
  if (n <= 0) return Error(ErrorCode::kInvalidArgument, "must be positive", "got " + std::to_string(n));
  return n;
}

TEST(ResultTest, HoldsAValueOrAnError) {
  EXPECT_THAT(parse_positive(3), IsOk());
  EXPECT_EQ(parse_positive(3).value(), 3);
  auto failed = parse_positive(-1);
  ASSERT_THAT(failed, HasError(ErrorCode::kInvalidArgument, HasSubstr("positive")));
  EXPECT_EQ(failed.error().detail(), "got -1");
}

TEST(ResultTest, VoidResults) {
  EXPECT_THAT(ok_result(), IsOk());
  Result<void> failed = Error(ErrorCode::kNotFound, "gone");
  EXPECT_THAT(failed, HasError(ErrorCode::kNotFound));
}

TEST(ResultTest, AddsContextToTheReason) {
  const Error error = Error(ErrorCode::kConfig, "expected an integer").with_context("server.port");
  EXPECT_EQ(error.reason(), "server.port: expected an integer");
  EXPECT_EQ(error.code(), ErrorCode::kConfig);
}

TEST(ResultTest, NamesEveryCode) {
  EXPECT_EQ(to_string(ErrorCode::kBadSignature), "bad_signature");
  EXPECT_EQ(to_string(ErrorCode::kTooLarge), "too_large");
}

TEST(ResultDeathTest, ReadingTheValueOfAnErrorAborts) {
  EXPECT_DEATH((void)parse_positive(0).value(), "must be positive");
  EXPECT_DEATH((void)parse_positive(1).error(), "called on a value");
}

}  // namespace
}  // namespace wik
