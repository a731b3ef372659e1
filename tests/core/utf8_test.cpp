#include "core/utf8.h"

#include <gtest/gtest.h>

namespace wik::core {
namespace {

TEST(Utf8Test, CountsCodePoints) {
  EXPECT_EQ(utf8_length(""), 0u);
  EXPECT_EQ(utf8_length("abc"), 3u);
  EXPECT_EQ(utf8_length("é"), 1u);               // 2 bytes
  EXPECT_EQ(utf8_length("田中"), 2u);            // 3 bytes each
  EXPECT_EQ(utf8_length("\xF0\x9F\x98\x80"), 1u);  // U+1F600, 4 bytes
  EXPECT_EQ(utf8_length("\xF4\x8F\xBF\xBF"), 1u);  // U+10FFFF, the last code point
}

TEST(Utf8Test, RefusesEveryMalformedSequence) {
  for (const char* bad : {"\xff", "\x80", "\xC3", "\xE7\x94", "\xC3\x28", "\xC0\xAF", "\xC1\xBF",
                          "\xE0\x80\xAF", "\xF0\x80\x80\xAF", "\xED\xA0\x80", "\xED\xBF\xBF",
                          "\xF4\x90\x80\x80", "\xF5\x80\x80\x80", "ok\xE2\x82"}) {
    EXPECT_FALSE(utf8_length(bad)) << "accepted " << ::testing::PrintToString(std::string(bad));
  }
}

TEST(Utf8Test, SequenceLengthFollowsTheLeadByte) {
  EXPECT_EQ(utf8_sequence_length('a'), 1u);
  EXPECT_EQ(utf8_sequence_length(0xC3), 2u);
  EXPECT_EQ(utf8_sequence_length(0xE7), 3u);
  EXPECT_EQ(utf8_sequence_length(0xF0), 4u);
  EXPECT_EQ(utf8_sequence_length(0x80), 0u);
  EXPECT_EQ(utf8_sequence_length(0xFF), 0u);
}

TEST(Utf8Test, FindsC0DelAndC1ControlsButNotOtherText) {
  for (const char* control : {"line\nbreak", "tab\there", "\x7F", "nel\xC2\x85", "csi\xC2\x9B", "\r"}) {
    EXPECT_TRUE(has_control_character(control)) << ::testing::PrintToString(std::string(control));
  }
  for (const char* text : {"", "Acme Corp", "caf\xC3\xA9", "\xC2\xA0nbsp", "\xE7\x94\xB0", "\xF0\x9F\x98\x80"}) {
    EXPECT_FALSE(has_control_character(text)) << ::testing::PrintToString(std::string(text));
  }
}

}  // namespace
}  // namespace wik::core
