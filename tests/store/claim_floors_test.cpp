#include "store/claim_floors.h"

#include <gtest/gtest.h>

namespace wik::store {
namespace {

TEST(ClaimFloorsTest, TheFirstClaimScansEverything) {
  ClaimFloors floors;
  EXPECT_FALSE(floors.next_claim().has_value());
}

TEST(ClaimFloorsTest, AFloorIsTheLowestIdAClaimTookFromItsCommunity) {
  ClaimFloors floors;
  floors.record(true, {{"1", 30}, {"2", 7}, {"1", 12}, {"1", 40}});
  const std::optional<ClaimFloors::Floors> next = floors.next_claim();
  ASSERT_TRUE(next.has_value());
  EXPECT_EQ(*next, (ClaimFloors::Floors{{"1", 12}, {"2", 7}}));
}

TEST(ClaimFloorsTest, ACommunityAClaimDidNotTakeFromKeepsItsFloor) {
  ClaimFloors floors;
  floors.record(true, {{"1", 12}, {"2", 7}});
  floors.record(false, {{"1", 50}});
  EXPECT_EQ(floors.next_claim().value(), (ClaimFloors::Floors{{"1", 50}, {"2", 7}}));
}

TEST(ClaimFloorsTest, AClaimAfterAnEmptyOneScansEverything) {
  ClaimFloors floors;
  floors.record(true, {{"1", 12}});
  floors.record(false, {});
  EXPECT_FALSE(floors.next_claim().has_value());
  floors.record(true, {{"1", 13}});
  EXPECT_EQ(floors.next_claim().value(), (ClaimFloors::Floors{{"1", 13}}));
}

TEST(ClaimFloorsTest, EveryFullScanEveryThClaimScansEverything) {
  ClaimFloors floors;
  floors.record(true, {{"1", 1}});
  std::size_t since_full_scan = 1;
  while (floors.next_claim().has_value()) {
    floors.record(false, {{"1", static_cast<std::int64_t>(since_full_scan + 1)}});
    ++since_full_scan;
    ASSERT_LE(since_full_scan, ClaimFloors::kFullScanEvery);
  }
  EXPECT_EQ(since_full_scan, ClaimFloors::kFullScanEvery);
  floors.record(true, {{"1", 100}});
  EXPECT_TRUE(floors.next_claim().has_value()) << "the count starts again after a full scan";
}

}  // namespace
}  // namespace wik::store
