// html_escape, html_page and html_response: untrusted text cannot add markup, and pages carry the
// headers that keep them unframed, uncached and free of other origins' content.
#include "http/html.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace wik::http {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::Optional;

TEST(HtmlEscapeTest, EscapesEveryCharacterThatCouldStartMarkupOrEndAnAttribute) {
  EXPECT_EQ(html_escape(R"(<script>alert("x") & 'y'</script>)"),
            "&lt;script&gt;alert(&quot;x&quot;) &amp; &#39;y&#39;&lt;/script&gt;");
}

TEST(HtmlEscapeTest, LeavesOtherTextAndUtf8Alone) {
  EXPECT_EQ(html_escape("Acme Café 42"), "Acme Café 42");
  EXPECT_EQ(html_escape(""), "");
}

TEST(HtmlPageTest, EscapesTheTitleAndKeepsTheTrustedBody) {
  const std::string page = html_page("<b>Acme</b>", "<p>hello</p>", "<meta name=\"x\" content=\"y\">");
  EXPECT_THAT(page, HasSubstr("<title>&lt;b&gt;Acme&lt;/b&gt;</title>"));
  EXPECT_THAT(page, HasSubstr("<p>hello</p>"));
  EXPECT_THAT(page, HasSubstr("<meta name=\"x\" content=\"y\"></head>"));
  EXPECT_THAT(page, HasSubstr("<meta charset=\"utf-8\">"));
  EXPECT_THAT(page, Not(HasSubstr("<b>Acme")));
}

TEST(HtmlResponseTest, CarriesThePageWithProtectiveHeaders) {
  const Response response = html_response(html_page("t", "b"), boost::beast::http::status::forbidden);
  EXPECT_EQ(response.status(), boost::beast::http::status::forbidden);
  EXPECT_THAT(response.header("Content-Type"), Optional(std::string_view("text/html; charset=utf-8")));
  EXPECT_THAT(response.header("X-Frame-Options"), Optional(std::string_view("DENY")));
  EXPECT_THAT(response.header("Referrer-Policy"), Optional(std::string_view("no-referrer")));
  EXPECT_THAT(response.header("Cache-Control"), Optional(std::string_view("no-store")));
  EXPECT_THAT(response.header("X-Content-Type-Options"), Optional(std::string_view("nosniff")));
  const auto policy = response.header("Content-Security-Policy");
  ASSERT_TRUE(policy);
  EXPECT_THAT(std::string(*policy), HasSubstr("default-src 'none'"));
  EXPECT_THAT(std::string(*policy), HasSubstr("frame-ancestors 'none'"));
  EXPECT_THAT(response.body(), HasSubstr("<title>t</title>"));
}

TEST(HtmlTest, AProblemPageEscapesWhatHappenedWhatToDoAndItsLinks) {
  const std::vector<PageLink> links = {{.href = "/signin?next=\"x\"", .label = "Sign in to <App>"}};
  const std::string page = problem_page("Gone <now>", "It <b>ended</b>.", "Ask & retry.", links);
  EXPECT_THAT(page, HasSubstr("<h1>Gone &lt;now&gt;</h1>"));
  EXPECT_THAT(page, HasSubstr("<p>It &lt;b&gt;ended&lt;/b&gt;.</p>"));
  EXPECT_THAT(page, HasSubstr("<strong>What to do:</strong> Ask &amp; retry."));
  EXPECT_THAT(page, HasSubstr("<a href=\"/signin?next=&quot;x&quot;\">Sign in to &lt;App&gt;</a>"));
  EXPECT_THAT(page, Not(HasSubstr("<b>")));
}

TEST(HtmlTest, TimeLeftIsMinutesAndSecondsAndNeverNegative) {
  EXPECT_EQ(time_left(std::chrono::seconds(245)), "4:05");
  EXPECT_EQ(time_left(std::chrono::seconds(0)), "0:00");
  EXPECT_EQ(time_left(std::chrono::seconds(-3)), "0:00");
}

}  // namespace
}  // namespace wik::http
