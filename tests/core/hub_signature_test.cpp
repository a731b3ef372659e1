#include "core/hub_signature.h"

#include <gtest/gtest.h>

#include "support/result_matchers.h"

namespace wik::core {
namespace {

using ::testing::HasSubstr;
using wik::testing::HasError;
using wik::testing::IsOk;

// PROTOCOL.md section 6.2 test vector.
const Secret kAppSecret("0123456789abcdef0123456789abcdef");
constexpr std::string_view kBody = R"({"object":"page","entry":[]})";
constexpr std::string_view kSha1 = "sha1=10399b38a47b48f99f6cd3d05a5f7f9314fc41d0";
constexpr std::string_view kSha256 = "sha256=7cbc46b042d7e131c845c3f08d7028636dc75bdd529a85bfd25451ef6fc04d04";

TEST(HubSignatureTest, SignsTheProtocolVector) {
  EXPECT_EQ(sign_hub_signature(HubAlgorithm::kSha1, kAppSecret, kBody), kSha1);
  EXPECT_EQ(sign_hub_signature(HubAlgorithm::kSha256, kAppSecret, kBody), kSha256);
}

TEST(HubSignatureTest, VerifiesEachHeader) {
  EXPECT_THAT(verify_hub_signature(HubAlgorithm::kSha256, kSha256, kBody, kAppSecret), IsOk());
  EXPECT_THAT(verify_hub_signature(HubAlgorithm::kSha1, kSha1, kBody, kAppSecret), IsOk());
}

TEST(HubSignatureTest, RejectsAlteredBodiesAndWrongSecrets) {
  EXPECT_THAT(verify_hub_signature(HubAlgorithm::kSha256, kSha256, R"({"object":"page","entry":[ ]})", kAppSecret),
              HasError(ErrorCode::kBadSignature));
  EXPECT_THAT(verify_hub_signature(HubAlgorithm::kSha256, kSha256, kBody, Secret("other")),
              HasError(ErrorCode::kBadSignature));
}

TEST(HubSignatureTest, RejectsMalformedHeaders) {
  for (std::string_view header : {"", "sha256", "sha256=", "sha1=10399b38a47b48f99f6cd3d05a5f7f9314fc41d0",
                                  "SHA256=7cbc46b042d7e131c845c3f08d7028636dc75bdd529a85bfd25451ef6fc04d04",
                                  "sha256=7cbc46b042d7e131c845c3f08d7028636dc75bdd529a85bfd25451ef6fc04d0",
                                  "sha256=zzbc46b042d7e131c845c3f08d7028636dc75bdd529a85bfd25451ef6fc04d04",
                                  "sha256=7cbc46b042d7e131c845c3f08d7028636dc75bdd529a85bfd25451ef6fc04d0400"}) {
    EXPECT_THAT(verify_hub_signature(HubAlgorithm::kSha256, header, kBody, kAppSecret), HasError(ErrorCode::kMalformed))
        << header;
  }
}

TEST(HubSignatureTest, Sha256DecidesWheneverPresent) {
  EXPECT_EQ(verify_webhook_signature({.sha256 = kSha256, .sha1 = kSha1}, kBody, kAppSecret, false).value(),
            HubAlgorithm::kSha256);
  // A wrong SHA-256 header is not rescued by a right SHA-1 one.
  const std::string wrong256 = "sha256=" + std::string(64, '0');
  EXPECT_THAT(verify_webhook_signature({.sha256 = wrong256, .sha1 = kSha1}, kBody, kAppSecret, true),
              HasError(ErrorCode::kBadSignature));
}

TEST(HubSignatureTest, Sha1OnlyWhenAccepted) {
  EXPECT_EQ(verify_webhook_signature({.sha1 = kSha1}, kBody, kAppSecret, true).value(), HubAlgorithm::kSha1);
  EXPECT_THAT(verify_webhook_signature({.sha1 = kSha1}, kBody, kAppSecret, false),
              HasError(ErrorCode::kUnauthenticated, HasSubstr("X-Hub-Signature-256")));
  EXPECT_THAT(verify_webhook_signature({}, kBody, kAppSecret, true), HasError(ErrorCode::kUnauthenticated));
}

}  // namespace
}  // namespace wik::core
