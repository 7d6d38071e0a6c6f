#!/usr/bin/env bash
# Benchmark: table export to CSV through the Task State Manager service vs. psql \copy TO.
#
# Usage (from anywhere; paths are relative to the repository root):
#   bench/export.sh
#   ROWS=200000 RUNS=5 bench/export.sh
#
# See bench/README.md for all settings.
set -euo pipefail

EXPORT_TIMEOUT="${EXPORT_TIMEOUT:-600}"    # seconds per single export / download (both methods)
FOLLOW="${FOLLOW:-1}"    # 1: download while the export runs (?follow=true); 0: after it completed
# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

SRC=bench_export_src
PSQL_FILE="$OUT/export_psql.csv"
SVC_FILE="$OUT/export_service.csv"
BENCH_TABLES+=("$SRC")
BENCH_FILES+=("$PSQL_FILE" "$SVC_FILE" "$OUT/.follow.code" "$OUT/.follow.err")

# ------------------------------------------------------------ source table ---
# The import bench's data (same generator, same column types) with a primary key, so both
# methods write rows in id order.
CSV=$(gen_csv "$ROWS")
log "creating $SRC ($ROWS rows from $CSV)"
sql "drop table if exists $SRC" >/dev/null
sql "create table $SRC (${BENCH_COLUMNS/id integer/id integer PRIMARY KEY})" >/dev/null
timeout "$EXPORT_TIMEOUT" "${PSQL[@]}" \
  -c "\\copy $SRC FROM '$(sql_literal "$CSV")' WITH (FORMAT csv, HEADER true)" >/dev/null \
  || die "could not load $SRC"
sql "analyze $SRC" >/dev/null
n=$(sql "select count(*) from $SRC")
[[ "$n" == "$ROWS" ]] || die "$SRC has $n rows, expected $ROWS"

wait_for_load   # before the JVM starts (the service is measured warm, after the warm-up)
start_service

# ------------------------------------------------------------------ export ---
PSQL_FILE_SQL=$(sql_literal "$PSQL_FILE")
export_psql() {   # -> prints "seconds pg-cpu jvm-cpu other-cpu"
  local s e c0
  rm -f "$PSQL_FILE"
  settle_db
  c0=$(cpu_mark)
  s=$(now)
  timeout "$EXPORT_TIMEOUT" "${PSQL[@]}" \
    -c "\\copy (SELECT * FROM $SRC ORDER BY id) TO '$PSQL_FILE_SQL' WITH (FORMAT csv, HEADER)" >/dev/null \
    || die "psql \\copy from $SRC failed or exceeded ${EXPORT_TIMEOUT}s"
  e=$(now)
  printf '%s %s\n' "$(elapsed "$s" "$e")" "$(cpu_split "$c0" "$(cpu_mark)")"
}

