// wik_secret_scan: the B5 scan of a capture directory (tests/reliability/secret_scan.h), run by
// scripts/test.sh after the test suite. Prints every finding (never a secret: its hash prefix),
// the report line, and a line of figures; exits 0 when nothing was found, 1 when something was,
// 2 when the directory cannot be scanned or holds no capture at all.
//   wik_secret_scan <capture-dir>
#include <chrono>
#include <cstdio>

#include "reliability/secret_scan.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: wik_secret_scan <capture-dir>\n");
    return 2;
  }
  const auto started = std::chrono::steady_clock::now();
  const auto report = wik::reliability::scan_capture(argv[1]);
  if (!report.ok()) {
    std::fprintf(stderr, "wik_secret_scan: %s\n", report.error().reason().c_str());
    return 2;
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  for (const auto& finding : report->findings) {
    std::printf("B5 found: %s in %s (%s, %s), secret sha256 %s...\n", finding.secret_kind.c_str(),
                finding.output.c_str(), finding.form.c_str(), finding.file.c_str(), finding.secret_hash.c_str());
  }
  std::printf("%s\n", wik::reliability::report_line(*report).c_str());
  std::printf(
      "B5 scanned %.1f MB in %.1f s; %zu secrets under %zu bytes or fillers not searched; %zu carried values allowed; "
      "%zu files cut off by a killed process\n",
      static_cast<double>(report->bytes) / 1e6, seconds, report->short_secrets, wik::reliability::kMinSecretSize,
      report->carried_values, report->truncated_files);
  if (report->processes == 0) {
    std::fprintf(stderr, "wik_secret_scan: no process left a capture in %s (built without WIK_OUTPUT_CAPTURE?)\n",
                 argv[1]);
    return 2;
  }
  return report->findings.empty() ? 0 : 1;
}
