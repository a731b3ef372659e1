#!/usr/bin/env bash
# Quick start, command 1: installs what wik needs, builds the wik binary and the helpdesk example
# (release preset) and runs `wik demo`: the Workplace emulator and the helpdesk integration on
# 127.0.0.1, until Ctrl-C (docs/getting-started.md). The demo's keys, secrets and database live in
# $WIK_DEMO_DATA (default ./wik-demo) and are reused by the next run. Run as root on a fresh
# Debian 12 machine.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh
scripts/build.sh release wik wik_example_helpdesk

exec build/release/src/cli/wik demo --data "${WIK_DEMO_DATA:-./wik-demo}"
