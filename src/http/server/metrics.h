// MetricsRegistry: counters, gauges and histograms with labels, rendered in the Prometheus text
// exposition format (version 0.0.4) by the server's /metrics route.
//
// Any part adds its own metrics through the registry the server exposes (Server::metrics()):
//   auto& sent = registry.counter("wik_webhooks_delivered_total", "Webhooks delivered.", {{"topic", t}});
//   sent.inc();
// Asking again for the same name and labels returns the same metric, so callers may either keep
// the reference (fastest) or look it up each time. References stay valid for the registry's
// lifetime. Updating a metric is lock-free; lookups and render() take a mutex. All members are
// thread-safe. Using one name with two kinds, two help texts or two bucket layouts, or an invalid
// metric or label name, is a programming error and aborts.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace wik::http {

using Labels = std::vector<std::pair<std::string, std::string>>;

class Counter {
 public:
  void inc(std::uint64_t by = 1) noexcept { value_.fetch_add(by, std::memory_order_relaxed); }
  std::uint64_t value() const noexcept { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::uint64_t> value_{0};
};

class Gauge {
 public:
  void set(double value) noexcept { value_.store(value, std::memory_order_relaxed); }
  void add(double by) noexcept;
  void inc() noexcept { add(1.0); }
  void dec() noexcept { add(-1.0); }
  double value() const noexcept { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0.0};
};

class Histogram {
 public:
  // REQUIRES: `bounds` strictly increasing and finite.
  explicit Histogram(std::vector<double> bounds);

  // Records one observation of `value` (seconds for durations).
  void observe(double value) noexcept;

  const std::vector<double>& bounds() const noexcept { return bounds_; }
  // Returns the cumulative count of observations <= bounds()[i], or the total count for i == bounds().size().
  std::uint64_t cumulative_count(std::size_t i) const noexcept;
  std::uint64_t count() const noexcept { return count_.load(std::memory_order_relaxed); }
  double sum() const noexcept { return sum_.load(std::memory_order_relaxed); }

 private:
  std::vector<double> bounds_;
  std::unique_ptr<std::atomic<std::uint64_t>[]> buckets_;  // non-cumulative; last one is +Inf
  std::atomic<std::uint64_t> count_{0};
  std::atomic<double> sum_{0.0};
};

// Default latency buckets, in seconds: 0.5 ms to 10 s.
std::span<const double> default_latency_buckets() noexcept;

class MetricsRegistry {
 public:
  MetricsRegistry() = default;
  MetricsRegistry(const MetricsRegistry&) = delete;
  MetricsRegistry& operator=(const MetricsRegistry&) = delete;

  // Returns the counter `name` with `labels`, creating it at zero. By convention counter names end in _total.
  Counter& counter(std::string_view name, std::string_view help, const Labels& labels = {});
  // Returns the gauge `name` with `labels`, creating it at zero.
  Gauge& gauge(std::string_view name, std::string_view help, const Labels& labels = {});
  // Returns the histogram `name` with `labels` and bucket upper bounds `bounds`, creating it empty.
  Histogram& histogram(std::string_view name, std::string_view help, std::span<const double> bounds,
                       const Labels& labels = {});

  // Returns every metric in the Prometheus text format, families sorted by name.
  std::string render() const;

 private:
  enum class Kind { kCounter, kGauge, kHistogram };
  struct Family {
    Kind kind;
    std::string help;
    std::vector<double> bounds;
    // Keyed by the rendered label set ("{a=\"1\",b=\"2\"}" or "").
    std::map<std::string, std::unique_ptr<Counter>> counters;
    std::map<std::string, std::unique_ptr<Gauge>> gauges;
    std::map<std::string, std::unique_ptr<Histogram>> histograms;
  };

  Family& family(std::string_view name, Kind kind, std::string_view help, std::span<const double> bounds);

  mutable std::mutex mutex_;
  std::map<std::string, Family, std::less<>> families_;
};

}  // namespace wik::http
