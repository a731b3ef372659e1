#!/usr/bin/env bash
# Durable webhook ingest against nginx (issue 7; figures go to docs/PERFORMANCE.md, "Webhooks").
# Builds nothing:
#
#   bench/webhook_ingest_bench.sh build/release/bench/wik_webhook_ingest_server [engines] [seconds] [connections]
#
# engines: sqlite, postgres or both (default). For each engine it starts wik_webhook_ingest_server
# (a wik::App with a no-op handler and COMMUNITIES installed communities, on a fresh SQLite file or a
# fresh database of a throw-away PostgreSQL 15 cluster with fsync on) and, once per script, nginx
# with `return 200` (access log off). Both get the same wrk load: bench/webhook_ingest.lua POSTs
# signed page deliveries of about BODY_BYTES bytes, each with a message id never sent before, so
# every 200 from wik is a new event stored durably (no duplicate short-cut). wrk -t$WRK_THREADS
# -c<connections> -d<seconds> --latency after a 2 s warm-up, ROUNDS alternating rounds per engine;
# medians and the ratio are printed, and every round too.
#
# Durability check, per engine: after the rounds the server is stopped and counts its inbox rows.
# Every 200 wrk received must be a stored row (rows >= 200s), and the server's own count of stored
# events (webhook_events_total{outcome="stored"} from /metrics, read before stopping) must equal the
# rows; rows - 200s is at most the requests in flight when each wrk run stopped (connections per run).
#
# Environment: WORKERS (server I/O threads and nginx workers, default nproc), WRK_THREADS (2),
# ROUNDS (3), COMMUNITIES (5), BODY_BYTES (700). INGEST_ONLY=1 serves the webhook route without the
# App's dispatcher (events stay pending; to see what the ingest alone costs). wrk and nginx are
# installed with apt-get when missing (root needed). Everything started here is stopped on exit,
# the PostgreSQL cluster included.
# Runs at most about engines * ROUNDS * 2 * (seconds + 2) seconds plus start-up.
set -euo pipefail

server_binary=${1:?usage: $0 <wik_webhook_ingest_server> [sqlite|postgres|both] [seconds] [connections]}
engines=${2:-both}
duration=${3:-10}
connections=${4:-64}
wrk_threads=${WRK_THREADS:-2}
workers=${WORKERS:-$(nproc)}
rounds=${ROUNDS:-3}
communities=${COMMUNITIES:-5}
body_bytes=${BODY_BYTES:-700}

[[ -x "$server_binary" ]] || { echo "not an executable: $server_binary" >&2; exit 2; }
case "$engines" in sqlite|postgres) ;; both) engines="sqlite postgres" ;; *) echo "engines: sqlite, postgres or both" >&2; exit 2 ;; esac
(( duration > 0 && duration <= 60 )) || { echo "duration must be 1..60 seconds" >&2; exit 2; }
(( rounds > 0 && rounds <= 10 )) || { echo "ROUNDS must be 1..10" >&2; exit 2; }

source "$(dirname "${BASH_SOURCE[0]}")/loopback_load.sh"
script="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/webhook_ingest.lua"
start_workdir wik-webhook-bench
install_missing
start_nginx "$workers"
nginx_pid=${pids[-1]}
export WIK_BENCH_TEMPLATES="$workdir/templates.txt"
run_base=$(date +%s)

# Prints the server CPU microseconds per request of a load() run: ticks before and after ($1, $2)
# over the requests of its warm-up and measured run (output file $3).
cpu_per_request() {
  local requests=$(( $(wrk_requests "$3.warmup") + $(wrk_requests "$3") ))
  awk -v t=$(( $2 - $1 )) -v hz="$(getconf CLK_TCK)" -v n="$requests" 'BEGIN {printf "%.0f", t / hz * 1e6 / n}'
}

# Prints the value of the stored-events counter in the Prometheus text at URL $1.
stored_counter() {
  curl -sf "$1" | awk '/^webhook_events_total\{.*outcome="stored"/ {print $NF}' | head -1
}

