// dudect: tells whether a function's running time depends on its input, the way Reparaz, Balasch and
// Verbauwhede's "Dude, is my code constant time?" (DATE 2017, github.com/oreparaz/dudect) does:
// time many calls on two classes of inputs, interleaved at random, and run Welch's t-test between
// the classes' timings, on all of them and on the timings cropped below each of a set of
// percentiles (cropping drops the interrupts and preemptions that would otherwise drown a small
// difference). The largest |t| is the verdict, against dudect's threshold of 10 (docs/RELIABILITY.md, B8).
//
// Timings are TSC cycles (lfence; rdtsc; lfence) on x86, steady_clock nanoseconds elsewhere. The
// thread that measures is pinned to the CPU it runs on while it measures. Inputs are prepared a
// chunk at a time, before that chunk is timed, so preparing one class (drawing random bytes, say)
// never runs between the two clock reads and leaves no class-dependent state right before a call.
// Not thread-safe; one measurement at a time.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <random>
#include <span>
#include <string>
#include <vector>

#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
#endif

namespace wik::testing::dudect {

// dudect's threshold: a larger |t| means the two classes' timings differ.
inline constexpr double kLeakThreshold = 10.0;

// The class of a measurement's input. kFixed: one fixed input every time; kRandom: drawn afresh.
enum class InputClass : std::uint8_t { kFixed = 0, kRandom = 1 };

struct Options {
  // Timed measurements, both classes together.
  std::size_t measurements = 100000;
  // Calls of the function per measurement (on the same input), for functions too short for the
  // timer alone.
  std::size_t calls_per_measurement = 1;
  // Inputs prepared at once before they are timed.
  std::size_t chunk = 1024;
  // Measurements made and thrown away first (warming caches, predictors and the allocator).
  std::size_t warmup = 1024;
  // Seeds the class sequence.
  std::uint64_t seed = 1;
};

// One Welch t-test between the classes' timings.
struct TTest {
  double crop = 1.0;                  // the percentile below which timings were kept; 1.0: all (the raw test)
  std::size_t fixed = 0, random = 0;  // timings kept, per class
  double mean_fixed = 0, mean_random = 0;
  double t = 0;
  // The mean difference that would make |t| reach kLeakThreshold at these counts and variances:
  // the smallest leak this test would flag, in timer units.
  double flagged_difference = 0;
};

struct Analysis {
  std::size_t measurements = 0;
  std::vector<TTest> tests;  // the raw test first, then one per crop
  // The test with the largest |t| among those with enough timings in each class.
  const TTest& worst() const;
  double max_abs_t() const;
  // The smallest flagged_difference among the tests counted: how fine the measurement was.
  double finest_difference() const;
};

// The fewest timings per class for a test to count (dudect requires 10,000 in all).
inline constexpr std::size_t kEnoughPerClass = 1000;

// Returns the cycle counter (x86) or steady_clock nanoseconds, serialised against the code around it.
inline std::uint64_t timer_now() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  _mm_lfence();
  const std::uint64_t now = __rdtsc();
  _mm_lfence();
  return now;
#else
  return static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
#endif
}

// Returns "cycles" or "ns", the unit of timer_now().
const char* timer_unit() noexcept;

// Keeps a result alive, so the compiler cannot drop the call that made it.
void keep(bool value) noexcept;

// Returns Welch's t-tests between the classes of `timings`: all of them, then cropped below each of
// dudect's percentiles 1 - 0.5^(10 (i + 1) / 100), i = 0..99, taken over both classes together.
// REQUIRES: classes.size() == timings.size().
Analysis analyse(std::span<const InputClass> classes, std::span<const std::uint64_t> timings);

// Pins the calling thread to the CPU it runs on, and restores its affinity when destroyed.
class PinnedThread {
 public:
  PinnedThread();
  ~PinnedThread();
  PinnedThread(const PinnedThread&) = delete;
  PinnedThread& operator=(const PinnedThread&) = delete;

 private:
  std::vector<unsigned char> saved_;  // the cpu_set_t it had, empty when it could not be read
};

// Measures `run` on the two classes and returns the analysis. For each chunk of measurements it
// draws a class per slot (a fair coin), calls prepare(slot, class) for every slot, then times
// run(slot), options.calls_per_measurement times per slot, slot after slot. `prepare` must make
// the slot's input of that class; `run` must call the function under test on it (and keep() its
// result). REQUIRES: options.chunk > 0.
template <class Prepare, class Run>
Analysis measure(const Options& options, Prepare&& prepare, Run&& run) {
  std::mt19937_64 coin(options.seed);
  std::vector<InputClass> classes;
  std::vector<std::uint64_t> timings;
  classes.reserve(options.measurements);
  timings.reserve(options.measurements);
  std::vector<InputClass> chunk_classes(options.chunk);
  const PinnedThread pinned;
  const std::size_t total = options.warmup + options.measurements;
  for (std::size_t start = 0; start < total; start += options.chunk) {
    const std::size_t count = std::min(options.chunk, total - start);
    for (std::size_t slot = 0; slot < count; ++slot) {
      chunk_classes[slot] = (coin() & 1) != 0 ? InputClass::kRandom : InputClass::kFixed;
      prepare(slot, chunk_classes[slot]);
    }
    for (std::size_t slot = 0; slot < count; ++slot) {
      const std::uint64_t before = timer_now();
      for (std::size_t call = 0; call < options.calls_per_measurement; ++call) run(slot);
      const std::uint64_t after = timer_now();
      if (start + slot < options.warmup) continue;
      classes.push_back(chunk_classes[slot]);
      timings.push_back(after - before);
    }
  }
  return analyse(classes, timings);
}

// What a check expects: no leak (the code under test), or a leak (a positive control).
enum class Expect { kConstantTime, kLeak };

// Up to two measurements, so that one run disturbed by other work on the machine cannot decide: a
// second, with fresh inputs and classes, is made only when the first disagrees with the
// expectation, and the check fails only when both do. For code expected constant-time that is:
// a leak is reported only when two independent runs each reach kLeakThreshold.
struct Verdict {
  Expect expect = Expect::kConstantTime;
  std::vector<Analysis> runs;  // one or two
  // True when some run agreed with the expectation.
  bool as_expected() const;
  // The run the report names: the last one.
  const Analysis& reported() const { return runs.back(); }
};

// Runs measure() once and, when the run disagrees with `expect`, once more (with seed + 1).
template <class Prepare, class Run>
Verdict check(Expect expect, Options options, Prepare&& prepare, Run&& run) {
  Verdict verdict{.expect = expect, .runs = {}};
  verdict.runs.push_back(measure(options, prepare, run));
  if (!verdict.as_expected()) {
    ++options.seed;
    verdict.runs.push_back(measure(options, prepare, run));
  }
  return verdict;
}

// Returns one line on `analysis` for a test's log: its raw test and its worst one.
std::string describe(const Analysis& analysis);

}  // namespace wik::testing::dudect
