// Process memory: keeps a long-running integration's resident set close to the memory it uses.
//
// glibc's malloc gives a thread that meets contention an arena of its own, up to eight per core,
// and keeps what a program frees for its next allocations. In a process of twenty threads on two
// cores (I/O, dispatcher, store, blocking pools) the arenas multiplied and each kept its own free
// and fragmented pages: the resident set crept up by about 0.2 MiB a minute and stepped up after
// bursts while the memory in use stayed flat (docs/RELIABILITY.md, H10). The App limits the arenas
// when it starts (unless the operator set MALLOC_ARENA_MAX) and returns free pages to the system on
// every pass of its maintenance loop. With another allocator (musl, AddressSanitizer's) both do
// nothing. Thread-safe.
#pragma once

namespace wik::app {

// Most malloc arenas the App leaves glibc (tcache still serves each thread's small allocations
// without taking an arena's lock): with two, the soak's resident set stayed flat.
inline constexpr int kMallocArenas = 2;

// Limits glibc's malloc to kMallocArenas arenas, unless MALLOC_ARENA_MAX is set in the environment
// (the operator's choice stands). Best called before the process starts its threads.
void limit_malloc_arenas() noexcept;

// Returns the free pages of every malloc arena to the operating system (glibc's malloc_trim).
void release_free_memory() noexcept;

}  // namespace wik::app
