// resident_memory: how much of a process's memory is resident, for tests of memory use (the soak,
// the App's heap trimming). Reads /proc/<pid>/smaps_rollup, which the kernel counts by walking the
// page tables at the time of reading.
#pragma once

#include <sys/types.h>

#include <cstdint>

namespace wik::testing {

// The resident memory of a process, in KiB: all of it, and its anonymous part (heap, stacks; no
// file mappings).
struct Resident {
  std::int64_t rss_kib = 0;
  std::int64_t anonymous_kib = 0;
};

// Returns process `pid`'s resident memory; zeros when unreadable.
Resident resident_memory(pid_t pid);

}  // namespace wik::testing
