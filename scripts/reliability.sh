#!/usr/bin/env bash
# The long reliability run (docs/RELIABILITY.md): H1, kill -9 under load, with the nemesis running
# `seconds` per engine (SQLite, then PostgreSQL) instead of the 20 s of the test suite. Appends the
# report lines, each stamped with the date, the git revision, the build and the machine, to a
# results file, and exits with the test's status.
#   scripts/reliability.sh [seconds=60] [results=build/reliability-results.txt] [build-dir]
# Without a build directory it builds the test in the debug preset (build/debug); with one, it runs
# the test already built there.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${1:-60}
results=${2:-build/reliability-results.txt}
build_dir=${3:-}

if [ -z "$build_dir" ]; then
  scripts/build.sh debug wik_reliability_test
  build_dir=build/debug
fi
build_type=$(sed -n 's/^CMAKE_BUILD_TYPE:STRING=//p' "$build_dir/CMakeCache.txt")

output=$(mktemp)
trap 'rm -f "$output"' EXIT
status=0
WIK_H1_SECONDS="$seconds" "$build_dir/tests/reliability/wik_reliability_test" --gtest_filter='Engines/Kill9Test.*' \
  2>&1 | tee "$output" || status=$?

revision=$(git rev-parse --short HEAD)
git diff --quiet HEAD -- || revision="$revision+changes"
machine="$(nproc) cores, $(. /etc/os-release && echo "$PRETTY_NAME")"
stamp="$(date -u +%Y-%m-%dT%H:%M:%SZ) $revision ${build_type:-unknown build} ${seconds}s ($machine)"
mkdir -p "$(dirname "$results")"
{ grep '^H1 kill9 ' "$output" || true; } | sed "s|^|$stamp: |" | tee -a "$results"
echo "appended to $results"
exit "$status"
