#!/usr/bin/env bash
# Benchmark: CSV import through the Task State Manager service vs. psql \copy.
#
# Usage (from anywhere; paths are relative to the repository root):
#   bench/import.sh
#   ROWS=200000 RUNS=5 bench/import.sh
#   MEMCHECK=1 bench/import.sh          # also one import of a 4x larger file (peak RSS check)
#
# See bench/README.md for all settings.
set -euo pipefail

IMPORT_TIMEOUT="${IMPORT_TIMEOUT:-600}"    # seconds per single import (both methods)
# Warm-up: by default two unmeasured imports of the measured file itself. The code that runs once
# per batch or request (20 batches a run) needs a few runs before the JIT has compiled it; until
# then the compiler threads take 0.2-0.3 s of CPU a run from PostgreSQL on this 2-core machine.
WARMUP="${WARMUP:-2}"
MEMCHECK="${MEMCHECK:-0}"                  # 1: after the runs, import a ROWS*4 file once
# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
WARMUP_ROWS="${WARMUP_ROWS:-$ROWS}"        # rows of the warm-up file
[[ "$WARMUP_ROWS" =~ ^[1-9][0-9]*$ ]] || die "WARMUP_ROWS must be a positive integer (got '$WARMUP_ROWS')"

for i in $(seq 1 "$RUNS"); do BENCH_TABLES+=("bench_ref_$i" "bench_svc_$i"); done
BENCH_TABLES+=(bench_warm bench_mem)

CSV=$(gen_csv "$ROWS")
CSV_BYTES=$(stat -c %s "$CSV")
log "data: $CSV ($CSV_BYTES bytes, $(awk -v b="$CSV_BYTES" -v r="$ROWS" 'BEGIN{printf "%.1f", b/r}') bytes/row)"
CSV_SQL=$(sql_literal "$CSV")   # for use inside a single-quoted SQL literal

wait_for_load   # before the JVM starts (the service is measured warm, after the warm-up)
start_service

# ------------------------------------------------------------------ import ---
import_psql() {   # TABLE -> prints "seconds pg-cpu jvm-cpu other-cpu"
  local t=$1 s e c0
  sql "drop table if exists $t" >/dev/null
  sql "create table $t ($BENCH_COLUMNS)" >/dev/null
  settle_db
  c0=$(cpu_mark)
  s=$(now)
  timeout "$IMPORT_TIMEOUT" "${PSQL[@]}" \
    -c "\\copy $t FROM '$CSV_SQL' WITH (FORMAT csv, HEADER true)" >/dev/null \
    || die "psql \\copy into $t failed or exceeded ${IMPORT_TIMEOUT}s"
  e=$(now)
  printf '%s %s\n' "$(elapsed "$s" "$e")" "$(cpu_split "$c0" "$(cpu_mark)")"
}

