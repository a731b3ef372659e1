// release_free_memory (app/process_memory.h): the heap pages a burst freed leave the resident set.
#include <gtest/gtest.h>

#include "app/process_memory.h"
#include "support/resident_memory.h"

#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

namespace wik::app {
namespace {

TEST(ProcessMemoryTest, HeapPagesFreedByABurstLeaveTheResidentSet) {
#if defined(__SANITIZE_ADDRESS__)
  GTEST_SKIP() << "AddressSanitizer's allocator holds freed memory in quarantine by design";
#endif
  // 32 MiB in blocks of 64 KiB (under glibc's mmap threshold, so from the heap), written so that
  // they are resident, then freed but the last, which keeps free() itself from trimming the heap.
  constexpr std::size_t kBlock = 64 * 1024;
  constexpr std::size_t kBlocks = 512;
  std::vector<void*> blocks;
  for (std::size_t i = 0; i < kBlocks; ++i) {
    blocks.push_back(std::malloc(kBlock));
    ASSERT_NE(blocks.back(), nullptr);
    std::memset(blocks.back(), 0x5a, kBlock);
  }
  for (std::size_t i = 0; i + 1 < kBlocks; ++i) std::free(blocks[i]);
  const std::int64_t before = wik::testing::resident_memory(::getpid()).anonymous_kib;
  release_free_memory();
  const std::int64_t after = wik::testing::resident_memory(::getpid()).anonymous_kib;
  std::free(blocks.back());
  ASSERT_GT(before, 0);
  EXPECT_GT(before - after, 16 * 1024) << "anonymous RSS before " << before << " KiB, after " << after << " KiB";
}

}  // namespace
}  // namespace wik::app
