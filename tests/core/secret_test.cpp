#include <wik/secret.h>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <sstream>

namespace wik {
namespace {

TEST(SecretTest, ExposesItsValueOnlyOnRequest) {
  const Secret secret("s3cr3t-value");
  EXPECT_EQ(secret.expose(), "s3cr3t-value");
  EXPECT_EQ(secret.size(), 12u);
  EXPECT_FALSE(secret.empty());
  EXPECT_TRUE(Secret().empty());
}

TEST(SecretTest, StreamsAndFormatsRedacted) {
  const Secret secret("s3cr3t-value");
  const AccessToken token("DQVJtoken-value");
  std::ostringstream out;
  out << secret << " " << token;
  EXPECT_EQ(out.str(), "[redacted] [redacted]");
  EXPECT_EQ(fmt::format("{} {}", secret, token), "[redacted] [redacted]");
  EXPECT_EQ(fmt::format("{:>12}", secret), "  [redacted]");
  EXPECT_EQ(::testing::PrintToString(token), "[redacted]");
}

TEST(SecretTest, CopiesAndMovesKeepTheValue) {
  Secret original("value-1");
  Secret copy = original;
  EXPECT_EQ(copy.expose(), "value-1");
  Secret moved = std::move(original);
  EXPECT_EQ(moved.expose(), "value-1");
  EXPECT_TRUE(original.empty());  // NOLINT(bugprone-use-after-move): a moved-from Secret is wiped
  copy = moved;
  EXPECT_EQ(copy.expose(), "value-1");
  AccessToken token("t1");
  AccessToken other = token;
  EXPECT_EQ(other.expose(), "t1");
}

}  // namespace
}  // namespace wik