import_service() {   # TABLE FILE -> prints "seconds task-id start pg-cpu jvm-cpu other-cpu"
  local t=$1 file=$2 s e resp code body id c0
  sql "drop table if exists $t" >/dev/null
  settle_db
  c0=$(cpu_mark)
  s=$(now)
  # -T streams the file (with its Content-Length), as psql \copy does; --data-binary @file
  # would first read all of it into curl's memory (about 60 ms of client time for 79 MB).
  # 'Expect:' suppresses curl's "Expect: 100-continue" (avoids a 1 s stall
  # if the server does not answer 100 Continue).
  resp=$(api_curl -sS --max-time "$IMPORT_TIMEOUT" -X POST -T "$file" \
           -H 'Content-Type: text/csv' -H 'Expect:' \
           -w '\n%{http_code}' "$BASE/imports?table=$t") \
    || die "POST /imports?table=$t failed (curl error)"
  code=${resp##*$'\n'}
  body=${resp%$'\n'*}
  [[ "$code" == 2?? ]] || die "POST /imports?table=$t returned HTTP $code: $body"
  id=$(task_id "$body")
  wait_completed "$id" "$IMPORT_TIMEOUT"
  e=$(now)
  printf '%s %s %s %s\n' "$(elapsed "$s" "$e")" "$id" "$s" "$(cpu_split "$c0" "$(cpu_mark)")"
}

# split_times SECONDS ID START -> "accept upload run rest" in seconds: POST start -> the task's
# "accepted" line (the body, or its first rows for a large one, on disk plus the checks); the
# upload as the service timed it (for a large body it overlaps the run); "accepted" -> "run ended";
# and what is left of the wall time (HTTP round trips, polling).
split_times() {
  local wall=$1 start=$3 acc run end staged checked
  read -r acc run end staged checked < <(log_times "$2")
  if [[ "$acc" == - || "$end" == - || "$staged" == - ]]; then
    echo "- - - -"; return
  fi
  awk -v w="$wall" -v s="$start" -v a="$acc" -v e="$end" -v st="$staged" \
    'BEGIN { printf "%.3f %.3f %.3f %.3f\n", a - s, st / 1000, e - a, w - (e - s) }'
}

count_rows() {   # TABLE EXPECTED -> dies unless the table has EXPECTED rows
  local n
  n=$(sql "select count(*) from $1") || die "cannot count rows of $1 (table missing?)"
  [[ "$n" == "$2" ]] || die "$1 has $n rows, expected $2"
}

check_tables() {   # REF SVC -> dies on mismatch
  local ref=$1 svc=$2 nref nsvc want got diff q
  nref=$(sql "select count(*) from $ref")
  nsvc=$(sql "select count(*) from $svc") || die "cannot count rows of $svc (table missing?)"
  [[ "$nref" == "$ROWS" ]] || die "$ref has $nref rows, expected $ROWS"
  [[ "$nsvc" == "$nref" ]] || die "row count mismatch: $ref=$nref $svc=$nsvc"
  [[ "${CHECK_CONTENT:-1}" == 1 ]] || return 0
  q="select string_agg(column_name || ' ' || data_type, ', ' order by ordinal_position)
     from information_schema.columns where table_schema = current_schema() and table_name = '%s'"
  # shellcheck disable=SC2059
  want=$(sql "$(printf "$q" "$ref")")
  # shellcheck disable=SC2059
  got=$(sql "$(printf "$q" "$svc")")
  if [[ "$want" != "$got" ]]; then
    log "WARNING: column types differ, content check skipped"
    log "  psql:    $want"
    log "  service: $got"
    return 0
  fi
  diff=$(sql "select count(*) from (select t::text from $ref t except all select t::text from $svc t) x")
  [[ "$diff" == 0 ]] || die "$diff rows of $ref are missing/different in $svc"
}

LOAD_START=$(loadavg)
log "load average (1/5/15 min) before the runs: $LOAD_START"

# ----------------------------------------------------------------- warm-up ---
# Unmeasured imports of a smaller file of the same kind, so the runs meet a warm JVM (JIT, pools,
# class loading), as a long-running service would be.
warm_import() {
  local out tw
  out=$(import_service bench_warm "$WARM_CSV")
  read -r tw _ <<<"$out"
  count_rows bench_warm "$WARMUP_ROWS"
  printf 'warm-up: service import of %s rows in %ss; ' "$WARMUP_ROWS" "$tw"
}
WARM_CSV=$(gen_csv "$WARMUP_ROWS")
warm_until_settled warm_import
sql "drop table if exists bench_warm" >/dev/null

# -------------------------------------------------------------------- runs ---
declare -a C_PSQL=() C_SVC=() R_PSQL=() R_SVC=() S_ACCEPT=() S_UPLOAD=() S_RUN=() S_REST=() T_SVC=()
for i in $(seq 1 "$RUNS"); do
  ref="bench_ref_$i" svc="bench_svc_$i"
  read -r tp ppg pjvm pother <<<"$(import_psql "$ref")"
  out=$(import_service "$svc" "$CSV")
  read -r ts id started spg sjvm sother <<<"$out"
  C_PSQL+=("$ppg 0 $pother"); C_SVC+=("$spg $sjvm $sother")
  check_tables "$ref" "$svc"
  rp=$(rate "$ROWS" "$tp"); rs=$(rate "$ROWS" "$ts")
  R_PSQL+=("$rp"); R_SVC+=("$rs"); T_SVC+=("$ts")
  read -r ac up ru re < <(split_times "$ts" "$id" "$started")
  S_ACCEPT+=("$ac"); S_UPLOAD+=("$up"); S_RUN+=("$ru"); S_REST+=("$re")
  printf 'run %d/%d: psql \\copy %8ss %10s rows/s | service %8ss %10s rows/s (accepted after %ss, run %ss, rest %ss; upload %ss)\n' \
    "$i" "$RUNS" "$tp" "$rp" "$ts" "$rs" "$ac" "$ru" "$re" "$up"
  printf '         CPU seconds: psql: pg %ss, client+rest %ss | service: pg %ss, jvm %ss, client+rest %ss\n' \
    "$ppg" "$pother" "$spg" "$sjvm" "$sother"
done
HWM_1X=$(svc_mem VmHWM)

# ---------------------------------------------------------------- memcheck ---
# One import of a 4x larger file: with uploads streamed to disk and the file read in bounded
# batches, the peak RSS should stay where the 1x runs left it.
if [[ "$MEMCHECK" == 1 ]]; then
  BIG_ROWS=$(( ROWS * 4 ))
  BIG_CSV=$(gen_csv "$BIG_ROWS")
  BIG_BYTES=$(stat -c %s "$BIG_CSV")
  out=$(import_service bench_mem "$BIG_CSV")
  read -r tbig _ <<<"$out"
  count_rows bench_mem "$BIG_ROWS"
  sql "drop table if exists bench_mem" >/dev/null
  HWM_4X=$(svc_mem VmHWM)
  RSS_4X=$(svc_mem VmRSS)
  printf 'memcheck: service import of %s rows (%s bytes) in %ss, %s rows/s\n' \
    "$BIG_ROWS" "$BIG_BYTES" "$tbig" "$(rate "$BIG_ROWS" "$tbig")"
fi
LOAD_END=$(loadavg)

# ----------------------------------------------------------------- summary ---
rss_mib=$HWM_1X
med_psql=$(median "${R_PSQL[@]}")
med_svc=$(median "${R_SVC[@]}")
ratio=$(ratio "$med_svc" "$med_psql")
when=$(date -u +%Y-%m-%dT%H:%M:%SZ)
cores=$(nproc)
pgver=$(sql 'show server_version')
commit=$(bench_commit)

cat <<EOF

=== import benchmark: $ROWS rows x $RUNS runs ($CSV_BYTES bytes) ===
psql \\copy median : $med_psql rows/s
service median    : $med_svc rows/s
ratio svc/psql    : $ratio
service peak RSS  : $rss_mib MiB (VmHWM after warm-up + runs, $JAVA_OPTS)
service time split: median accepted after $(median3 "${S_ACCEPT[@]}")s, run $(median3 "${S_RUN[@]}")s, rest $(median3 "${S_REST[@]}")s (of $(median3 "${T_SVC[@]}")s); upload $(median3 "${S_UPLOAD[@]}")s, overlapping the run
warm-up           : $WARMUP_DONE x $WARMUP_ROWS rows (until the JIT settled: <= ${JIT_SETTLED}s of compiling a round, at most $WARMUP_MAX)
date              : $when
nproc             : $cores
PostgreSQL        : $pgver
load avg 1/5/15   : $LOAD_START (before) / $LOAD_END (after)
EOF
if [[ "$MEMCHECK" == 1 ]]; then
  cat <<EOF
memcheck          : peak RSS $HWM_1X MiB after the 1x runs -> $HWM_4X MiB after one 4x import ($BIG_ROWS rows, $BIG_BYTES bytes); RSS now $RSS_4X MiB
EOF
fi

RES="$OUT/results.tsv"
if [[ ! -s "$RES" ]]; then
  printf 'date\tcommit\trows\truns\tnproc\tpg_version\tpsql_rows_s\tsvc_rows_s\tratio\tpeak_rss_mib\tpsql_runs\tsvc_runs\n' >"$RES"
fi
printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' \
  "$when" "$commit" "$ROWS" "$RUNS" "$cores" "$pgver" "$med_psql" "$med_svc" "$ratio" "$rss_mib" \
  "$(IFS=,; echo "${R_PSQL[*]}")" "$(IFS=,; echo "${R_SVC[*]}")" >>"$RES"
log "appended to $RES"
record_result import "$CSV_BYTES" "$med_psql" "$med_svc" "" "$rss_mib" \
  "$(median_cpu "${C_PSQL[@]}")" "$(median_cpu "${C_SVC[@]}")"
if [[ "$MEMCHECK" == 1 ]]; then
  MRES="$OUT/results-memcheck.tsv"
  if [[ ! -s "$MRES" ]]; then
    printf 'date\tcommit\trows\tbig_rows\tbig_bytes\tnproc\tjava_opts\tpeak_rss_1x_mib\tpeak_rss_4x_mib\trss_after_mib\tbig_rows_s\n' >"$MRES"
  fi
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' \
    "$when" "$commit" "$ROWS" "$BIG_ROWS" "$BIG_BYTES" "$cores" "$JAVA_OPTS" "$HWM_1X" "$HWM_4X" "$RSS_4X" \
    "$(rate "$BIG_ROWS" "$tbig")" >>"$MRES"
  log "appended to $MRES"
fi
# bench tables are dropped by the EXIT trap (set KEEP_TABLES=1 to keep them)
