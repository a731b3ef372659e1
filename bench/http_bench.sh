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

install_missing() {
  local missing=()
  command -v wrk >/dev/null || missing+=(wrk)
  command -v nginx >/dev/null || [[ -x /usr/sbin/nginx ]] || missing+=(nginx-light)
  (( ${#missing[@]} == 0 )) && return
  if (( EUID != 0 )); then echo "please install: ${missing[*]} (apt-get, as root)" >&2; exit 2; fi
  # Keep the package's maintainer scripts from starting a system nginx (invoke-rc.d honours this).
  local created_policy=0
  if [[ ! -e /usr/sbin/policy-rc.d ]]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
    chmod +x /usr/sbin/policy-rc.d
    created_policy=1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null || {
    (( created_policy )) && rm -f /usr/sbin/policy-rc.d
    exit 1
  }
  (( created_policy )) && rm -f /usr/sbin/policy-rc.d
  return 0
}

workdir=$(mktemp -d /tmp/wik-http-bench.XXXXXX)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  done
  rm -rf "$workdir"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

wait_for_port() {
  local port=$1
  for _ in $(seq 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && return 0
    sleep 0.05
  done
  echo "nothing listens on 127.0.0.1:$port" >&2
  return 1
}

# Runs wrk against $1 and prints "requests_per_second p99_ms"; the full wrk output goes to $2.
load() {
  local url=$1 out=$2
  timeout 30 wrk -t"$wrk_threads" -c"$connections" -d2s "$url" >/dev/null  # warm-up
  timeout $((duration + 30)) wrk -t"$wrk_threads" -c"$connections" -d"${duration}s" --latency "$url" > "$out"
  local rps p99
  rps=$(awk '/^Requests\/sec:/ {print $2}' "$out")
  p99=$(awk '$1 == "99%" {v=$2; if (v ~ /us$/) {sub(/us$/, "", v); v/=1000} else if (v ~ /ms$/) {sub(/ms$/, "", v)} else if (v ~ /s$/) {sub(/s$/, "", v); v*=1000}; print v}' "$out")
  errors=$(awk '/Non-2xx|Socket errors/ {print}' "$out")
  [[ -n "$errors" ]] && echo "  wrk reported: $errors" >&2
  echo "$rps $p99"
}

install_missing
nginx_binary=$(command -v nginx || echo /usr/sbin/nginx)

# Both servers run side by side (the idle one costs nothing); the wrk runs alternate between them,
# ROUNDS times, so background load on the machine hits both alike. Medians are reported.
"$server_binary" --threads "$workers" > "$workdir/wik.out" 2> "$workdir/wik.err" &
pids+=($!)
wik_pid=$!
for _ in $(seq 100); do grep -q '^listening on' "$workdir/wik.out" 2>/dev/null && break; sleep 0.05; done
wik_port=$(awk '/^listening on/ {print $3}' "$workdir/wik.out")
[[ -n "$wik_port" ]] || { echo "wik server did not start:" >&2; cat "$workdir/wik.err" >&2; exit 1; }

nginx_port=$(free_port)
mkdir -p "$workdir/nginx/logs"
cat > "$workdir/nginx/nginx.conf" <<CONF
worker_processes $workers;
daemon off;
pid $workdir/nginx/nginx.pid;
error_log $workdir/nginx/logs/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $workdir/nginx/body;
  proxy_temp_path $workdir/nginx/proxy;
  fastcgi_temp_path $workdir/nginx/fastcgi;
  uwsgi_temp_path $workdir/nginx/uwsgi;
  scgi_temp_path $workdir/nginx/scgi;
  keepalive_requests 1000000;
  server {
    listen 127.0.0.1:$nginx_port;
    default_type text/plain;
    location / { return 200 "hello\n"; }
  }
}
CONF
"$nginx_binary" -p "$workdir/nginx" -c "$workdir/nginx/nginx.conf" -e "$workdir/nginx/logs/error.log" &
pids+=($!)
wait_for_port "$nginx_port"

rounds=${ROUNDS:-3}
wik_results=()
nginx_results=()
for round in $(seq "$rounds"); do
  wik_results+=("$(load "http://127.0.0.1:$wik_port/" "$workdir/wrk-wik-$round.txt")")
  nginx_results+=("$(load "http://127.0.0.1:$nginx_port/" "$workdir/wrk-nginx-$round.txt")")
  echo "round $round: wik ${wik_results[-1]}  nginx ${nginx_results[-1]}  (req/s p99_ms)" >&2
done
kill -TERM "$wik_pid"
wait "$wik_pid" && wik_exit=0 || wik_exit=$?

median() { sort -g | awk '{v[NR]=$1} END {print (NR % 2) ? v[(NR+1)/2] : (v[NR/2] + v[NR/2+1]) / 2}'; }
wik_rps=$(printf '%s\n' "${wik_results[@]}" | awk '{print $1}' | median)
wik_p99=$(printf '%s\n' "${wik_results[@]}" | awk '{print $2}' | median)
nginx_rps=$(printf '%s\n' "${nginx_results[@]}" | awk '{print $1}' | median)
nginx_p99=$(printf '%s\n' "${nginx_results[@]}" | awk '{print $2}' | median)

ratio=$(awk -v a="$wik_rps" -v b="$nginx_rps" 'BEGIN {printf "%.2f", a / b}')
echo "machine: $(nproc) cores, $(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo); $(uname -sr); load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "load:    wrk -t$wrk_threads -c$connections -d${duration}s --latency (after a 2 s warm-up), GET / on 127.0.0.1; $workers server workers each; median of $rounds alternating rounds"
printf '%-6s %12s req/s   p99 %8s ms\n' wik "$wik_rps" "$wik_p99" nginx "$nginx_rps" "$nginx_p99"
echo "ratio:   $ratio of nginx's requests/s (goal >= 0.8; p99 goal < 5 ms); wik exited $wik_exit after SIGTERM"
