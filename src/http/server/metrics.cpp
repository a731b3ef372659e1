#include "http/server/metrics.h"

#include <wik/result.h>

#include <fmt/format.h>

#include <array>
#include <cmath>

namespace wik::http {
namespace {

constexpr std::array kLatencyBuckets = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                        0.1,    0.25,  0.5,    1.0,   2.5,   5.0,  10.0};

void add_double(std::atomic<double>& target, double by) noexcept {
  double current = target.load(std::memory_order_relaxed);
  while (!target.compare_exchange_weak(current, current + by, std::memory_order_relaxed)) {
  }
}

bool valid_name(std::string_view name, bool allow_colon) {
  if (name.empty()) return false;
  for (std::size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (allow_colon && c == ':');
    const bool digit = c >= '0' && c <= '9';
    if (!alpha && !(digit && i > 0)) return false;
  }
  return true;
}

std::string escape_label_value(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (const char c : value) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string escape_help(std::string_view help) {
  std::string out;
  for (const char c : help) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

// Returns the label set as rendered inside braces, without the braces: a="1",b="2".
std::string label_text(const Labels& labels) {
  std::string text;
  for (const auto& [name, value] : labels) {
    if (!valid_name(name, false) || name.starts_with("__")) fatal("invalid metric label name: " + name);
    if (!text.empty()) text += ',';
    text += name;
    text += "=\"";
    text += escape_label_value(value);
    text += '"';
  }
  return text;
}

std::string braces(const std::string& inner) { return inner.empty() ? std::string() : "{" + inner + "}"; }

std::string format_double(double value) {
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  if (std::isnan(value)) return "NaN";
  return fmt::format("{}", value);
}

}  // namespace

void Gauge::add(double by) noexcept { add_double(value_, by); }

Histogram::Histogram(std::vector<double> bounds)
    : bounds_(std::move(bounds)), buckets_(new std::atomic<std::uint64_t>[bounds_.size() + 1]) {
  for (std::size_t i = 0; i < bounds_.size(); ++i) {
    if (!std::isfinite(bounds_[i]) || (i > 0 && bounds_[i] <= bounds_[i - 1])) {
      fatal("histogram bounds must be finite and strictly increasing");
    }
  }
  for (std::size_t i = 0; i <= bounds_.size(); ++i) buckets_[i].store(0, std::memory_order_relaxed);
}

void Histogram::observe(double value) noexcept {
  std::size_t i = 0;
  while (i < bounds_.size() && value > bounds_[i]) ++i;
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
  add_double(sum_, value);
}

std::uint64_t Histogram::cumulative_count(std::size_t i) const noexcept {
  std::uint64_t total = 0;
  for (std::size_t j = 0; j <= i && j <= bounds_.size(); ++j) total += buckets_[j].load(std::memory_order_relaxed);
  return total;
}

std::span<const double> default_latency_buckets() noexcept { return kLatencyBuckets; }

MetricsRegistry::Family& MetricsRegistry::family(std::string_view name, Kind kind, std::string_view help,
                                                 std::span<const double> bounds) {
  auto it = families_.find(name);
  if (it == families_.end()) {
    if (!valid_name(name, true)) fatal("invalid metric name: " + std::string(name));
    Family created{kind, std::string(help), std::vector<double>(bounds.begin(), bounds.end()), {}, {}, {}};
    it = families_.emplace(std::string(name), std::move(created)).first;
  } else {
    const Family& existing = it->second;
    if (existing.kind != kind || existing.help != help ||
        !std::equal(existing.bounds.begin(), existing.bounds.end(), bounds.begin(), bounds.end())) {
      fatal("metric registered twice with a different kind, help or buckets: " + std::string(name));
    }
  }
  return it->second;
}

Counter& MetricsRegistry::counter(std::string_view name, std::string_view help, const Labels& labels) {
  std::string key = label_text(labels);
  const std::lock_guard lock(mutex_);
  auto& slot = family(name, Kind::kCounter, help, {}).counters[std::move(key)];
  if (!slot) slot = std::make_unique<Counter>();
  return *slot;
}

Gauge& MetricsRegistry::gauge(std::string_view name, std::string_view help, const Labels& labels) {
  std::string key = label_text(labels);
  const std::lock_guard lock(mutex_);
  auto& slot = family(name, Kind::kGauge, help, {}).gauges[std::move(key)];
  if (!slot) slot = std::make_unique<Gauge>();
  return *slot;
}

Histogram& MetricsRegistry::histogram(std::string_view name, std::string_view help, std::span<const double> bounds,
                                      const Labels& labels) {
  for (const auto& label : labels) {
    if (label.first == "le") fatal("histogram label may not be named le");
  }
  std::string key = label_text(labels);
  const std::lock_guard lock(mutex_);
  auto& slot = family(name, Kind::kHistogram, help, bounds).histograms[std::move(key)];
  if (!slot) slot = std::make_unique<Histogram>(std::vector<double>(bounds.begin(), bounds.end()));
  return *slot;
}

std::string MetricsRegistry::render() const {
  std::string out;
  const std::lock_guard lock(mutex_);
  for (const auto& [name, family] : families_) {
    out += fmt::format("# HELP {} {}\n", name, escape_help(family.help));
    switch (family.kind) {
      case Kind::kCounter:
        out += fmt::format("# TYPE {} counter\n", name);
        for (const auto& [labels, counter] : family.counters) {
          out += fmt::format("{}{} {}\n", name, braces(labels), counter->value());
        }
        break;
      case Kind::kGauge:
        out += fmt::format("# TYPE {} gauge\n", name);
        for (const auto& [labels, gauge] : family.gauges) {
          out += fmt::format("{}{} {}\n", name, braces(labels), format_double(gauge->value()));
        }
        break;
      case Kind::kHistogram:
        out += fmt::format("# TYPE {} histogram\n", name);
        for (const auto& [labels, histogram] : family.histograms) {
          const std::string prefix = labels.empty() ? std::string() : labels + ",";
          const auto& bounds = histogram->bounds();
          for (std::size_t i = 0; i <= bounds.size(); ++i) {
            const std::string le = i < bounds.size() ? format_double(bounds[i]) : "+Inf";
            out += fmt::format("{}_bucket{{{}le=\"{}\"}} {}\n", name, prefix, le, histogram->cumulative_count(i));
          }
          out += fmt::format("{}_sum{} {}\n", name, braces(labels), format_double(histogram->sum()));
          out += fmt::format("{}_count{} {}\n", name, braces(labels), histogram->count());
        }
        break;
    }
  }
  return out;
}

}  // namespace wik::http
