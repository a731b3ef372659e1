#include "http/url.h"

#include <gtest/gtest.h>

#include "support/result_matchers.h"

namespace wik::http {
namespace {

using wik::testing::HasError;
using wik::testing::IsOk;

TEST(ParseAbsoluteUrlTest, AcceptsOrdinaryUrls) {
  for (const auto* text : {"https://graph.workplace.com/v3.2/me", "http://127.0.0.1:8090", "http://[::1]:80/x?y=1",
                           "https://vendor.example"}) {
    EXPECT_THAT(parse_absolute_url(text), IsOk()) << text;
  }
  const auto url = parse_absolute_url("http://127.0.0.1:8090/a?b=c");
  ASSERT_THAT(url, IsOk());
  EXPECT_EQ(url->encoded_host(), "127.0.0.1");
  EXPECT_EQ(url->encoded_path(), "/a");
}

// Boost.URL 1.81 alone parses these as host 127.0.0.1 (or 1.2.3.4) with a path that does not start
// with "/", so a request would go to an address the text does not name.
TEST(ParseAbsoluteUrlTest, RefusesAHostThatOnlyStartsWithAnIpv4Literal) {
  for (const auto* text : {"http://127.0.0.1.evil.example/install", "http://127.0.0.1.evil.example:80/x",
                           "https://1.2.3.4.5/"}) {
    EXPECT_THAT(parse_absolute_url(text), HasError(ErrorCode::kInvalidArgument)) << text;
  }
}

TEST(ParseAbsoluteUrlTest, RefusesUrlsWithoutAHost) {
  for (const auto* text : {"javascript:alert(1)", "mailto:a@b.example", "http:///path", "/relative", "not a url"}) {
    EXPECT_THAT(parse_absolute_url(text), HasError(ErrorCode::kInvalidArgument)) << text;
  }
}

TEST(PercentEncodeTest, KeepsOnlyUnreservedBytesSoNoSegmentOrQueryCanBeBrokenOutOf) {
  EXPECT_EQ(percent_encode("AZaz09-._~"), "AZaz09-._~");
  EXPECT_EQ(percent_encode("../<script>\"x\"?#&=+ /%"), "..%2F%3Cscript%3E%22x%22%3F%23%26%3D%2B%20%2F%25");
  EXPECT_EQ(percent_encode(std::string("a\0b\xff", 4)), "a%00b%FF");
  EXPECT_EQ(percent_encode(""), "");
}

TEST(EncodeFormTest, EncodesEverythingOutsideTheUnreservedSet) {
  EXPECT_EQ(encode_form({{"code", "AQB+x/y=="}, {"redirect_uri", "https://v.example/i?a=1&b=2"}, {"t", "é ~._-"}}),
            "code=AQB%2Bx%2Fy%3D%3D&redirect_uri=https%3A%2F%2Fv.example%2Fi%3Fa%3D1%26b%3D2&t=%C3%A9%20~._-");
  EXPECT_EQ(encode_form({}), "");
  EXPECT_EQ(encode_form({{"a", ""}}), "a=");
}

}  // namespace
}  // namespace wik::http
