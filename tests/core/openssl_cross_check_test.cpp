// Cross-checks wik/core against an independent implementation at test time: the openssl command
// line, on random keys and messages (binary included).
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "core/base64url.h"
#include "core/hex.h"
#include "core/hmac.h"
#include "core/secure_random.h"
#include "support/temp_dir.h"

namespace wik::core {
namespace {

std::string run(const std::string& command) {
  std::string output;
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return output;
  char buffer[4096];
  std::size_t n = 0;
  while ((n = fread(buffer, 1, sizeof buffer, pipe)) > 0) output.append(buffer, n);
  pclose(pipe);
  return output;
}

std::string first_word(const std::string& text) { return text.substr(0, text.find_first_of(" \n")); }

class OpensslCrossCheckTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (run("openssl version").rfind("OpenSSL 3", 0) != 0) GTEST_FAIL() << "the openssl command is missing";
  }
  std::filesystem::path write(const std::string& name, BytesView bytes) {
    const auto path = dir_.path() / name;
    std::ofstream(path, std::ios::binary) << bytes;
    return path;
  }
  wik::testing::TempDir dir_;
};

TEST_F(OpensslCrossCheckTest, HmacMatchesOpensslDgst) {
  for (std::size_t round = 0; round < 8; ++round) {
    const Bytes key = secure_random_bytes(1 + round * 17);
    const Bytes message = secure_random_bytes(round * 97);
    const auto file = write("message", message);
    for (const auto& [algorithm, name] : {std::pair{DigestAlgorithm::kSha256, "sha256"}, {DigestAlgorithm::kSha1, "sha1"}}) {
      const std::string theirs = first_word(run(std::string("openssl dgst -") + name + " -mac HMAC -macopt hexkey:" +
                                                to_hex(key) + " -r " + file.string()));
      EXPECT_EQ(to_hex(hmac(algorithm, key, message)), theirs) << name << " round " << round;
    }
  }
}

TEST_F(OpensslCrossCheckTest, Sha256MatchesOpensslDgst) {
  const Bytes message = secure_random_bytes(1000);
  const auto file = write("message", message);
  EXPECT_EQ(to_hex(sha256(message)), first_word(run("openssl dgst -sha256 -r " + file.string())));
}

TEST_F(OpensslCrossCheckTest, Base64UrlMatchesOpensslBase64) {
  for (std::size_t size : {1u, 2u, 3u, 31u, 32u, 100u}) {
    const Bytes bytes = secure_random_bytes(size);
    std::string theirs = run("openssl base64 -A -in " + write("bytes", bytes).string());
    for (char& c : theirs) c = c == '+' ? '-' : c == '/' ? '_' : c;
    while (!theirs.empty() && (theirs.back() == '=' || theirs.back() == '\n')) theirs.pop_back();
    EXPECT_EQ(base64url_encode(bytes), theirs) << size;
  }
}

}  // namespace
}  // namespace wik::core
