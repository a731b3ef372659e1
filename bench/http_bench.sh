#!/usr/bin/env bash
# Loads wik's HTTP server and nginx with the same wrk run on loopback and prints both and the ratio
# (issue 3's benchmark; figures go to docs/PERFORMANCE.md). Builds nothing:
#
#   bench/http_bench.sh build/release/bench/wik_http_hello_server [seconds] [connections]
#
# Both servers answer GET / with 200 "hello\n", use one worker (thread/process) per core and no
# access log. Environment: WORKERS (server workers, default nproc), WRK_THREADS (default 2),
# ROUNDS (alternating wrk runs per server, default 3; medians are reported). wrk and nginx are
# installed with apt-get when missing (root needed); the Debian nginx package is kept from starting
# a system server. Everything started here is stopped on exit. Runs at most about
# ROUNDS * 2 * (seconds + 2) seconds.
set -euo pipefail

server_binary=${1:?usage: $0 <wik_http_hello_server> [seconds] [connections]}
duration=${2:-10}
connections=${3:-64}
wrk_threads=${WRK_THREADS:-2}
workers=${WORKERS:-$(nproc)}

[[ -x "$server_binary" ]] || { echo "not an executable: $server_binary" >&2; exit 2; }
(( duration > 0 && duration <= 60 )) || { echo "duration must be 1..60 seconds" >&2; exit 2; }
(( ${ROUNDS:-3} > 0 && ${ROUNDS:-3} <= 10 )) || { echo "ROUNDS must be 1..10" >&2; exit 2; }

source "$(dirname "${BASH_SOURCE[0]}")/loopback_load.sh"
start_workdir wik-http-bench

install_missing

# Both servers run side by side (the idle one costs nothing); the wrk runs alternate between them,
# ROUNDS times, so background load on the machine hits both alike. Medians are reported.
"$server_binary" --threads "$workers" > "$workdir/wik.out" 2> "$workdir/wik.err" &
pids+=($!)
wik_pid=$!
for _ in $(seq 100); do grep -q '^listening on' "$workdir/wik.out" 2>/dev/null && break; sleep 0.05; done
wik_port=$(awk '/^listening on/ {print $3}' "$workdir/wik.out")
[[ -n "$wik_port" ]] || { echo "wik server did not start:" >&2; cat "$workdir/wik.err" >&2; exit 1; }

start_nginx "$workers"

rounds=${ROUNDS:-3}
wik_results=()
nginx_results=()
for round in $(seq "$rounds"); do
  wik_results+=("$(load "http://127.0.0.1:$wik_port/" "$workdir/wrk-wik-$round.txt")")
  nginx_results+=("$(load "http://127.0.0.1:$nginx_port/" "$workdir/wrk-nginx-$round.txt")")
  echo "round $round: wik ${wik_results[-1]}  nginx ${nginx_results[-1]}  (req/s p50_ms p99_ms)" >&2
done
kill -TERM "$wik_pid"
wait "$wik_pid" && wik_exit=0 || wik_exit=$?

wik_rps=$(printf '%s\n' "${wik_results[@]}" | awk '{print $1}' | median)
wik_p99=$(printf '%s\n' "${wik_results[@]}" | awk '{print $3}' | median)
nginx_rps=$(printf '%s\n' "${nginx_results[@]}" | awk '{print $1}' | median)
nginx_p99=$(printf '%s\n' "${nginx_results[@]}" | awk '{print $3}' | median)

ratio=$(awk -v a="$wik_rps" -v b="$nginx_rps" 'BEGIN {printf "%.2f", a / b}')
machine_line
echo "load:    wrk -t$wrk_threads -c$connections -d${duration}s --latency (after a 2 s warm-up), GET / on 127.0.0.1; $workers server workers each; median of $rounds alternating rounds"
printf '%-6s %12s req/s   p99 %8s ms\n' wik "$wik_rps" "$wik_p99" nginx "$nginx_rps" "$nginx_p99"
echo "ratio:   $ratio of nginx's requests/s (goal >= 0.8; p99 goal < 5 ms); wik exited $wik_exit after SIGTERM"
