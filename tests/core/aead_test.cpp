// AES-256-GCM against the NIST GCM test vectors (McGrew & Viega, "The Galois/Counter Mode of
// Operation", test cases 13-16, the 256-bit key cases), plus tamper checks.
#include "core/aead.h"

#include <gtest/gtest.h>

#include "core/hex.h"
#include "support/result_matchers.h"

namespace wik::core {
namespace {

using wik::testing::HasError;

Bytes h(std::string_view hex) { return from_hex(hex).value(); }

struct GcmVector {
  const char* name;
  const char* key;
  const char* iv;
  const char* plaintext;
  const char* aad;
  const char* ciphertext;
  const char* tag;
};

const GcmVector kVectors[] = {
    {"test case 13", "0000000000000000000000000000000000000000000000000000000000000000", "000000000000000000000000",
     "", "", "", "530f8afbc74536b9a963b4f1c4cb738b"},
    {"test case 14", "0000000000000000000000000000000000000000000000000000000000000000", "000000000000000000000000",
     "00000000000000000000000000000000", "", "cea7403d4d606b6e074ec5d3baf39d18", "d0d1c8a799996bf0265b98b5d48ab919"},
    {"test case 15", "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308", "cafebabefacedbaddecaf888",
     "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255",
     "",
     "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662898015ad",
     "b094dac5d93471bdec1a502270e3cc6c"},
    {"test case 16", "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308", "cafebabefacedbaddecaf888",
     "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39",
     "feedfacedeadbeeffeedfacedeadbeefabaddad2",
     "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662",
     "76fc6ece0f4e1768cddf8853bb2d551b"},
};

TEST(AeadTest, EncryptsNistVectors) {
  for (const auto& v : kVectors) {
    const Bytes sealed = aes256gcm_encrypt(h(v.key), h(v.iv), h(v.aad), h(v.plaintext));
    EXPECT_EQ(to_hex(sealed), std::string(v.ciphertext) + v.tag) << v.name;
  }
}

TEST(AeadTest, DecryptsNistVectors) {
  for (const auto& v : kVectors) {
    const auto opened = aes256gcm_decrypt(h(v.key), h(v.iv), h(v.aad), h(std::string(v.ciphertext) + v.tag));
    ASSERT_TRUE(opened.ok()) << v.name;
    EXPECT_EQ(to_hex(*opened), v.plaintext) << v.name;
  }
}

TEST(AeadTest, RejectsAnyAlteredByte) {
  const GcmVector& v = kVectors[3];
  const Bytes sealed = h(std::string(v.ciphertext) + v.tag);
  for (std::size_t i = 0; i < sealed.size(); ++i) {
    Bytes altered = sealed;
    altered[i] = static_cast<char>(altered[i] ^ 0x01);
    EXPECT_THAT(aes256gcm_decrypt(h(v.key), h(v.iv), h(v.aad), altered), HasError(ErrorCode::kBadSignature)) << i;
  }
}

TEST(AeadTest, RejectsWrongAssociatedDataKeyOrNonce) {
  const GcmVector& v = kVectors[3];
  const Bytes sealed = h(std::string(v.ciphertext) + v.tag);
  Bytes other_key = h(v.key);
  other_key[0] = 0;
  Bytes other_iv = h(v.iv);
  other_iv[11] = 0;
  EXPECT_THAT(aes256gcm_decrypt(h(v.key), h(v.iv), "other", sealed), HasError(ErrorCode::kBadSignature));
  EXPECT_THAT(aes256gcm_decrypt(other_key, h(v.iv), h(v.aad), sealed), HasError(ErrorCode::kBadSignature));
  EXPECT_THAT(aes256gcm_decrypt(h(v.key), other_iv, h(v.aad), sealed), HasError(ErrorCode::kBadSignature));
}

TEST(AeadTest, RejectsInputShorterThanATag) {
  EXPECT_THAT(aes256gcm_decrypt(Bytes(32, 'k'), Bytes(12, 'n'), "", "short"), HasError(ErrorCode::kMalformed));
}

TEST(AeadDeathTest, AbortsOnWrongKeySize) {
  EXPECT_DEATH((void)aes256gcm_encrypt(Bytes(16, 'k'), Bytes(12, 'n'), "", "x"), "wrong size");
}

}  // namespace
}  // namespace wik::core