# export_service -> prints "export-seconds download-seconds post-seconds task-id pg jvm other":
# POST /exports until a poll sees COMPLETED, the download of /tasks/{id}/file to $SVC_FILE, the
# POST alone, and the CPU seconds of the whole (export and download) by PostgreSQL, the JVM and
# the rest.
export_service() {
  local s e d resp code body id post c0
  rm -f "$SVC_FILE"
  settle_db
  c0=$(cpu_mark)
  s=$(now)
  resp=$(api_curl -sS --max-time "$EXPORT_TIMEOUT" -X POST -H 'Content-Type: application/json' \
           --data "{\"table\":\"$SRC\"}" \
           -w '\n%{http_code} %{time_total}' "$BASE/exports") \
    || die "POST /exports failed (curl error)"
  code=${resp##*$'\n'}
  post=${code#* }
  code=${code%% *}
  body=${resp%$'\n'*}
  [[ "$code" == 2?? ]] || die "POST /exports returned HTTP $code: $body"
  id=$(task_id "$body")
  if [[ "$FOLLOW" == 1 ]]; then
    # The download starts at once and follows the file as the export writes it.
    api_curl -sS --max-time "$EXPORT_TIMEOUT" -o "$SVC_FILE" -w '%{http_code}' \
      "$BASE/tasks/$id/file?follow=true" >"$OUT/.follow.code" 2>"$OUT/.follow.err" &
    local follower=$!
  fi
  wait_completed "$id" "$EXPORT_TIMEOUT"
  e=$(now)
  if [[ "$FOLLOW" == 1 ]]; then
    wait "$follower" || die "GET /tasks/$id/file?follow=true failed: $(cat "$OUT/.follow.err")"
    code=$(cat "$OUT/.follow.code")
  else
    code=$(api_curl -sS --max-time "$EXPORT_TIMEOUT" -o "$SVC_FILE" -w '%{http_code}' "$BASE/tasks/$id/file") \
      || die "GET /tasks/$id/file failed (curl error)"
  fi
  d=$(now)
  [[ "$code" == 200 ]] || die "GET /tasks/$id/file returned HTTP $code: $(head -c 500 "$SVC_FILE")"
  printf '%s %s %s %s %s\n' "$(elapsed "$s" "$e")" "$(elapsed "$e" "$d")" "$post" "$id" \
    "$(cpu_split "$c0" "$(cpu_mark)")"
}

LOAD_START=$(loadavg)
log "load average (1/5/15 min) before the runs: $LOAD_START"

# ----------------------------------------------------------------- warm-up ---
# Unmeasured exports of the same table, so the runs meet a warm JVM (JIT, pools, class
# loading), as a long-running service would be.
warm_export() {
  local out tw dw
  out=$(export_service)
  read -r tw dw _ <<<"$out"
  printf 'warm-up: service export of %s rows in %ss + download %ss; ' "$ROWS" "$tw" "$dw"
}
warm_until_settled warm_export

# -------------------------------------------------------------------- runs ---
declare -a C_PSQL=() C_SVC=() CPU_P=() CPU_S=() R_PSQL=() R_SVC=() R_E2E=() T_DL=() T_POST=() T_RUN=() T_REST=() T_SVC=()
BYTES=""
for i in $(seq 1 "$RUNS"); do
  read -r tp ppg pjvm pother <<<"$(export_psql)"
  out=$(export_service)
  read -r ts td tpost id spg sjvm sother <<<"$out"
  C_PSQL+=("$ppg 0 $pother"); C_SVC+=("$spg $sjvm $sother")
  CPU_P+=("psql: pg ${ppg}s, client+rest ${pother}s")
  CPU_S+=("service: pg ${spg}s, jvm ${sjvm}s, client+rest ${sother}s")
  cmp -s "$PSQL_FILE" "$SVC_FILE" \
    || die "run $i: the service's file differs from psql's ($(cmp "$PSQL_FILE" "$SVC_FILE" 2>&1 | head -c 300)); KEEP_FILES=1 keeps both"
  BYTES=$(stat -c %s "$SVC_FILE")
  rp=$(rate "$ROWS" "$tp"); rs=$(rate "$ROWS" "$ts")
  re2e=$(rate "$ROWS" "$(awk -v a="$ts" -v b="$td" 'BEGIN { printf "%.3f", a + b }')")
  # From the service log: "running from row" -> "run ended" is the export itself; the rest of
  # POST -> COMPLETED is the POST (checks, row count, task row), dispatch and polling.
  read -r _ run_at end_at _ _ < <(log_times "$id")
  if [[ "$run_at" != - && "$end_at" != - ]]; then
    trun=$(awk -v a="$run_at" -v b="$end_at" 'BEGIN { printf "%.3f", b - a }')
    trest=$(awk -v w="$ts" -v p="$tpost" -v r="$trun" 'BEGIN { printf "%.3f", w - p - r }')
  else
    trun=- trest=-
  fi
  R_PSQL+=("$rp"); R_SVC+=("$rs"); R_E2E+=("$re2e"); T_DL+=("$td"); T_SVC+=("$ts")
  T_POST+=("$tpost"); T_RUN+=("$trun"); T_REST+=("$trest")
  printf 'run %d/%d: psql \\copy TO %8ss %10s rows/s | service %8ss %10s rows/s (POST %.3fs, run %ss, rest %ss) + download %ss | files identical (%s bytes)\n' \
    "$i" "$RUNS" "$tp" "$rp" "$ts" "$rs" "$tpost" "$trun" "$trest" "$td" "$BYTES"
  printf '         CPU seconds: %s | %s\n' "${CPU_P[-1]}" "${CPU_S[-1]}"
done
HWM=$(svc_mem VmHWM)
LOAD_END=$(loadavg)

# ----------------------------------------------------------------- summary ---
med_psql=$(median "${R_PSQL[@]}")
med_svc=$(median "${R_SVC[@]}")
med_e2e=$(median "${R_E2E[@]}")
med_dl=$(median3 "${T_DL[@]}")
ratio_svc=$(ratio "$med_svc" "$med_psql")
ratio_e2e=$(ratio "$med_e2e" "$med_psql")
when=$(date -u +%Y-%m-%dT%H:%M:%SZ)
cores=$(nproc)
pgver=$(sql 'show server_version')
commit=$(bench_commit)

cat <<EOF

=== export benchmark: $ROWS rows x $RUNS runs ($BYTES bytes) ===
psql \\copy TO median     : $med_psql rows/s
service median           : $med_svc rows/s (POST -> COMPLETED)
ratio svc/psql           : $ratio_svc
download median          : ${med_dl}s after COMPLETED (GET /tasks/{id}/file$( [[ "$FOLLOW" == 1 ]] && echo '?follow=true, started with the export'))
service incl. download   : $med_e2e rows/s, ratio $ratio_e2e
service time split       : median POST $(median3 "${T_POST[@]}")s, run $(median3 "${T_RUN[@]}")s, rest $(median3 "${T_REST[@]}")s (of $(median3 "${T_SVC[@]}")s)
files                    : byte-identical to psql's in every run (cmp)
service peak RSS         : $HWM MiB (VmHWM after warm-up + runs, $JAVA_OPTS)
warm-up                  : $WARMUP_DONE export(s) of the same table (until the JIT settled: <= ${JIT_SETTLED}s of compiling a round, at most $WARMUP_MAX)
date                     : $when
nproc                    : $cores
PostgreSQL               : $pgver
load avg 1/5/15          : $LOAD_START (before) / $LOAD_END (after)
EOF

RES="$OUT/results-export.tsv"
if [[ ! -s "$RES" ]]; then
  printf 'date\tcommit\trows\truns\twarmup\tnproc\tpg_version\tload_before\tpsql_rows_s\tsvc_rows_s\tratio\tdownload_s\tsvc_e2e_rows_s\te2e_ratio\tpeak_rss_mib\tpsql_runs\tsvc_runs\tdownload_runs\n' >"$RES"
fi
printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' \
  "$when" "$commit" "$ROWS" "$RUNS" "$WARMUP_DONE" "$cores" "$pgver" "$LOAD_START" \
  "$med_psql" "$med_svc" "$ratio_svc" "$med_dl" "$med_e2e" "$ratio_e2e" "$HWM" \
  "$(join_by_comma "${R_PSQL[@]}")" "$(join_by_comma "${R_SVC[@]}")" "$(join_by_comma "${T_DL[@]}")" >>"$RES"
log "appended to $RES"
record_result export "$BYTES" "$med_psql" "$med_svc" "$med_e2e" "$HWM" \
  "$(median_cpu "${C_PSQL[@]}")" "$(median_cpu "${C_SVC[@]}")"
# the source table and both files are removed by the EXIT trap (KEEP_TABLES=1 / KEEP_FILES=1 keep them)
