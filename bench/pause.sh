#!/usr/bin/env bash
# Benchmark: how soon a pause is honoured and a resume gets to its first commit, for an import and
# an export, with the commands sent through two replicas in turn (bench/pause.py does the timing).
#
# Usage: bench/pause.sh        (ROWS=10000000 typed rows, CYCLES=100, REPLICAS=2, WARMUP=2 rounds on
#                               WARM_ROWS=2000000 rows, paused and resumed too, not measured)
# Writes OUT/pause.tsv (one line a direction), which bench/report.py reads.
set -euo pipefail
ROWS="${ROWS:-10000000}"
RUNS=1
WARMUP="${WARMUP:-2}"
CYCLES="${CYCLES:-100}"
REPLICAS="${REPLICAS:-2}"
LARGE_TIMEOUT="${LARGE_TIMEOUT:-1800}"
# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

TABLE=bench_pause
BENCH_TABLES+=("$TABLE")
CSV=$(gen_csv "$ROWS")
sql "drop table if exists $TABLE" >/dev/null
wait_for_load
start_service
bases=("$BASE")
mgmts=("$MGMT")
if (( REPLICAS > 1 )); then
  start_second_service
  bases+=("$BASE2")
  mgmts+=("http://127.0.0.1:$((PORT + 3))")
fi
LOAD_START=$(loadavg)
RES="$OUT/pause.tsv"
HEADER='bench_run\tdate\tcommit\tdirection\tshape\trows\treplicas\tcycles\tpause_p50_ms\tpause_p99_ms\tpause_max_ms\tresume_p50_ms\tresume_p99_ms\tresume_max_ms\tservice_p99_ms\tservice_max_ms\n'
# A file of an older layout is kept aside rather than appended to.
if [[ -s "$RES" && "$(head -1 "$RES")" != "$(printf "$HEADER" | head -1)" ]]; then
  mv "$RES" "$RES.$(date -u +%Y%m%dT%H%M%S).old"
fi
[[ -s "$RES" ]] || printf "$HEADER" >"$RES"

# next_task DIRECTION -> a script that starts one more task of that kind and prints its id: a task
# that ends before CYCLES cycles are measured is followed by another (bench/pause.py), so the p99
# rests on CYCLES cycles (of 30 it is their maximum). Imports load the same file into tables of
# their own, dropped on exit; the tasks still running when the cycles are done are terminated.
MORE_TABLES=10
for n in $(seq 1 "$MORE_TABLES"); do BENCH_TABLES+=("${TABLE}_more$n"); done
next_task() {
  local script="$OUT/next_$1.sh"
  if [[ $1 == import ]]; then
    cat >"$script" <<EOS
n=\$(( \$(cat "$OUT/.more" 2>/dev/null || echo 0) + 1 )); echo "\$n" >"$OUT/.more"
curl -sS --fail-with-body -H 'Authorization: Bearer $BENCH_KEY' -X POST -T '$CSV' \\
  -H 'Content-Type: text/csv' -H 'Expect:' "$BASE/imports?table=${TABLE}_more\$n" \\
  | python3 -c 'import json, sys; print(json.load(sys.stdin)["id"])'
EOS
  else
    cat >"$script" <<EOS
curl -sS --fail-with-body -H 'Authorization: Bearer $BENCH_KEY' -X POST \\
  -H 'Content-Type: application/json' --data '{"table":"$TABLE"}' "$BASE/exports" \\
  | python3 -c 'import json, sys; print(json.load(sys.stdin)["id"])'
EOS
  fi
  printf 'bash %s' "$script"
}

