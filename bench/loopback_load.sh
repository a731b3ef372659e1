# Shell functions shared by the wrk load tests in bench/ (http_bench.sh, webhook_ingest_bench.sh):
# tool installation, a work directory whose processes are stopped on exit, nginx as the ceiling,
# a throw-away PostgreSQL cluster, and one wrk run reported as "requests_per_second p50_ms p99_ms".
# Source it from a bash script running under `set -euo pipefail`; it defines functions and the
# globals `workdir`, `pids` and `cleanup_hooks`, and starts nothing by itself. Everything is bound
# to 127.0.0.1.

# Installs wrk and nginx with apt-get when missing (root needed), keeping the Debian nginx package
# from starting a system server.
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

# Creates $workdir (prefix $1) and arranges, on exit, to run every command in cleanup_hooks (last
# added first), stop every process in pids (SIGTERM, then SIGKILL after 10 s) and remove $workdir.
start_workdir() {
  workdir=$(mktemp -d "/tmp/$1.XXXXXX")
  pids=()
  cleanup_hooks=()
  trap cleanup EXIT
}

cleanup() {
  local pid i
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  done
  for (( i = ${#cleanup_hooks[@]} - 1; i >= 0; i-- )); do eval "${cleanup_hooks[i]}" || true; done
  rm -rf "$workdir"
}

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

# Starts nginx from a private prefix under $workdir with $1 worker processes, answering every
# request (any method and path) with `return 200 "hello\n"`, access log off; sets nginx_port.
start_nginx() {
  local workers=$1 nginx_binary
  nginx_binary=$(command -v nginx || echo /usr/sbin/nginx)
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
}

# Runs a command as the PostgreSQL OS user when running as root (initdb refuses root).
as_postgres() {
  if (( EUID == 0 )); then runuser -u postgres -- "$@"; else "$@"; fi
}

# Starts a throw-away PostgreSQL 15 cluster (fsync on, as bench/store_bench.cpp's) in its own
# temporary directory, listening on 127.0.0.1 only; sets pg_port and pg_url (database wik_bench,
# TCP) and stops the cluster (immediate mode) and removes its directory on exit.
start_postgres() {
  local bindir=${WIK_PG_BINDIR:-/usr/lib/postgresql/15/bin}
  pg_dir=$(mktemp -d /tmp/wik-bench-pg.XXXXXX)
  (( EUID == 0 )) && chown postgres: "$pg_dir"
  cleanup_hooks+=("as_postgres '$bindir/pg_ctl' -D '$pg_dir/data' -m immediate -w stop >/dev/null 2>&1; rm -rf '$pg_dir'")
  pg_port=$(free_port)
  as_postgres "$bindir/initdb" -D "$pg_dir/data" -U postgres -A trust -E UTF8 --locale=C --no-sync \
    --no-instructions >/dev/null
  as_postgres "$bindir/pg_ctl" -D "$pg_dir/data" -l "$pg_dir/server.log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -c port=$pg_port -c unix_socket_directories=$pg_dir -c fsync=on -c max_connections=100 -c shared_buffers=64MB" \
    start >/dev/null
  "$bindir/psql" -X -q -h 127.0.0.1 -p "$pg_port" -U postgres -d postgres -c "CREATE DATABASE wik_bench" >/dev/null
  pg_url="postgresql://postgres@127.0.0.1:$pg_port/wik_bench"
}

# Converts a wrk latency ("812.00us", "1.20ms", "1.05s") in column 2 of its input to milliseconds.
wrk_ms() {
  awk '{v=$2; if (v ~ /us$/) {sub(/us$/, "", v); v/=1000} else if (v ~ /ms$/) {sub(/ms$/, "", v)} else if (v ~ /s$/) {sub(/s$/, "", v); v*=1000}; print v}'
}

# load URL OUT [wrk arguments…]: a 2 s warm-up (its output kept in OUT.warmup), then
# `wrk -t$wrk_threads -c$connections -d${duration}s --latency`; prints "requests_per_second p50_ms
# p99_ms" and keeps the full output in OUT. Reports socket errors and non-2xx answers on stderr.
load() {
  local url=$1 out=$2
  shift 2
  timeout 30 wrk -t"$wrk_threads" -c"$connections" -d2s "$@" "$url" > "$out.warmup" || return 1
  timeout $((duration + 30)) wrk -t"$wrk_threads" -c"$connections" -d"${duration}s" --latency "$@" "$url" > "$out" ||
    return 1
  local rps p50 p99 errors
  rps=$(awk '/^Requests\/sec:/ {print $2}' "$out")
  [[ -n "$rps" ]] || { echo "wrk printed no result:" >&2; cat "$out" >&2; return 1; }
  p50=$(awk '$1 == "50%"' "$out" | wrk_ms)
  p99=$(awk '$1 == "99%"' "$out" | wrk_ms)
  errors=$(awk '/Non-2xx|Socket errors/ {print}' "$out")
  [[ -n "$errors" ]] && echo "  wrk reported: $errors" >&2
  echo "$rps $p50 $p99"
}

# Prints the number of 2xx answers wrk counted in output file $1 (requests minus non-2xx/3xx).
wrk_ok_answers() {
  awk '/requests in/ {n=$1} /Non-2xx or 3xx responses:/ {bad=$NF} END {print n - bad}' "$1"
}

# Prints the CPU time (user + system, in clock ticks) used so far by processes $@ and their live
# children (nginx workers, PostgreSQL backends), so a run's CPU cost per request can be computed.
tree_ticks() {
  local pid child total=0
  for pid in "$@"; do
    for child in "$pid" $(pgrep -P "$pid" || true); do
      [[ -r "/proc/$child/stat" ]] || continue
      total=$(( total + $(sed 's/^.*) //' "/proc/$child/stat" | awk '{print $12 + $13}') ))
    done
  done
  echo "$total"
}

# Prints the number of requests wrk completed according to output file $1.
wrk_requests() { awk '/requests in/ {print $1}' "$1"; }

# Reads numbers, one a line, and prints their median.
median() { sort -g | awk '{v[NR]=$1} END {print (NR % 2) ? v[(NR+1)/2] : (v[NR/2] + v[NR/2+1]) / 2}'; }

machine_line() {
  echo "machine: $(nproc) cores, $(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo); $(uname -sr); load average $(cut -d' ' -f1-3 /proc/loadavg)"
}
