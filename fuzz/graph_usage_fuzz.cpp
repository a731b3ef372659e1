// Fuzz target graph_usage: the usage headers of a Graph response (X-App-Usage, X-Page-Usage and
// X-Business-Use-Case-Usage, one per line of the input; a missing line is a missing header) through
// parse_usage and into the RateGovernor that paces the next call, after a plain and after a
// throttled answer. Checks: the figure stays within 0–1000 %; a time to regain access within
// 1 minute – 24 hours; the governor blocks exactly when the answer was throttled or a figure
// reached 100, never past the time to regain access (or the longest back-off when none is given),
// and never paces beyond max_pacing.
#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string_view>

#include "core/clock.h"
#include "graph/rate_limit.h"

namespace {

class FixedClock final : public wik::core::Clock {
 public:
  // wik::core::Clock
  std::chrono::system_clock::time_point now() const override {
    return std::chrono::system_clock::time_point(std::chrono::seconds(1764370000));
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace wik::graph;
  std::string_view input(reinterpret_cast<const char*>(data), size);
  std::array<std::optional<std::string_view>, 3> headers;
  for (auto& header : headers) {
    if (input.empty()) break;
    const std::size_t newline = input.find('\n');
    header = input.substr(0, newline);
    input = newline == std::string_view::npos ? std::string_view() : input.substr(newline + 1);
  }
  const Usage usage = parse_usage(headers[0], headers[1], headers[2]);
  if (usage.max_percent < 0 || usage.max_percent > 1000) std::abort();
  if (usage.regain_access &&
      (*usage.regain_access < std::chrono::minutes(1) || *usage.regain_access > std::chrono::hours(24))) {
    std::abort();
  }

  const FixedClock clock;
  const RateGovernorOptions options;
  RateGovernor governor(clock, options);
  for (const bool throttled : {false, true}) {
    governor.after_call("community", usage, throttled);
    const CallPermit permit = governor.before_call("community");
    if (permit.blocked_until.has_value() != (throttled || usage.max_percent >= 100)) std::abort();
    const auto longest_wait = usage.regain_access.value_or(options.max_backoff);
    if (permit.blocked_until && *permit.blocked_until > clock.now() + longest_wait) std::abort();
    if (permit.pace < std::chrono::milliseconds(0) || permit.pace > options.max_pacing) std::abort();
  }
  return 0;
}