measure() {   # DIRECTION TASK_ID
  local out summary t
  out=$(BENCH_KEY="$BENCH_KEY" MGMT_URLS="${mgmts[*]}" NEXT_TASK="$(next_task "$1")" \
    MAX_TASKS="$MORE_TABLES" python3 "$ROOT/bench/pause.py" "$2" "$CYCLES" "${bases[@]}") \
    || die "pause.py failed: $out"
  printf '%s\n' "$out" | grep -v '^SUMMARY\|^TASKS'
  for t in $(printf '%s\n' "$out" | awk '/^TASKS/ { $1 = ""; $2 = ""; print }'); do
    api_curl -sS -o /dev/null -X POST "$BASE/tasks/$t/terminate" || true
  done
  summary=$(printf '%s\n' "$out" | awk '/^SUMMARY/ { $1 = ""; print }')
  read -r n p50 p99 pmax r50 r99 rmax s99 smax <<<"$summary"
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "${BENCH_RUN:-single}" \
    "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$(bench_commit)" "$1" "$SHAPE" "$ROWS" "${#bases[@]}" "$n" \
    "$p50" "$p99" "$pmax" "$r50" "$r99" "$rmax" "$s99" "$smax" >>"$RES"
}

# Warm-up: a smaller import and export paused and resumed through every replica, unmeasured, so
# the measured cycles meet warm JVMs on both (a cold replica's first pauses took 0.2 to 0.5 s).
WARM_ROWS="${WARM_ROWS:-2000000}"
if (( WARMUP > 0 )); then
  warm_csv=$(ROWS=$WARM_ROWS gen_csv "$WARM_ROWS")
  BENCH_TABLES+=(bench_pause_warm)
  for w in $(seq 1 "$WARMUP"); do
    sql "drop table if exists bench_pause_warm" >/dev/null
    body=$(api_curl -sS --fail-with-body -X POST -T "$warm_csv" -H 'Content-Type: text/csv' \
      -H 'Expect:' "$BASE/imports?table=bench_pause_warm") || die "warm-up import refused: $body"
    wid=$(task_id "$body")
    BENCH_KEY="$BENCH_KEY" python3 "$ROOT/bench/pause.py" "$wid" 8 "${bases[@]}" >/dev/null 2>&1 || true
    wait_completed "$wid" "$LARGE_TIMEOUT"
    sql "alter table bench_pause_warm add primary key (id)" >/dev/null
    body=$(api_curl -sS --fail-with-body -X POST -H 'Content-Type: application/json' \
      --data '{"table":"bench_pause_warm"}' "$BASE/exports") || die "warm-up export refused: $body"
    wid=$(task_id "$body")
    BENCH_KEY="$BENCH_KEY" python3 "$ROOT/bench/pause.py" "$wid" 8 "${bases[@]}" >/dev/null 2>&1 || true
    wait_completed "$wid" "$LARGE_TIMEOUT"
    log "warm-up $w/$WARMUP done (not measured)"
  done
fi

echo "=== import of $ROWS rows, pause/resume through ${#bases[@]} replica(s) in turn ==="
body=$(api_curl -sS --fail-with-body --max-time "$LARGE_TIMEOUT" -X POST -T "$CSV" \
  -H 'Content-Type: text/csv' -H 'Expect:' "$BASE/imports?table=$TABLE") || die "import refused: $body"
id=$(task_id "$body")
measure import "$id"
wait_completed "$id" "$LARGE_TIMEOUT"
n=$(sql "select count(*) from $TABLE")
[[ "$n" == "$ROWS" ]] || die "$TABLE has $n rows after the pauses, expected $ROWS"
sql "alter table $TABLE add primary key (id)" >/dev/null
sql "analyze $TABLE" >/dev/null

echo "=== export of $ROWS rows, pause/resume through ${#bases[@]} replica(s) in turn ==="
body=$(api_curl -sS --fail-with-body -X POST -H 'Content-Type: application/json' \
  --data "{\"table\":\"$TABLE\"}" "$BASE/exports") || die "export refused: $body"
id=$(task_id "$body")
measure export "$id"
wait_completed "$id" "$LARGE_TIMEOUT"
lines=$(api_curl -sS --fail "$BASE/tasks/$id/file" | wc -l)
[[ "$lines" == $((ROWS + 1)) ]] || die "the export file has $lines lines, expected $((ROWS + 1))"
echo "load average before: $LOAD_START, after: $(loadavg); commit $(bench_commit)"
log "appended to $RES"
