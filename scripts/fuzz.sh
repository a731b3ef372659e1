#!/usr/bin/env bash
# Runs every fuzz target under libFuzzer (clang, ASan + UBSan) for a bounded time each: G1 in
# docs/RELIABILITY.md, described in docs/fuzzing.md.
#   scripts/fuzz.sh [seconds-per-target=60] [target ...]
# Installs clang and its fuzzer runtime from Debian (root), builds the "fuzz" preset, and runs each
# target (default: every folder of fuzz/seeds) on its seeds plus the corpus it grew in earlier runs,
# build/fuzz/corpus/<target>, with fuzz/dicts/<target>.dict when there is one. After each target it
# prints one line, from libFuzzer's final stats, its last status line and the files it left:
#   G1 fuzz <target>: execs=…, exec/s=…, cov=…, ft=…, corpus=…, crashes=…, ooms=…, timeouts=…, seconds=…
# (crashes counts crash- and leak- files). Every crash, leak, out-of-memory or timeout input is
# copied into fuzz/seeds/<target>/, where the CTest replay keeps it as a regression seed; the run
# goes on through every target and exits non-zero at the end if any target left one or failed.
# The full log of each target stays in build/fuzz/artifacts/<target>/fuzz.log.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${1:-60}
shift || true

scripts/setup.sh
for p in clang libclang-rt-14-dev; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || \
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$p"
done

targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  mapfile -t targets < <(find fuzz/seeds -mindepth 1 -maxdepth 1 -type d -printf '%f\n' | sort)
fi
scripts/build.sh fuzz "${targets[@]}"

# Prints the value of libFuzzer's final statistic $2 (stat::$2) in log $1, or 0.
final_stat() {
  sed -n "s/^stat::$2: *\([0-9]*\).*/\1/p" "$1" | tail -n 1 | grep . || echo 0
}

# Prints the figure after "$2: " in the last status line ("#N ... cov: X ft: Y corp: Z/...") of log $1.
status_figure() {
  grep -E '^#[0-9]+' "$1" | grep ' cov: ' | tail -n 1 | sed -n "s/.* $2: \([0-9]*\).*/\1/p" | grep . || echo 0
}

findings=0
for target in "${targets[@]}"; do
  corpus="build/fuzz/corpus/$target"
  artifacts="build/fuzz/artifacts/$target"
  rm -rf "$artifacts"
  mkdir -p "$corpus" "$artifacts"
  dict=()
  [ -f "fuzz/dicts/$target.dict" ] && dict=("-dict=fuzz/dicts/$target.dict")
  log="$artifacts/fuzz.log"
  started=$(date +%s)
  status=0
  UBSAN_OPTIONS=print_stacktrace=1 "build/fuzz/fuzz/$target" "${dict[@]}" -max_total_time="$seconds" -timeout=10 \
    -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$artifacts/" "$corpus" "fuzz/seeds/$target" \
    >"$log" 2>&1 || status=$?
  elapsed=$(( $(date +%s) - started ))

  crashes=$(find "$artifacts" -type f \( -name 'crash-*' -o -name 'leak-*' \) | wc -l)
  ooms=$(find "$artifacts" -type f -name 'oom-*' | wc -l)
  timeouts=$(find "$artifacts" -type f -name 'timeout-*' | wc -l)
  echo "G1 fuzz $target: execs=$(final_stat "$log" number_of_executed_units)," \
    "exec/s=$(final_stat "$log" average_exec_per_sec), cov=$(status_figure "$log" cov)," \
    "ft=$(status_figure "$log" ft), corpus=$(status_figure "$log" corp), crashes=$crashes, ooms=$ooms," \
    "timeouts=$timeouts, seconds=$elapsed"

  found=$((crashes + ooms + timeouts))
  if [ "$found" -gt 0 ]; then
    find "$artifacts" -type f \( -name 'crash-*' -o -name 'leak-*' -o -name 'oom-*' -o -name 'timeout-*' \) \
      -exec cp {} "fuzz/seeds/$target/" \;
    echo "fuzz.sh: $target: $found input(s) copied to fuzz/seeds/$target/; log: $log" >&2
    findings=$((findings + found))
  elif [ "$status" -ne 0 ]; then
    echo "fuzz.sh: $target: libFuzzer exited with status $status and left no input; log: $log" >&2
    tail -n 20 "$log" >&2
    findings=$((findings + 1))
  fi
done

if [ "$findings" -gt 0 ]; then
  echo "fuzz.sh: $findings finding(s); fix them and keep the copied inputs as seeds" >&2
  exit 1
fi
