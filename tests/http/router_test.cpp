// Unit tests of the pure parts of the server: target and form decoding, the router, the error
// table and the metrics registry.
#include "http/server/router.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include "http/error_status.h"
#include "http/server/metrics.h"
#include "support/result_matchers.h"

namespace wik::http {
namespace {

using boost::beast::http::status;
using boost::beast::http::verb;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using wik::testing::HasError;
using wik::testing::IsOk;

boost::asio::awaitable<Response> ok_handler(Request&) { co_return Response::text("ok"); }
boost::asio::awaitable<Result<Response>> result_handler(Request&) { co_return Response::text("ok"); }

std::vector<std::string> segments_of(std::string_view target) { return parse_target(target).value().segments; }

TEST(ParseTargetTest, DecodesPathSegmentsAndQuery) {
  const auto target = parse_target("/api/items/a%20b%2Fc?x=1&y=two+words&x=2&flag");
  ASSERT_THAT(target, IsOk());
  EXPECT_EQ(target->path, "/api/items/a b/c");
  EXPECT_THAT(target->segments, ElementsAre("api", "items", "a b/c"));
  EXPECT_EQ(target->query.find("x"), "1");
  EXPECT_THAT(target->query.find_all("x"), ElementsAre("1", "2"));
  EXPECT_EQ(target->query.find("y"), "two words");
  EXPECT_EQ(target->query.find("flag"), "");
  EXPECT_EQ(target->query.find("missing"), std::nullopt);
}

TEST(ParseTargetTest, RootAndTrailingSlash) {
  EXPECT_TRUE(segments_of("/").empty());
  EXPECT_THAT(segments_of("/a/"), ElementsAre("a", ""));
}

TEST(ParseTargetTest, AcceptsRawBracketsInTheQueryOnly) {
  const auto target = parse_target("/dialog?permissions[]=message&permissions[]=link_unfurling&fields[0]=id");
  ASSERT_THAT(target, IsOk());
  EXPECT_THAT(target->query.find_all("permissions[]"), ElementsAre("message", "link_unfurling"));
  EXPECT_EQ(target->query.find("fields[0]"), "id");
  EXPECT_THAT(parse_target("/a[0]?x=1"), HasError(ErrorCode::kMalformed));
}

TEST(ParseTargetTest, RejectsInvalidPercentEncodingAndNonOriginForms) {
  EXPECT_THAT(parse_target("/a%zz"), HasError(ErrorCode::kMalformed));
  EXPECT_THAT(parse_target("/a%2"), HasError(ErrorCode::kMalformed));
  EXPECT_THAT(parse_target("/a?x=%G1"), HasError(ErrorCode::kMalformed));
  EXPECT_THAT(parse_target("http://example.com/a"), HasError(ErrorCode::kMalformed));
  EXPECT_THAT(parse_target("*"), HasError(ErrorCode::kMalformed));
  EXPECT_THAT(parse_target(""), HasError(ErrorCode::kMalformed));
}

TEST(ParseFormTest, DecodesPlusAndPercent) {
  const auto form = parse_form("name=Jane+Doe&city=K%C3%B8benhavn&empty=");
  ASSERT_THAT(form, IsOk());
  EXPECT_EQ(form->find("name"), "Jane Doe");
  EXPECT_EQ(form->find("city"), "K\xC3\xB8" "benhavn");
  EXPECT_EQ(form->find("empty"), "");
  EXPECT_THAT(parse_form("a=%"), HasError(ErrorCode::kMalformed));
  EXPECT_THAT(parse_form("a=%4"), HasError(ErrorCode::kMalformed));
}

TEST(RouterTest, MatchesLiteralsAndBindsParameters) {
  Router router;
  router.get("/api/items/{id}", ok_handler).get("/api/items/{id}/tags/{tag}", result_handler);
  const auto match = router.match(verb::get, segments_of("/api/items/7/tags/red%20hot"));
  ASSERT_NE(match.route, nullptr);
  EXPECT_EQ(match.route->pattern, "/api/items/{id}/tags/{tag}");
  EXPECT_EQ(match.params.find("id"), "7");
  EXPECT_EQ(match.params.find("tag"), "red hot");
}

TEST(RouterTest, LiteralBeatsParameterWhateverTheOrder) {
  Router router;
  router.get("/items/{id}", ok_handler).get("/items/new", ok_handler).get("/{any}/new", ok_handler);
  EXPECT_EQ(router.match(verb::get, segments_of("/items/new")).route->pattern, "/items/new");
  EXPECT_EQ(router.match(verb::get, segments_of("/items/8")).route->pattern, "/items/{id}");
  EXPECT_EQ(router.match(verb::get, segments_of("/other/new")).route->pattern, "/{any}/new");
}

TEST(RouterTest, ParameterNeedsANonEmptySegment) {
  Router router;
  router.get("/items/{id}", ok_handler);
  EXPECT_EQ(router.match(verb::get, segments_of("/items/")).route, nullptr);
  EXPECT_EQ(router.match(verb::get, segments_of("/items")).route, nullptr);
}

TEST(RouterTest, ATrailingSlashMatchesTheRouteWithoutIt) {
  Router router;
  router.get("/dialog/work/app_install", ok_handler);
  EXPECT_EQ(router.match(verb::get, segments_of("/dialog/work/app_install/")).route->pattern, "/dialog/work/app_install");
  EXPECT_EQ(router.match(verb::get, segments_of("/dialog/work/app_install")).route->pattern, "/dialog/work/app_install");
  EXPECT_EQ(router.match(verb::get, segments_of("/dialog/work/app_install//")).route, nullptr);
}

TEST(RouterTest, UnknownPathHasNoAllowedMethods) {
  Router router;
  router.get("/a", ok_handler);
  const auto match = router.match(verb::get, segments_of("/b"));
  EXPECT_EQ(match.route, nullptr);
  EXPECT_TRUE(match.allowed.empty());
}

TEST(RouterTest, WrongMethodListsAllowedOnesAndGetServesHead) {
  Router router;
  router.get("/a", ok_handler).post("/a", ok_handler).del("/a", ok_handler);
  const auto match = router.match(verb::put, segments_of("/a"));
  EXPECT_EQ(match.route, nullptr);
  EXPECT_EQ(match.allow_header(), "DELETE, GET, HEAD, POST");
  const auto head = router.match(verb::head, segments_of("/a"));
  ASSERT_NE(head.route, nullptr);
  EXPECT_EQ(head.route->method, verb::get);
}

TEST(RouterTest, RootPattern) {
  Router router;
  router.get("/", ok_handler);
  EXPECT_NE(router.match(verb::get, segments_of("/")).route, nullptr);
}

TEST(RouterDeathTest, InvalidOrDuplicatePatternsAbort) {
  EXPECT_DEATH(Router().get("no-slash", ok_handler), "must start with");
  EXPECT_DEATH(Router().get("/a//b", ok_handler), "empty segment");
  EXPECT_DEATH(Router().get("/a/{}", ok_handler), "malformed parameter");
  EXPECT_DEATH(Router().get("/a/{x}/{x}", ok_handler), "repeats");
  EXPECT_DEATH(
      {
        Router router;
        router.get("/a", ok_handler).get("/a", ok_handler);
      },
      "registered twice");
}

TEST(ErrorStatusTest, EveryCodeHasAStatus) {
  EXPECT_EQ(error_status(ErrorCode::kInvalidArgument).status, status::bad_request);
  EXPECT_EQ(error_status(ErrorCode::kMalformed).status, status::bad_request);
  EXPECT_EQ(error_status(ErrorCode::kBadSignature).status, status::forbidden);
  EXPECT_EQ(error_status(ErrorCode::kUnsupported).status, status::unsupported_media_type);
  EXPECT_EQ(error_status(ErrorCode::kUnsupported, ErrorOrigin::kRouting).status, status::method_not_allowed);
  EXPECT_EQ(error_status(ErrorCode::kExpired).status, status::bad_request);
  EXPECT_EQ(error_status(ErrorCode::kUnauthenticated).status, status::unauthorized);
  EXPECT_EQ(error_status(ErrorCode::kPermissionDenied).status, status::forbidden);
  EXPECT_EQ(error_status(ErrorCode::kNotFound).status, status::not_found);
  EXPECT_EQ(error_status(ErrorCode::kNotFound, ErrorOrigin::kRouting).status, status::not_found);
  EXPECT_EQ(error_status(ErrorCode::kConflict).status, status::conflict);
  EXPECT_EQ(error_status(ErrorCode::kTooLarge).status, status::payload_too_large);
  EXPECT_EQ(error_status(ErrorCode::kTooLarge, ErrorOrigin::kRequestHead).status,
            status::request_header_fields_too_large);
  EXPECT_EQ(error_status(ErrorCode::kRateLimited).status, status::too_many_requests);
  EXPECT_EQ(error_status(ErrorCode::kUnavailable).status, status::service_unavailable);
  EXPECT_EQ(error_status(ErrorCode::kTimeout).status, status::gateway_timeout);
  EXPECT_EQ(error_status(ErrorCode::kTimeout, ErrorOrigin::kRequestRead).status, status::request_timeout);
  EXPECT_EQ(error_status(ErrorCode::kConfig).status, status::internal_server_error);
  EXPECT_EQ(error_status(ErrorCode::kInternal).status, status::internal_server_error);
}

TEST(ErrorStatusTest, BodyCarriesCodeAndReasonButNeverDetail) {
  const auto body = boost::json::parse(error_body(Error(ErrorCode::kNotFound, "no such item", "row 7 of t_secret")));
  EXPECT_EQ(body.at("error").at("code").as_string(), "not_found");
  EXPECT_EQ(body.at("error").at("message").as_string(), "no such item");
  EXPECT_THAT(error_body(Error(ErrorCode::kNotFound, "x", "t_secret")), Not(HasSubstr("t_secret")));
}

TEST(ErrorStatusTest, InternalErrorsShowOnlyThePublicReason) {
  const auto body = boost::json::parse(error_body(Error(ErrorCode::kInternal, "db at 10.0.0.7 refused")));
  EXPECT_EQ(body.at("error").at("message").as_string(), "internal error");
}

TEST(MetricsTest, RendersPrometheusText) {
  MetricsRegistry registry;
  registry.counter("wik_things_total", "Things.", {{"kind", "a\"b\\c\nd"}}).inc(3);
  registry.counter("wik_things_total", "Things.", {{"kind", "plain"}}).inc();
  registry.gauge("wik_level", "Level.").set(2.5);
  const double bounds[] = {0.1, 1.0};
  auto& histogram = registry.histogram("wik_seconds", "Durations.", bounds, {{"route", "/x"}});
  histogram.observe(0.05);
  histogram.observe(0.5);
  histogram.observe(5);
  const std::string text = registry.render();
  EXPECT_THAT(text, HasSubstr("# HELP wik_things_total Things.\n# TYPE wik_things_total counter\n"));
  EXPECT_THAT(text, HasSubstr("wik_things_total{kind=\"a\\\"b\\\\c\\nd\"} 3\n"));
  EXPECT_THAT(text, HasSubstr("wik_things_total{kind=\"plain\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("# TYPE wik_level gauge\nwik_level 2.5\n"));
  EXPECT_THAT(text, HasSubstr("wik_seconds_bucket{route=\"/x\",le=\"0.1\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("wik_seconds_bucket{route=\"/x\",le=\"1\"} 2\n"));
  EXPECT_THAT(text, HasSubstr("wik_seconds_bucket{route=\"/x\",le=\"+Inf\"} 3\n"));
  EXPECT_THAT(text, HasSubstr("wik_seconds_count{route=\"/x\"} 3\n"));
  EXPECT_THAT(text, HasSubstr("wik_seconds_sum{route=\"/x\"} 5.55\n"));
}

TEST(MetricsTest, SameNameAndLabelsGiveTheSameMetric) {
  MetricsRegistry registry;
  EXPECT_EQ(&registry.counter("a_total", "A."), &registry.counter("a_total", "A."));
  EXPECT_NE(&registry.counter("a_total", "A.", {{"x", "1"}}), &registry.counter("a_total", "A."));
}

TEST(MetricsDeathTest, MisuseAborts) {
  EXPECT_DEATH(
      {
        MetricsRegistry registry;
        registry.counter("a_total", "A.");
        registry.gauge("a_total", "A.");
      },
      "registered twice");
  EXPECT_DEATH(MetricsRegistry().counter("bad-name", "A."), "invalid metric name");
  EXPECT_DEATH(MetricsRegistry().counter("a_total", "A.", {{"1x", "v"}}), "invalid metric label");
}

}  // namespace
}  // namespace wik::http
