#!/usr/bin/env bash
# The long reliability run (docs/RELIABILITY.md): the suite's reliability tests at full size — H1
# (kill -9) and H9 (rolling restarts) for `seconds` of load per engine, H2 with 1,000 power cuts per
# setting, H6 with 10 pauses per engine, H8 (replicas behind nginx) with 20 s of load per phase,
# the platform faults with 1,000 messages, H5 (network faults) with 200 messages per toxic and link,
# H7 (clock skew) with 60 s of load, F1 with 30 seeds and B8 with 400,000 measurements per
# comparison, and H10 (the soak) for 10 one-minute intervals; H3 (I/O errors and a full disk, as
# root) sweeps every fault point N.
# Appends every report line, stamped with the date, the git revision, the build and the machine, to
# a results file, and exits non-zero when any test failed. Takes about 65 minutes with the default
# 60 s (H3's sweep about 30 of them).
#   scripts/reliability.sh [seconds=60] [results=build/reliability-results.txt] [build-dir]
# Without a build directory it builds the tests in the debug preset (build/debug); with one, it runs
# the tests already built there.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${1:-60}
results=${2:-build/reliability-results.txt}
build_dir=${3:-}

if [ -z "$build_dir" ]; then
  scripts/build.sh debug wik_reliability_test wik_power_loss_test wik_constant_time_test wik_network_faults_test wik_soak_test \
    wik_disk_faults_test
  build_dir=build/debug
fi
build_type=$(sed -n 's/^CMAKE_BUILD_TYPE:STRING=//p' "$build_dir/CMakeCache.txt")
tests="$build_dir/tests/reliability"

output=$(mktemp)
trap 'rm -f "$output"' EXIT
status=0
# Runs one test binary with a filter and environment settings, keeping its output for the report.
run() {
  local binary=$1 filter=$2
  shift 2
  env "$@" "$tests/$binary" --gtest_filter="$filter" 2>&1 | tee -a "$output" || status=1
}
run wik_reliability_test 'Engines/Kill9Test.*' WIK_H1_SECONDS="$seconds"
run wik_reliability_test 'Engines/GracefulRestartTest.*' WIK_H9_SECONDS="$seconds"
run wik_reliability_test 'Engines/PauseTest.*' WIK_H6_PAUSES=10
run wik_reliability_test 'ClockSkewTest.*' WIK_H7_SECONDS=60
run wik_reliability_test 'ScaleOutTest.*' WIK_H8_SECONDS=20
run wik_reliability_test 'PlatformFaultsTest.*' WIK_PLATFORM_FAULTS_MESSAGES=1000
run wik_network_faults_test 'Toxics/NetworkFaultsTest.*' WIK_H5_MESSAGES=200
run wik_reliability_test 'Seeds/IsolationTest.*' WIK_F1_SEEDS=30
run wik_power_loss_test 'H2PowerLoss.*' WIK_H2_TRIALS=1000
run wik_disk_faults_test 'H3DiskFaults.*' WIK_H3_FULL=1
run wik_constant_time_test '*' WIK_B8_MEASUREMENTS=400000
run wik_soak_test 'H10Soak.*' WIK_H10_MINUTES=10

revision=$(git rev-parse --short HEAD)
git diff --quiet HEAD -- || revision="$revision+changes"
machine="$(nproc) cores, $(. /etc/os-release && echo "$PRETTY_NAME")"
stamp="$(date -u +%Y-%m-%dT%H:%M:%SZ) $revision ${build_type:-unknown build} ${seconds}s ($machine)"
mkdir -p "$(dirname "$results")"
# Report lines only: not H3's line per fault point ("H3 ioerr <point>: …"), only its summary.
{ grep -E '^(H[0-9]+ |F1 isolation|B8 |platform faults:)' "$output" | grep -v '^H3 ioerr ' || true; } |
  sed "s|^|$stamp: |" | tee -a "$results"
echo "appended to $results"
exit "$status"
