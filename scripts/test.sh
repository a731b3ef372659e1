#!/usr/bin/env bash
# Quick start, command 2: installs what wik needs, builds every target of a preset (default:
# sanitize, i.e. AddressSanitizer + UndefinedBehaviorSanitizer) and runs the whole test suite with
# CTest, ending with CTest's summary line. Run as root on a fresh Debian 12 machine.
set -euo pipefail
cd "$(dirname "$0")/.."

preset=${1:-sanitize}

scripts/setup.sh
# playwright-core for the browser tests, exactly as locked (no browser download: they use chromium).
PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --prefix tests/browser --no-audit --no-fund
scripts/build.sh "$preset"
ctest --preset "$preset" --parallel "$(nproc)" --timeout 600
