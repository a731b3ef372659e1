#include "support/dudect.h"

#include <fmt/format.h>
#include <pthread.h>
#include <sched.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <utility>

namespace wik::testing::dudect {
namespace {

constexpr int kCrops = 100;  // dudect's number of percentiles

bool counts(const TTest& test) {
  return test.crop == 1.0 || (test.fixed >= kEnoughPerClass && test.random >= kEnoughPerClass);
}

// Running sums of one class over a prefix of the sorted timings, shifted by the smallest timing
// so that the squares stay small.
struct Sums {
  std::size_t n = 0;
  long double sum = 0, squares = 0;
};

void welch(TTest& test, const Sums& fixed, const Sums& random, double shift) {
  test.fixed = fixed.n;
  test.random = random.n;
  if (fixed.n < 2 || random.n < 2) return;
  const long double mean_fixed = fixed.sum / fixed.n;
  const long double mean_random = random.sum / random.n;
  const long double var_fixed = std::max(0.0L, (fixed.squares - fixed.sum * mean_fixed) / (fixed.n - 1));
  const long double var_random = std::max(0.0L, (random.squares - random.sum * mean_random) / (random.n - 1));
  const long double error = std::sqrt(var_fixed / fixed.n + var_random / random.n);
  test.mean_fixed = static_cast<double>(mean_fixed) + shift;
  test.mean_random = static_cast<double>(mean_random) + shift;
  test.flagged_difference = static_cast<double>(kLeakThreshold * error);
  const long double difference = mean_fixed - mean_random;
  if (error > 0) {
    test.t = static_cast<double>(difference / error);
  } else {
    test.t =
        difference == 0 ? 0.0 : std::copysign(std::numeric_limits<double>::infinity(), static_cast<double>(difference));
  }
}

}  // namespace

const TTest& Analysis::worst() const {
  const TTest* worst = &tests.front();
  for (const TTest& test : tests) {
    if (counts(test) && std::abs(test.t) > std::abs(worst->t)) worst = &test;
  }
  return *worst;
}

double Analysis::max_abs_t() const { return std::abs(worst().t); }

double Analysis::finest_difference() const {
  double finest = std::numeric_limits<double>::infinity();
  for (const TTest& test : tests) {
    if (counts(test) && test.flagged_difference > 0) finest = std::min(finest, test.flagged_difference);
  }
  return finest;
}

const char* timer_unit() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  return "cycles";
#else
  return "ns";
#endif
}

void keep(bool value) noexcept {
  asm volatile("" : : "r"(value) : "memory");  // as Google Benchmark's DoNotOptimize
}

Analysis analyse(std::span<const InputClass> classes, std::span<const std::uint64_t> timings) {
  Analysis analysis;
  analysis.measurements = timings.size();
  if (timings.empty()) {
    analysis.tests.push_back({});
    return analysis;
  }
  std::vector<std::pair<std::uint64_t, InputClass>> sorted;
  sorted.reserve(timings.size());
  for (std::size_t i = 0; i < timings.size(); ++i) sorted.emplace_back(timings[i], classes[i]);
  std::sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  const std::uint64_t shift = sorted.front().first;

  // prefix[k]: the sums of each class over the k fastest timings.
  std::vector<std::pair<Sums, Sums>> prefix(sorted.size() + 1);
  for (std::size_t k = 0; k < sorted.size(); ++k) {
    auto [fixed, random] = prefix[k];
    Sums& sums = sorted[k].second == InputClass::kFixed ? fixed : random;
    const long double value = static_cast<long double>(sorted[k].first - shift);
    ++sums.n;
    sums.sum += value;
    sums.squares += value * value;
    prefix[k + 1] = {fixed, random};
  }

  TTest raw;
  welch(raw, prefix.back().first, prefix.back().second, static_cast<double>(shift));
  analysis.tests.push_back(raw);
  for (int i = 0; i < kCrops; ++i) {
    // As dudect: keep the timings below the value at the percentile, so ties are never split.
    const double crop = 1.0 - std::pow(0.5, 10.0 * (i + 1) / kCrops);
    const auto rank = static_cast<std::size_t>(crop * static_cast<double>(sorted.size()));
    const std::uint64_t threshold = sorted[std::min(rank, sorted.size() - 1)].first;
    const auto kept = static_cast<std::size_t>(
        std::lower_bound(sorted.begin(), sorted.end(), threshold,
                         [](const auto& entry, std::uint64_t value) { return entry.first < value; }) -
        sorted.begin());
    TTest test{.crop = crop};
    welch(test, prefix[kept].first, prefix[kept].second, static_cast<double>(shift));
    analysis.tests.push_back(test);
  }
  return analysis;
}

PinnedThread::PinnedThread() {
  cpu_set_t current;
  CPU_ZERO(&current);
  if (pthread_getaffinity_np(pthread_self(), sizeof current, &current) != 0) return;
  const int cpu = sched_getcpu();
  if (cpu < 0 || cpu >= CPU_SETSIZE) return;
  saved_.resize(sizeof current);
  std::memcpy(saved_.data(), &current, sizeof current);
  cpu_set_t one;
  CPU_ZERO(&one);
  CPU_SET(static_cast<std::size_t>(cpu), &one);
  (void)pthread_setaffinity_np(pthread_self(), sizeof one, &one);  // unpinned is noisier, not wrong
}

PinnedThread::~PinnedThread() {
  if (saved_.empty()) return;
  cpu_set_t saved;
  std::memcpy(&saved, saved_.data(), sizeof saved);
  (void)pthread_setaffinity_np(pthread_self(), sizeof saved, &saved);
}

bool Verdict::as_expected() const {
  return std::ranges::any_of(
      runs, [this](const Analysis& run) { return (run.max_abs_t() >= kLeakThreshold) == (expect == Expect::kLeak); });
}

std::string describe(const Analysis& analysis) {
  const TTest& raw = analysis.tests.front();
  const TTest& worst = analysis.worst();
  const std::string where = worst.crop == 1.0 ? std::string("raw") : fmt::format("below p{:.1f}", 100 * worst.crop);
  return fmt::format(
      "raw t={:+.2f} (means {:.1f} fixed, {:.1f} random); worst {} t={:+.2f} (kept {} fixed, {} random; means {:.1f}, "
      "{:.1f}); |t| reaches 10 at a difference of {:.2f} {}",
      raw.t, raw.mean_fixed, raw.mean_random, where, worst.t, worst.fixed, worst.random, worst.mean_fixed,
      worst.mean_random, analysis.finest_difference(), timer_unit());
}

}  // namespace wik::testing::dudect
