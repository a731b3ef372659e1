#include "core/signed_request.h"

#include <boost/json/parse.hpp>
#include <gtest/gtest.h>

#include "core/base64url.h"
#include "core/hex.h"
#include "core/hmac.h"
#include "support/result_matchers.h"

namespace wik::core {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using wik::testing::HasError;
using wik::testing::IsOk;

// PROTOCOL.md section 5.2 test vector.
const Secret kAppSecret("0123456789abcdef0123456789abcdef");
constexpr std::int64_t kNow = 1764370000;
constexpr std::string_view kPayloadJson =
    R"({"algorithm":"HMAC-SHA256","issued_at":1764370000,"community_id":"100042"})";
constexpr std::string_view kPayloadSegment =
    "eyJhbGdvcml0aG0iOiJITUFDLVNIQTI1NiIsImlzc3VlZF9hdCI6MTc2NDM3MDAwMCwiY29tbXVuaXR5X2lkIjoiMTAwMDQyIn0";
constexpr std::string_view kHexSignature =
    "YTllNzQxZDUwN2JjZDMxYTc1NzU5M2VlOTUxYzAwNzkxNTQ5NWYxZjJkODY0ZmM1ZDM4ZmU0MWI3NGFkNWI0Nw";
constexpr std::string_view kRawSignature = "qedB1Qe80xp1dZPulRwAeRVJXx8thk_F04_kG3StW0c";
constexpr std::string_view kExpectedHexDigest = "a9e741d507bcd31a757593ee951c007915495f1f2d864fc5d38fe41b74ad5b47";

std::string join(std::string_view signature, std::string_view payload) {
  return std::string(signature) + "." + std::string(payload);
}

std::string sign(std::string_view json, SignatureEncoding encoding = SignatureEncoding::kHexDigest) {
  return create_signed_request(boost::json::parse(json).as_object(), kAppSecret, encoding);
}

TEST(SignedRequestTest, CreatesTheProtocolVectorInTheSeedsHexForm) {
  EXPECT_EQ(sign(kPayloadJson), join(kHexSignature, kPayloadSegment));
  EXPECT_EQ(sign(kPayloadJson, SignatureEncoding::kRawDigest), join(kRawSignature, kPayloadSegment));
}

TEST(SignedRequestTest, VerifiesBothSignatureEncodings) {
  auto hex = verify_signed_request(join(kHexSignature, kPayloadSegment), kAppSecret, kNow);
  ASSERT_THAT(hex, IsOk());
  EXPECT_EQ(hex->encoding, SignatureEncoding::kHexDigest);
  EXPECT_EQ(hex->payload_json, kPayloadJson);
  EXPECT_EQ(hex->payload.at("community_id").as_string(), "100042");
  EXPECT_EQ(hex->issued_at, 1764370000);

  auto raw = verify_signed_request(join(kRawSignature, kPayloadSegment), kAppSecret, kNow);
  ASSERT_THAT(raw, IsOk());
  EXPECT_EQ(raw->encoding, SignatureEncoding::kRawDigest);
}

TEST(SignedRequestTest, AcceptsUpperCaseHexAndPaddedSegments) {
  const std::string upper = base64url_encode("A9E741D507BCD31A757593EE951C007915495F1F2D864FC5D38FE41B74AD5B47");
  EXPECT_THAT(verify_signed_request(join(upper, kPayloadSegment), kAppSecret, kNow), IsOk());
  EXPECT_THAT(verify_signed_request(join(std::string(kRawSignature) + "=", kPayloadSegment), kAppSecret, kNow), IsOk());
}

TEST(SignedRequestTest, AWrongSignatureNeverRevealsTheExpectedOne) {
  const std::string forged = sign(R"({"algorithm":"HMAC-SHA256","community_id":"100042"})").substr(0, 86) + "." +
                             base64url_encode(R"({"algorithm":"HMAC-SHA256","community_id":"999"})");
  auto result = verify_signed_request(forged, kAppSecret, kNow);
  ASSERT_THAT(result, HasError(ErrorCode::kBadSignature));
  const auto expected_hex_text = std::string(kExpectedHexDigest);
  EXPECT_THAT(result.error().reason(), Not(HasSubstr(expected_hex_text.substr(0, 8))));
  EXPECT_THAT(result.error().detail(), Not(HasSubstr(expected_hex_text.substr(0, 8))));
  EXPECT_THAT(verify_signed_request(join(kHexSignature, kPayloadSegment), Secret("wrong-secret"), kNow),
              HasError(ErrorCode::kBadSignature));
}

TEST(SignedRequestTest, TheSignatureCoversTheEncodedSegmentNotTheJson) {
  // Same JSON, padded encoding: a different segment, so the original signature must not verify.
  EXPECT_THAT(verify_signed_request(join(kHexSignature, std::string(kPayloadSegment) + "="), kAppSecret, kNow),
              HasError(ErrorCode::kBadSignature));
}

TEST(SignedRequestTest, MalformedPartsEachGiveMalformed) {
  const std::vector<std::string> inputs = {
      "",
      "nodot",
      "." + std::string(kPayloadSegment),
      std::string(kHexSignature) + ".",
      join(kHexSignature, kPayloadSegment) + ".extra",
      join("!!!", kPayloadSegment),
      join(base64url_encode("short"), kPayloadSegment),
      join(base64url_encode(std::string(64, 'z')), kPayloadSegment),
  };
  for (const auto& input : inputs) {
    EXPECT_THAT(verify_signed_request(input, kAppSecret, kNow), HasError(ErrorCode::kMalformed)) << input;
  }
}

TEST(SignedRequestTest, ValidlySignedButUnparseablePayloadsAreMalformed) {
  for (std::string_view json : {"not json", "[1,2]", "\"text\"", "{\"issued_at\":\"soon\"}", "{\"issued_at\":-5}",
                                "{\"issued_at\":1.5}", "{\"a\":1"}) {
    const std::string segment = base64url_encode(json);
    const std::string request = base64url_encode(to_hex(hmac_sha256(kAppSecret.expose(), segment))) + "." + segment;
    EXPECT_THAT(verify_signed_request(request, kAppSecret, kNow), HasError(ErrorCode::kMalformed)) << json;
  }
}

TEST(SignedRequestTest, RejectsAnUnknownAlgorithm) {
  EXPECT_THAT(verify_signed_request(sign(R"({"algorithm":"HMAC-SHA1","community_id":"1"})"), kAppSecret, kNow),
              HasError(ErrorCode::kUnsupported));
  EXPECT_THAT(verify_signed_request(sign(R"({"algorithm":256,"community_id":"1"})"), kAppSecret, kNow),
              HasError(ErrorCode::kUnsupported));
  EXPECT_THAT(verify_signed_request(sign(R"({"algorithm":"hmac-sha256","community_id":"1"})"), kAppSecret, kNow),
              IsOk());
  // Absent algorithm: accepted by default (UNCONFIRMED for Workplace), refused when required.
  EXPECT_THAT(verify_signed_request(sign(R"({"community_id":"1"})"), kAppSecret, kNow), IsOk());
  EXPECT_THAT(verify_signed_request(sign(R"({"community_id":"1"})"), kAppSecret, kNow, {.require_algorithm = true}),
              HasError(ErrorCode::kUnsupported));
}

TEST(SignedRequestTest, ChecksFreshnessOnlyWhenAsked) {
  const std::string request = join(kHexSignature, kPayloadSegment);
  const SignedRequestPolicy one_hour{.max_age = std::chrono::hours(1)};
  EXPECT_THAT(verify_signed_request(request, kAppSecret, kNow + 100000), IsOk());
  EXPECT_THAT(verify_signed_request(request, kAppSecret, kNow + 3600, one_hour), IsOk());
  EXPECT_THAT(verify_signed_request(request, kAppSecret, kNow + 3601, one_hour),
              HasError(ErrorCode::kExpired, HasSubstr("too long ago")));
  EXPECT_THAT(verify_signed_request(request, kAppSecret, kNow - 61, one_hour),
              HasError(ErrorCode::kExpired, HasSubstr("future")));
  const std::string undated = sign(R"({"community_id":"1"})");
  EXPECT_THAT(verify_signed_request(undated, kAppSecret, kNow, one_hour), IsOk());
  SignedRequestPolicy strict = one_hour;
  strict.require_issued_at = true;
  EXPECT_THAT(verify_signed_request(undated, kAppSecret, kNow, strict), HasError(ErrorCode::kExpired));
  EXPECT_THAT(verify_signed_request(sign(R"({"issued_at":"1764370000"})"), kAppSecret, kNow, one_hour), IsOk());
}

TEST(SignedRequestTest, RejectsOversizedInputBeforeAnyWork) {
  EXPECT_THAT(verify_signed_request(std::string(kMaxSignedRequestSize + 1, 'a'), kAppSecret, kNow),
              HasError(ErrorCode::kTooLarge));
}

}  // namespace
}  // namespace wik::core
