// The reply pacer on a fake clock: a community's budget holds over every window, one community's
// budget never holds another's messages, one conversation's messages are spaced, a held message is
// not counted, a clock that steps back holds nothing for long, and quiet communities are forgotten.
#include "webhooks/reply_pacer.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "support/fake_clock.h"

namespace wik::webhooks {
namespace {

using namespace std::chrono_literals;
using TimePoint = std::chrono::system_clock::time_point;

class ReplyPacerTest : public ::testing::Test {
 protected:
  testing::FakeClock clock_{1764370000};
  const TimePoint start_ = clock_.now();
};

TEST_F(ReplyPacerTest, TheCommunityBudgetHoldsInEveryWindow) {
  ReplyPacer pacer(clock_, {.community_budget = 3, .budget_window = 60s, .thread_spacing = 0ms});
  std::vector<TimePoint> admitted;
  for (int second = 0; second < 300; ++second) {
    if (!pacer.admit("111", "")) admitted.push_back(clock_.now());
    clock_.advance(1s);
  }
  // Three at once, then three more as each window after the first message ends.
  ASSERT_EQ(admitted.size(), 15u);
  EXPECT_EQ(admitted[2], start_ + 2s);
  EXPECT_EQ(admitted[3], start_ + 60s);
  for (const TimePoint end : admitted) {
    const auto in_window = std::count_if(admitted.begin(), admitted.end(),
                                         [&](TimePoint t) { return t > end - 60s && t <= end; });
    EXPECT_LE(in_window, 3) << "in the window ending " << (end - start_).count();
  }
}

TEST_F(ReplyPacerTest, AMessageOverBudgetIsHeldUntilTheOldestLeavesTheWindowAndIsNotCounted) {
  ReplyPacer pacer(clock_, {.community_budget = 2, .budget_window = 60s, .thread_spacing = 0ms});
  EXPECT_FALSE(pacer.admit("111", ""));
  clock_.advance(10s);
  EXPECT_FALSE(pacer.admit("111", ""));
  for (int tries = 0; tries < 5; ++tries) {
    clock_.advance(1s);
    const std::optional<Deferral> held = pacer.admit("111", "");
    ASSERT_TRUE(held);
    EXPECT_EQ(held->rule, PacingRule::kCommunityBudget);
    EXPECT_EQ(held->not_before, start_ + 60s);
  }
  clock_.advance(start_ + 60s - clock_.now());
  EXPECT_FALSE(pacer.admit("111", "")) << "held messages are not counted";
  const std::optional<Deferral> next = pacer.admit("111", "");
  ASSERT_TRUE(next);
  EXPECT_EQ(next->not_before, start_ + 70s);
}

TEST_F(ReplyPacerTest, OneCommunitysBudgetDoesNotHoldAnother) {
  ReplyPacer pacer(clock_, {.community_budget = 1, .budget_window = 60s, .thread_spacing = 0ms});
  EXPECT_FALSE(pacer.admit("111", ""));
  EXPECT_TRUE(pacer.admit("111", ""));
  EXPECT_FALSE(pacer.admit("222", ""));
}

TEST_F(ReplyPacerTest, MessagesToOneConversationAreSpacedAndOthersAreNot) {
  ReplyPacer pacer(clock_, {.community_budget = 100, .budget_window = 60s, .thread_spacing = 500ms, .thread_burst = 1});
  EXPECT_FALSE(pacer.admit("111", R"({"thread_key":"t_1"})"));
  clock_.advance(100ms);
  const std::optional<Deferral> held = pacer.admit("111", R"({"thread_key":"t_1"})");
  ASSERT_TRUE(held);
  EXPECT_EQ(held->rule, PacingRule::kThreadSpacing);
  EXPECT_EQ(held->not_before, start_ + 500ms);
  EXPECT_FALSE(pacer.admit("111", R"({"thread_key":"t_2"})"));
  EXPECT_FALSE(pacer.admit("222", R"({"thread_key":"t_1"})")) << "the same thread key in another community";
  EXPECT_FALSE(pacer.admit("111", "")) << "a conversation that cannot be told is not spaced";
  clock_.advance(400ms);
  EXPECT_FALSE(pacer.admit("111", R"({"thread_key":"t_1"})"));
}

TEST_F(ReplyPacerTest, AConversationGetsItsBurstAtOnceThenOneMessagePerSpacing) {
  ReplyPacer pacer(clock_, {.community_budget = 100, .budget_window = 60s, .thread_spacing = 500ms, .thread_burst = 3});
  const std::string thread = R"({"thread_key":"t_1"})";
  for (int i = 0; i < 3; ++i) EXPECT_FALSE(pacer.admit("111", thread)) << "message " << i + 1 << " of the burst";
  const std::optional<Deferral> held = pacer.admit("111", thread);
  ASSERT_TRUE(held);
  EXPECT_EQ(held->rule, PacingRule::kThreadSpacing);
  EXPECT_EQ(held->not_before, start_ + 500ms);
  clock_.advance(500ms);
  EXPECT_FALSE(pacer.admit("111", thread));
  EXPECT_TRUE(pacer.admit("111", thread)) << "one message per spacing once the burst is spent";
  clock_.advance(1500ms);
  for (int i = 0; i < 3; ++i) EXPECT_FALSE(pacer.admit("111", thread)) << "a quiet conversation has its burst back";
  EXPECT_TRUE(pacer.admit("111", thread));
}

TEST_F(ReplyPacerTest, WhenBothRulesHoldAMessageTheLaterOneIsNamed) {
  ReplyPacer spacing_later(clock_, {.community_budget = 1, .budget_window = 1s, .thread_spacing = 5000ms, .thread_burst = 1});
  EXPECT_FALSE(spacing_later.admit("111", "a"));
  const std::optional<Deferral> by_spacing = spacing_later.admit("111", "a");
  ASSERT_TRUE(by_spacing);
  EXPECT_EQ(by_spacing->rule, PacingRule::kThreadSpacing);
  EXPECT_EQ(by_spacing->not_before, start_ + 5s);

  ReplyPacer budget_later(clock_, {.community_budget = 1, .budget_window = 60s, .thread_spacing = 500ms, .thread_burst = 1});
  EXPECT_FALSE(budget_later.admit("111", "a"));
  const std::optional<Deferral> by_budget = budget_later.admit("111", "a");
  ASSERT_TRUE(by_budget);
  EXPECT_EQ(by_budget->rule, PacingRule::kCommunityBudget);
  EXPECT_EQ(by_budget->not_before, start_ + 60s);
}

TEST_F(ReplyPacerTest, AClockThatStepsBackHoldsAMessageOneWindowAtMost) {
  ReplyPacer pacer(clock_, {.community_budget = 1, .budget_window = 60s, .thread_spacing = 500ms, .thread_burst = 1});
  EXPECT_FALSE(pacer.admit("111", "a"));
  clock_.advance(-1h);
  const std::optional<Deferral> held = pacer.admit("111", "a");
  ASSERT_TRUE(held);
  EXPECT_LE(held->not_before, clock_.now() + 60s);
  clock_.advance(60s);
  EXPECT_FALSE(pacer.admit("111", "a"));
}

TEST_F(ReplyPacerTest, CommunitiesAndConversationsQuietForAWindowAreForgotten) {
  ReplyPacer pacer(clock_, {.community_budget = 1, .budget_window = 60s, .thread_spacing = 500ms, .thread_burst = 1});
  for (int community = 0; community < 1000; ++community) {
    EXPECT_FALSE(pacer.admit(std::to_string(community), "a"));
  }
  EXPECT_EQ(pacer.entries_for_test(), 2000u);
  clock_.advance(60s);
  EXPECT_FALSE(pacer.admit("0", "a")) << "what it sent a window ago no longer counts";
  EXPECT_EQ(pacer.entries_for_test(), 2u);
}

TEST(ConversationOfTest, IsTheRecipientOfASendApiBody) {
  EXPECT_EQ(conversation_of(R"({"recipient":{"thread_key":"t_1"},"message":{"text":"hi"}})"),
            R"({"thread_key":"t_1"})");
  EXPECT_EQ(conversation_of(R"({"message":{"text":"hi"},"recipient":{"id":"100"}})"), R"({"id":"100"})");
  EXPECT_EQ(conversation_of(R"({"recipient":{"id":"100"},"sender_action":"typing_on"})"), R"({"id":"100"})");
}

TEST(ConversationOfTest, IsEmptyForABodyWithoutOne) {
  EXPECT_EQ(conversation_of(R"({"message":{"text":"hi"}})"), "");
  EXPECT_EQ(conversation_of(R"({"recipient":"100"})"), "");
  EXPECT_EQ(conversation_of(R"(["recipient"])"), "");
  EXPECT_EQ(conversation_of("not json {"), "");
  EXPECT_EQ(conversation_of(""), "");
}

}  // namespace
}  // namespace wik::webhooks
