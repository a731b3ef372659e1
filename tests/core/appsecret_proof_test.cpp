#include "core/appsecret_proof.h"

#include <gtest/gtest.h>

#include "support/result_matchers.h"

namespace wik::core {
namespace {

using wik::testing::HasError;
using wik::testing::IsOk;

// PROTOCOL.md section 3.1 test vector.
const Secret kAppSecret("0123456789abcdef0123456789abcdef");
const AccessToken kToken("WPTOKEN-EXAMPLE-1");
constexpr std::int64_t kTime = 1764370000;
constexpr const char* kProof = "7e6fdff63e308913045aaf6e4407f1c9e298bc6190821effba6dce192558aa0d";

TEST(AppsecretProofTest, MatchesTheProtocolVector) {
  const AppsecretProof proof = make_appsecret_proof(kAppSecret, kToken, kTime);
  EXPECT_EQ(proof.proof, kProof);
  EXPECT_EQ(proof.time, "1764370000");
}

TEST(AppsecretProofTest, AcceptsAFreshProofInEitherCase) {
  EXPECT_THAT(check_appsecret_proof(kAppSecret, kToken, kProof, "1764370000", kTime), IsOk());
  EXPECT_THAT(check_appsecret_proof(kAppSecret, kToken,
                                    "7E6FDFF63E308913045AAF6E4407F1C9E298BC6190821EFFBA6DCE192558AA0D", "1764370000",
                                    kTime + 299),
              IsOk());
}

TEST(AppsecretProofTest, RejectsWrongSecretTokenOrTime) {
  EXPECT_THAT(check_appsecret_proof(Secret("other-secret"), kToken, kProof, "1764370000", kTime),
              HasError(ErrorCode::kBadSignature));
  EXPECT_THAT(check_appsecret_proof(kAppSecret, AccessToken("WPTOKEN-EXAMPLE-2"), kProof, "1764370000", kTime),
              HasError(ErrorCode::kBadSignature));
  EXPECT_THAT(check_appsecret_proof(kAppSecret, kToken, kProof, "1764370001", kTime), HasError(ErrorCode::kBadSignature));
  EXPECT_THAT(check_appsecret_proof(kAppSecret, kToken, "not-hex", "1764370000", kTime), HasError(ErrorCode::kBadSignature));
  EXPECT_THAT(check_appsecret_proof(kAppSecret, kToken, std::string(kProof).substr(2), "1764370000", kTime),
              HasError(ErrorCode::kBadSignature));
}

TEST(AppsecretProofTest, EnforcesTheWindow) {
  EXPECT_THAT(check_appsecret_proof(kAppSecret, kToken, kProof, "1764370000", kTime + 300), IsOk());
  EXPECT_THAT(check_appsecret_proof(kAppSecret, kToken, kProof, "1764370000", kTime + 301),
              HasError(ErrorCode::kExpired, ::testing::HasSubstr("older")));
  EXPECT_THAT(check_appsecret_proof(kAppSecret, kToken, kProof, "1764370000", kTime - 60), IsOk());
  EXPECT_THAT(check_appsecret_proof(kAppSecret, kToken, kProof, "1764370000", kTime - 61),
              HasError(ErrorCode::kExpired, ::testing::HasSubstr("future")));
}

TEST(AppsecretProofTest, RejectsMissingOrMalformedParameters) {
  EXPECT_THAT(check_appsecret_proof(kAppSecret, kToken, "", "1764370000", kTime), HasError(ErrorCode::kInvalidArgument));
  EXPECT_THAT(check_appsecret_proof(kAppSecret, kToken, kProof, "", kTime), HasError(ErrorCode::kInvalidArgument));
  for (const char* time : {"1764370000.0", "-1764370000", " 1764370000", "0x69290fd0", "99999999999999999999"}) {
    EXPECT_THAT(check_appsecret_proof(kAppSecret, kToken, kProof, time, kTime), HasError(ErrorCode::kMalformed)) << time;
  }
}

}  // namespace
}  // namespace wik::core
