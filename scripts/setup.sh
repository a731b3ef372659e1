#!/usr/bin/env bash
# Installs every Debian 12 package that building, testing and running wik needs.
# Idempotent: run it as root on a fresh Debian 12 machine, run it again at any time.
set -euo pipefail

if [ "$(id -u)" -ne 0 ]; then
  echo "setup.sh: run as root (it calls apt-get install)" >&2
  exit 1
fi

packages=(
  # toolchain
  build-essential cmake ninja-build ccache pkg-config git
  # libraries (DESIGN.md section 4)
  libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev libboost-system1.81-dev
  libssl-dev libsqlite3-dev libpq-dev libtomlplusplus-dev libspdlog-dev libfmt-dev
  libcli11-dev libsodium-dev libpng-dev libicu-dev
  # tests and benchmarks
  libgtest-dev libgmock-dev googletest libbenchmark-dev openssl python3
  # fault injection in the reliability tests (docs/RELIABILITY.md): failing syscalls, a skewed clock
  strace faketime
  # servers the tests start on loopback (nginx also fronts the scale-out test's replicas)
  postgresql-15 nginx
  # browser tests (tests/browser): Node runs playwright-core, which drives Debian's chromium
  chromium nodejs
)
# npm comes inside NodeSource's nodejs package; with Debian's nodejs it is a package of its own.
command -v npm >/dev/null 2>&1 || packages+=(npm)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done

if [ ${#missing[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  # Keep packaged servers (PostgreSQL, nginx) from starting system-wide instances on install:
  # tests and benchmarks start their own, on loopback, and stop them.
  policy=/usr/sbin/policy-rc.d
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' > "$policy"
    chmod +x "$policy"
    trap 'rm -f "$policy"' EXIT
  fi
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
echo "setup.sh: all ${#packages[@]} packages present"
