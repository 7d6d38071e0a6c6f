#!/usr/bin/env bash
# Benchmark: a 1M-row import with and without SUBSCRIBERS concurrent Server-Sent Events streams.
#
# Usage: bench/sse.sh            (SUBSCRIBERS=500 ROWS=1000000 RUNS=5 by default)
# Prints the import's rows/s alone and under the subscribers, their ratio, the events the
# subscribers received, and the service's resident memory before, during and at peak.
# Public tools only: bash, curl, psql, python3 (standard library).
set -euo pipefail
RUNS="${RUNS:-5}"
# shellcheck source=bench/lib.sh
source "$(dirname "$0")/lib.sh"
SUBSCRIBERS="${SUBSCRIBERS:-500}"
IMPORT_TIMEOUT="${IMPORT_TIMEOUT:-600}"
[[ "$SUBSCRIBERS" =~ ^[1-9][0-9]*$ ]] || die "SUBSCRIBERS must be a positive integer"

CSV=$(gen_csv "$ROWS")
start_service

# import TABLE -> prints seconds from upload to COMPLETED
import_once() {
  local table=$1 t0 t1 body id
  BENCH_TABLES+=("$table")
  sql "drop table if exists $table" >/dev/null
  t0=$(now)
  body=$(api_curl -sS --fail-with-body -H 'Expect:' -H 'Content-Type: text/csv' \
    --data-binary @"$CSV" "$BASE/imports?table=$table") || die "import failed: $body"
  id=$(task_id "$body")
  wait_completed "$id" "$IMPORT_TIMEOUT"
  t1=$(now)
  elapsed "$t0" "$t1"
}

warm_sse() { printf 'warm-up: import in %ss; ' "$(import_once bench_sse_warm)"; }
warm_until_settled warm_sse

# Unmeasured imports under the subscribers too, until the JIT settled again: the streams' code is
# compiled then (measured: C2 took 0.9 s of CPU in the second import under 500 subscribers).
if (( WARMUP > 0 )); then
  python3 "$ROOT/bench/sse_clients.py" "$BASE/tasks/events" "$SUBSCRIBERS" "$IMPORT_TIMEOUT" \
    >/dev/null 2>&1 &
  clients=$!
  sleep 3
  warm_subscribed() { printf 'warm-up under %s subscribers: import in %ss; ' "$SUBSCRIBERS" "$(import_once bench_sse_warm)"; }
  warm_until_settled warm_subscribed
  kill -TERM "$clients" 2>/dev/null || true
  wait "$clients" || true
fi

alone=() loaded=() pairs=()
rss_idle=$(svc_mem VmRSS)

run_alone() {   # RUN -> appends to alone
  local i=$1 s c0
  settle_db
  c0=$(cpu_mark)
  s=$(import_once "bench_sse_alone_$i")
  cpu_alone=$(cpu_split "$c0" "$(cpu_mark)")
  alone+=("$(rate "$ROWS" "$s")")
  log "run $i: alone        ${s}s  $(rate "$ROWS" "$s") rows/s"
}

run_subscribed() {   # RUN -> appends to loaded
  local i=$1 s c0 k0
  rm -f "$OUT/sse_ready"
  READY_FILE="$OUT/sse_ready" python3 "$ROOT/bench/sse_clients.py" "$BASE/tasks/events" \
    "$SUBSCRIBERS" "$IMPORT_TIMEOUT" >"$OUT/sse_clients.json" 2>"$OUT/sse_clients.err" &
  clients=$!
  # Every subscriber connected and its opening snapshot (up to 100 tasks) received: the import is
  # measured against the streams' steady cost, not their opening burst (timed apart).
  for _ in $(seq 1 600); do [[ -s "$OUT/sse_ready" ]] && break; sleep 0.1; done
  [[ -s "$OUT/sse_ready" ]] || die "the subscribers did not settle within 60 s"
  log "run $i: $SUBSCRIBERS subscribers connected and their snapshots received in $(cat "$OUT/sse_ready")s"
  rss_subscribed=$(svc_mem VmRSS)
  settle_db
  c0=$(cpu_mark)
  k0=$(proc_ticks "$clients")
  s=$(import_once "bench_sse_loaded_$i")
  cpu_loaded=$(cpu_split "$c0" "$(cpu_mark)")
  client_cpu=$(awk -v a="$k0" -v b="$(proc_ticks "$clients")" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.2f", (b - a) / hz }')
  rss_after=$(svc_mem VmRSS)
  kill -TERM "$clients" 2>/dev/null || true
  wait "$clients" || true
  loaded+=("$(rate "$ROWS" "$s")")
  log "run $i: subscribed   ${s}s  $(rate "$ROWS" "$s") rows/s  ($(cat "$OUT/sse_clients.json"))"
}

# Each run is a pair, in alternating order (alone first in odd runs, subscribed first in even
# ones): a machine that drifts across a pair (another service waking, PostgreSQL's writeback)
# then weighs on both sides alike instead of always on the second.
for i in $(seq 1 "$RUNS"); do
  if (( i % 2 == 1 )); then run_alone "$i"; run_subscribed "$i"; else run_subscribed "$i"; run_alone "$i"; fi
  pairs+=("$(ratio "${loaded[-1]}" "${alone[-1]}")")
  log "run $i: pair ratio ${pairs[-1]}; CPU seconds (pg jvm rest) alone: $cpu_alone; subscribed: $cpu_loaded, of which the subscribers' client ${client_cpu}s"
done

med_alone=$(median "${alone[@]}")
med_loaded=$(median "${loaded[@]}")
cat <<REPORT

=== SSE load benchmark: $ROWS rows, $SUBSCRIBERS subscribers on /tasks/events, $RUNS run(s) ===
import alone             : $med_alone rows/s
import with subscribers  : $med_loaded rows/s
ratio with/without       : $(ratio "$med_loaded" "$med_alone") (of the medians)
pair ratios              : ${pairs[*]} (median $(median3 "${pairs[@]}"))
subscribers              : $(cat "$OUT/sse_clients.json")
CPU s, pg/jvm/rest       : alone $cpu_alone; subscribed $cpu_loaded (last run)
the client's own CPU     : ${client_cpu}s during the subscribed import (last run; in "rest")
service RSS idle         : $rss_idle MiB
service RSS subscribed   : $rss_subscribed MiB (before the import)
service RSS after import : $rss_after MiB (subscribers still open)
service peak RSS         : $(svc_mem VmHWM) MiB (VmHWM, $JAVA_OPTS)
load average             : $(loadavg)
date                     : $(date -u +%Y-%m-%dT%H:%M:%SZ)
nproc                    : $(nproc)
REPORT
SSE_RES="$OUT/sse.tsv"
[[ -s "$SSE_RES" ]] || printf 'bench_run\tdate\tcommit\trows\truns\tsubscribers\talone_rows_s\tloaded_rows_s\tclient_cpu_s\tcpu_alone\tcpu_loaded\trss_subscribed_mib\tclients\tpair_ratios\n' >"$SSE_RES"
printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "${BENCH_RUN:-single}" \
  "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$(bench_commit)" "$ROWS" "$RUNS" "$SUBSCRIBERS" "$med_alone" \
  "$med_loaded" "$client_cpu" "$cpu_alone" "$cpu_loaded" "$rss_subscribed" "$(cat "$OUT/sse_clients.json")" \
  "$(join_by_comma "${pairs[@]}")" >>"$SSE_RES"
log "appended to $SSE_RES"
