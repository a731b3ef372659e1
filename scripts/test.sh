#!/usr/bin/env bash
# Quick start, command 2: installs what wik needs, builds every target of a preset (default:
# sanitize, i.e. AddressSanitizer + UndefinedBehaviorSanitizer) and runs the whole test suite with
# CTest, then the B5 secret scan over everything the suite logged and answered, ending with its
# report line. Run as root on a fresh Debian 12 machine.
set -euo pipefail
cd "$(dirname "$0")/.."

preset=${1:-sanitize}

scripts/setup.sh
# playwright-core for the browser tests, exactly as locked (no browser download: they use chromium).
PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --prefix tests/browser --no-audit --no-fund
scripts/build.sh "$preset"
# B5 (docs/RELIABILITY.md): each test process captures its log lines, HTTP responses and secrets
# here (core/output_capture.h); wik_secret_scan then looks for every secret in every output.
capture_dir="$PWD/build/$preset/secret-capture"
rm -rf "$capture_dir" && mkdir -p "$capture_dir"
status=0
WIK_CAPTURE_DIR="$capture_dir" ctest --preset "$preset" --parallel "$(nproc)" --timeout 600 || status=$?
if grep -q '^WIK_OUTPUT_CAPTURE:BOOL=ON' "build/$preset/CMakeCache.txt"; then
  "build/$preset/tests/reliability/wik_secret_scan" "$capture_dir" || status=1
else
  echo "B5 secrets: not scanned (the $preset preset is built without WIK_OUTPUT_CAPTURE)"
fi
exit "$status"
