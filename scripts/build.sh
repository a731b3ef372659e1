#!/usr/bin/env bash
# Configures and builds one CMake preset (default: debug) in build/<preset>; extra arguments are
# build targets (default: all). Reuses the build directory and ccache, so rebuilds are incremental.
set -euo pipefail
cd "$(dirname "$0")/.."

preset=${1:-debug}
shift || true

jobs=$(nproc)
if [ ! -f "build/$preset/build.ninja" ]; then
  cmake --preset "$preset"
fi
if [ $# -gt 0 ]; then
  cmake --build --preset "$preset" --parallel "$jobs" --target "$@"
else
  cmake --build --preset "$preset" --parallel "$jobs"
fi
