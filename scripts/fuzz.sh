#!/usr/bin/env bash
# Runs every fuzz target under libFuzzer (clang, ASan + UBSan) for a bounded time each.
#   scripts/fuzz.sh [seconds-per-target=60] [target ...]
# Installs clang and its fuzzer runtime from Debian (root), builds the "fuzz" preset, starts each
# target from a copy of its seed corpus in build/fuzz/corpus/<target>, and stops by itself.
# New inputs that raise coverage stay in that corpus; copy interesting ones into fuzz/seeds/.
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

for target in "${targets[@]}"; do
  corpus="build/fuzz/corpus/$target"
  mkdir -p "$corpus"
  cp -n "fuzz/seeds/$target"/* "$corpus"/ 2>/dev/null || true
  echo "== $target: ${seconds}s"
  "build/fuzz/fuzz/$target" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 "$corpus"
done