summary=()
for engine in $engines; do
  server_args=(--engine "$engine" --threads "$workers" --communities "$communities" --body-bytes "$body_bytes"
               --templates "$WIK_BENCH_TEMPLATES")
  [[ -n "${INGEST_ONLY:-}" ]] && server_args+=(--ingest-only)
  if [[ "$engine" == sqlite ]]; then
    server_args+=(--sqlite "$workdir/wik-bench.db")
  else
    start_postgres
    server_args+=(--postgres-url "$pg_url")
  fi
  # The CPU the store engine uses counts for wik: with PostgreSQL, the postmaster and its backends.
  engine_pids=()
  [[ "$engine" == postgres ]] && engine_pids=("$(head -1 "$pg_dir/data/postmaster.pid")")
  "$server_binary" "${server_args[@]}" > "$workdir/wik-$engine.out" 2> "$workdir/wik-$engine.err" &
  pids+=($!)
  wik_pid=$!
  for _ in $(seq 200); do grep -q '^listening on' "$workdir/wik-$engine.out" 2>/dev/null && break; sleep 0.05; done
  wik_port=$(awk '/^listening on/ {print $3}' "$workdir/wik-$engine.out")
  [[ -n "$wik_port" ]] || { echo "wik server did not start:" >&2; cat "$workdir/wik-$engine.err" >&2; exit 1; }
  # The Lua script puts a mid of about 31 characters in place of the tab.
  echo "body: about $(awk 'NR == 2 {print length($0) - 1 + 31}' "$WIK_BENCH_TEMPLATES") bytes (community 1), $communities communities, engine $engine" >&2

  wik_results=()
  nginx_results=()
  wik_cpu=()
  nginx_cpu=()
  for round in $(seq "$rounds"); do
    export WIK_BENCH_RUN="${run_base}${engine:0:1}${round}w"
    out="$workdir/wrk-wik-$engine-$round.txt"
    before=$(tree_ticks "$wik_pid" "${engine_pids[@]}")
    wik_results+=("$(load "http://127.0.0.1:$wik_port/workplace/webhook" "$out" -s "$script")")
    wik_cpu+=("$(cpu_per_request "$before" "$(tree_ticks "$wik_pid" "${engine_pids[@]}")" "$out")")
    export WIK_BENCH_RUN="${run_base}${engine:0:1}${round}n"
    out="$workdir/wrk-nginx-$engine-$round.txt"
    before=$(tree_ticks "$nginx_pid")
    nginx_results+=("$(load "http://127.0.0.1:$nginx_port/workplace/webhook" "$out" -s "$script")")
    nginx_cpu+=("$(cpu_per_request "$before" "$(tree_ticks "$nginx_pid")" "$out")")
    echo "round $round ($engine): wik ${wik_results[-1]}  nginx ${nginx_results[-1]}  (req/s p50_ms p99_ms);" \
      "server CPU per request: wik ${wik_cpu[-1]} us, nginx ${nginx_cpu[-1]} us" >&2
  done

  stored_metric=$(stored_counter "http://127.0.0.1:$wik_port/metrics")
  kill -TERM "$wik_pid"
  wait "$wik_pid" && wik_exit=0 || wik_exit=$?
  ok_answers=0
  for file in "$workdir"/wrk-wik-"$engine"-*.txt "$workdir"/wrk-wik-"$engine"-*.txt.warmup; do
    ok_answers=$(( ok_answers + $(wrk_ok_answers "$file") ))
  done
  inbox=$(grep '^inbox ' "$workdir/wik-$engine.out" || true)
  rows=$(sed -n 's/.*total=\([0-9]*\).*/\1/p' <<< "$inbox")
  runs=$(( rounds * 2 ))
  if [[ -n "$rows" ]] && (( rows >= ok_answers && rows - ok_answers <= runs * connections )) &&
     [[ "${stored_metric%.*}" == "$rows" ]]; then
    verdict="ok"
  else
    verdict="FAILED"
  fi
  durability="durability $verdict: $ok_answers answers 200 received by wrk, server counted ${stored_metric:-?} stored, $inbox (wik exited $wik_exit)"
  echo "$durability" >&2

  wik_rps=$(printf '%s\n' "${wik_results[@]}" | awk '{print $1}' | median)
  wik_p50=$(printf '%s\n' "${wik_results[@]}" | awk '{print $2}' | median)
  wik_p99=$(printf '%s\n' "${wik_results[@]}" | awk '{print $3}' | median)
  nginx_rps=$(printf '%s\n' "${nginx_results[@]}" | awk '{print $1}' | median)
  nginx_p50=$(printf '%s\n' "${nginx_results[@]}" | awk '{print $2}' | median)
  nginx_p99=$(printf '%s\n' "${nginx_results[@]}" | awk '{print $3}' | median)
  ratio=$(awk -v a="$wik_rps" -v b="$nginx_rps" 'BEGIN {printf "%.2f", a / b}')
  summary+=("$(printf '%-10s wik %10s req/s p50 %6s ms p99 %6s ms | nginx %10s req/s p50 %6s ms p99 %6s ms | ratio %s' \
    "$engine" "$wik_rps" "$wik_p50" "$wik_p99" "$nginx_rps" "$nginx_p50" "$nginx_p99" "$ratio")")
  summary+=("           rounds wik: $(printf '%s; ' "${wik_results[@]}")nginx: $(printf '%s; ' "${nginx_results[@]}")")
  summary+=("           server CPU per request (us): wik $(printf '%s ' "${wik_cpu[@]}")(median $(printf '%s\n' "${wik_cpu[@]}" | median)), nginx $(printf '%s ' "${nginx_cpu[@]}")(median $(printf '%s\n' "${nginx_cpu[@]}" | median))")
  summary+=("           $durability")
done

machine_line
echo "server:  $([[ -n "${INGEST_ONLY:-}" ]] && echo 'the webhook route only (no dispatcher)' || echo 'the App')"
echo "load:    wrk -t$wrk_threads -c$connections -d${duration}s --latency -s webhook_ingest.lua (after a 2 s warm-up), signed POSTs of ~$body_bytes bytes, $communities communities; $workers server workers each; median of $rounds alternating rounds"
printf '%s\n' "${summary[@]}"
echo "goal:    wik >= 0.6 of nginx's requests/s, p99 < 10 ms"
