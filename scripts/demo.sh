#!/usr/bin/env bash
# Quick start, command 1: installs what wik needs, builds the wik binary (release preset) and runs
# it. Run as root on a fresh Debian 12 machine.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh
scripts/build.sh release wik

wik=build/release/src/cli/wik
"$wik" --help
echo
"$wik" doctor
