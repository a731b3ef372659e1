// Known-answer tests for HMAC-SHA256 (RFC 4231 section 4), HMAC-SHA1 (RFC 2202) and SHA-256 (FIPS 180-2).
#include "core/hmac.h"

#include <gtest/gtest.h>

#include "core/hex.h"

namespace wik::core {
namespace {

std::string hex_of(BytesView bytes) { return to_hex(bytes); }
Bytes bytes_of(std::string_view hex) { return from_hex(hex).value(); }

struct Rfc4231Case {
  const char* name;
  Bytes key;
  Bytes data;
  const char* expected_hex;
  std::size_t truncate_to = 0;
};

TEST(HmacTest, MatchesRfc4231Vectors) {
  const std::vector<Rfc4231Case> cases = {
      {"case 1", Bytes(20, '\x0b'), "Hi There",
       "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"},
      {"case 2", "Jefe", "what do ya want for nothing?",
       "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"},
      {"case 3", Bytes(20, '\xaa'), Bytes(50, '\xdd'),
       "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"},
      {"case 4", bytes_of("0102030405060708090a0b0c0d0e0f10111213141516171819"), Bytes(50, '\xcd'),
       "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b"},
      {"case 5", Bytes(20, '\x0c'), "Test With Truncation", "a3b6167473100ee06e0c796c2955552b", 16},
      {"case 6", Bytes(131, '\xaa'), "Test Using Larger Than Block-Size Key - Hash Key First",
       "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"},
      {"case 7", Bytes(131, '\xaa'),
       "This is a test using a larger than block-size key and a larger than block-size data. The key needs "
       "to be hashed before being used by the HMAC algorithm.",
       "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2"},
  };
  for (const auto& c : cases) {
    Bytes mac = hmac_sha256(c.key, c.data);
    ASSERT_EQ(mac.size(), 32u) << c.name;
    if (c.truncate_to != 0) mac.resize(c.truncate_to);
    EXPECT_EQ(hex_of(mac), c.expected_hex) << c.name;
  }
}

TEST(HmacTest, MatchesRfc2202Sha1Vectors) {
  EXPECT_EQ(hex_of(hmac_sha1(Bytes(20, '\x0b'), "Hi There")), "b617318655057264e28bc0b6fb378c8ef146be00");
  EXPECT_EQ(hex_of(hmac_sha1("Jefe", "what do ya want for nothing?")), "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79");
}

TEST(HmacTest, AcceptsEmptyKeyAndMessage) {
  // Independent value: HMAC-SHA256 with an empty key over an empty message.
  EXPECT_EQ(hex_of(hmac_sha256("", "")), "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad");
}

TEST(HmacTest, Sha256MatchesFips180Vectors) {
  EXPECT_EQ(hex_of(sha256("abc")), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(hex_of(sha256("")), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

}  // namespace
}  // namespace wik::core
