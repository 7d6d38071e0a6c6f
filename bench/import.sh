#!/usr/bin/env bash
# Benchmark: CSV import through the Task State Manager service vs. psql \copy.
#
# Usage (from anywhere; paths are relative to the repository root):
#   bench/import.sh
#   ROWS=200000 RUNS=5 bench/import.sh
#
# See bench/README.md for all settings.
set -euo pipefail

# ---------------------------------------------------------------- settings ---
ROWS="${ROWS:-1000000}"
RUNS="${RUNS:-3}"
export PGHOST="${PGHOST:-127.0.0.1}"
export PGPORT="${PGPORT:-5432}"
export PGUSER="${PGUSER:-postgres}"
export PGDATABASE="${PGDATABASE:-test}"
PORT="${PORT:-18080}"
JAR="${JAR:-target/quarkus-app/quarkus-run.jar}"
OUT="${OUT:-bench/out}"
STARTUP_TIMEOUT="${STARTUP_TIMEOUT:-60}"   # seconds to wait for /q/health/ready
IMPORT_TIMEOUT="${IMPORT_TIMEOUT:-600}"    # seconds per single import (both methods)
POLL_INTERVAL="${POLL_INTERVAL:-0.02}"     # seconds between GET /tasks/{id}
JAVA_OPTS="${JAVA_OPTS:--Xmx1g}"

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

log()  { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die()  { printf '[bench] ERROR: %s\n' "$*" >&2; exit 1; }
now()  { date +%s.%N; }
# elapsed START END -> seconds with 3 decimals
elapsed() { awk -v s="$1" -v e="$2" 'BEGIN { printf "%.3f", e - s }'; }
# rate ROWS SECONDS -> rows/s (integer)
rate() { awk -v r="$1" -v t="$2" 'BEGIN { if (t <= 0) t = 0.001; printf "%.0f", r / t }'; }
median() { printf '%s\n' "$@" | sort -g | awk '{ a[NR] = $1 } END { if (NR % 2) printf "%.0f", a[(NR + 1) / 2]; else printf "%.0f", (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

[[ "$ROWS" =~ ^[1-9][0-9]*$ ]] || die "ROWS must be a positive integer (got '$ROWS')"
[[ "$RUNS" =~ ^[1-9][0-9]*$ ]] || die "RUNS must be a positive integer (got '$RUNS')"
[[ "$PORT" =~ ^[0-9]+$ ]]      || die "PORT must be a number (got '$PORT')"
for tool in psql curl python3 java awk; do
  command -v "$tool" >/dev/null 2>&1 || die "required tool '$tool' not found in PATH"
done

mkdir -p "$OUT"
OUT="$(cd "$OUT" && pwd)"
# TSM_STORAGE_DIR of the benchmarked service; uploaded copies are bench-only.
rm -rf "$OUT/files"
mkdir -p "$OUT/files"

# client_min_messages: hide "table does not exist, skipping" notices.
PSQL=(env PGOPTIONS="${PGOPTIONS:-} -c client_min_messages=warning" psql -X -q -A -t -v ON_ERROR_STOP=1)
sql() { "${PSQL[@]}" -c "$1"; }

sql 'select 1' >/dev/null 2>&1 \
  || die "cannot connect to PostgreSQL at $PGUSER@$PGHOST:$PGPORT/$PGDATABASE"

BASE="http://127.0.0.1:$PORT"
SVC_PID=""

cleanup() {
  local rc=$?
  if [[ -n "$SVC_PID" ]] && kill -0 "$SVC_PID" 2>/dev/null; then
    kill "$SVC_PID" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$SVC_PID" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$SVC_PID" 2>/dev/null || true
    wait "$SVC_PID" 2>/dev/null || true
  fi
  [[ "${KEEP_FILES:-0}" == 1 ]] || rm -rf "${OUT:?}/files"
  if [[ "${KEEP_TABLES:-0}" != 1 ]]; then
    local i
    for i in $(seq 1 "$RUNS"); do
      sql "drop table if exists bench_ref_$i, bench_svc_$i" >/dev/null 2>&1 || true
    done
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --------------------------------------------------------------- test data ---
# Deterministic (pure arithmetic on the row number, no RNG). Bump GEN_VERSION
# whenever the generator changes so cached files are regenerated.
GEN_VERSION=1
CSV="$OUT/data_v${GEN_VERSION}_${ROWS}.csv"
if [[ ! -s "$CSV" ]]; then
  log "generating $CSV ($ROWS rows)"
  python3 - "$ROWS" "$CSV.tmp" <<'PY'
import sys, datetime
n, path = int(sys.argv[1]), sys.argv[2]
start = datetime.date(2024, 1, 1)
days = [(start + datetime.timedelta(d)).isoformat() for d in range(731)]
# Names: plain ASCII, multi-byte UTF-8, and RFC 4180 quoted values with
# embedded commas and doubled quotes. '{}' is replaced by a per-row number.
names = [
    'Alice Johnson {}',
    'Bob Smith-Williams {}',
    '"Smith, ""Jr"" {}"',
    'Zoë Kravitz {}',
    '東京 Tower {}',
    '"Doe, Jane {}"',
    'José Álvarez García {}',
    '"O\'Brien, ""Pat"" & Co {}"',
    'Müller GmbH {}',
    'Łódź Ñandú {}',
    '"Plain quoted {}"',
    'Grace Hopper {}',
]
nn = len(names)
buf = []
w = buf.append
with open(path, 'w', encoding='utf-8', newline='') as f:
    f.write('id,code,amount,active,day,ts,name\n')
    for i in range(1, n + 1):
        cents = (i * 104729) % 10000000
        amount = '%s%d.%02d' % ('-' if i % 17 == 0 else '', cents // 100, cents % 100)
        secs = (i * 7907) % 86400
        w('%d,%05d,%s,%s,%s,%s %02d:%02d:%02d,%s\n' % (
            i,
            (i * 7919) % 100000,
            amount,
            'true' if i % 3 else 'false',
            days[i % 731],
            days[(i * 31) % 731], secs // 3600, secs // 60 % 60, secs % 60,
            names[i % nn].format(i % 9973),
        ))
        if len(buf) >= 50000:
            f.write(''.join(buf)); buf.clear()
    f.write(''.join(buf))
PY
  mv "$CSV.tmp" "$CSV"
fi
CSV_BYTES=$(stat -c %s "$CSV")
log "data: $CSV ($CSV_BYTES bytes, $(awk -v b="$CSV_BYTES" -v r="$ROWS" 'BEGIN{printf "%.1f", b/r}') bytes/row)"
CSV_SQL="${CSV//\'/\'\'}"   # for use inside a single-quoted SQL literal

# ----------------------------------------------------------------- service ---
if [[ ! -f "$JAR" ]]; then
  log "$JAR not found, building: ./mvnw -B -q package -DskipTests"
  ./mvnw -B -q package -DskipTests || die "maven build failed"
  [[ -f "$JAR" ]] || die "build finished but $JAR still does not exist"
fi

if curl -fs -o /dev/null --max-time 2 "$BASE/q/health/ready"; then
  die "something already answers on port $PORT; stop it or set PORT"
fi

log "starting service on port $PORT (log: $OUT/service.log)"
# shellcheck disable=SC2086  # JAVA_OPTS is intentionally word-split
QUARKUS_HTTP_PORT="$PORT" \
QUARKUS_DATASOURCE_JDBC_URL="jdbc:postgresql://$PGHOST:$PGPORT/$PGDATABASE" \
QUARKUS_DATASOURCE_REACTIVE_URL="postgresql://$PGHOST:$PGPORT/$PGDATABASE" \
QUARKUS_DATASOURCE_USERNAME="$PGUSER" \
TSM_STORAGE_DIR="$OUT/files" \
  java $JAVA_OPTS -jar "$JAR" >"$OUT/service.log" 2>&1 &
SVC_PID=$!

deadline=$(( $(date +%s) + STARTUP_TIMEOUT ))
until curl -fs -o /dev/null --max-time 2 "$BASE/q/health/ready"; do
  if ! kill -0 "$SVC_PID" 2>/dev/null; then
    tail -n 40 "$OUT/service.log" >&2 || true
    die "service exited during startup (see $OUT/service.log)"
  fi
  if (( $(date +%s) >= deadline )); then
    tail -n 40 "$OUT/service.log" >&2 || true
    die "service not ready after ${STARTUP_TIMEOUT}s ($BASE/q/health/ready)"
  fi
  sleep 0.2
done
log "service ready (pid $SVC_PID)"

# ------------------------------------------------------------------ import ---
import_psql() {   # TABLE -> prints seconds
  local t=$1 s e
  sql "drop table if exists $t" >/dev/null
  sql "create table $t (id integer, code text, amount numeric, active boolean, day date, ts timestamp, name text)" >/dev/null
  s=$(now)
  timeout "$IMPORT_TIMEOUT" "${PSQL[@]}" \
    -c "\\copy $t FROM '$CSV_SQL' WITH (FORMAT csv, HEADER true)" >/dev/null \
    || die "psql \\copy into $t failed or exceeded ${IMPORT_TIMEOUT}s"
  e=$(now)
  elapsed "$s" "$e"
}

import_service() {   # TABLE -> prints seconds
  local t=$1 s e resp code body id state deadline
  sql "drop table if exists $t" >/dev/null
  s=$(now)
  # 'Expect:' suppresses curl's "Expect: 100-continue" (avoids a 1 s stall
  # if the server does not answer 100 Continue).
  resp=$(curl -sS --max-time "$IMPORT_TIMEOUT" -X POST --data-binary "@$CSV" \
           -H 'Content-Type: text/csv' -H 'Expect:' \
           -w '\n%{http_code}' "$BASE/imports?table=$t") \
    || die "POST /imports?table=$t failed (curl error)"
  code=${resp##*$'\n'}
  body=${resp%$'\n'*}
  [[ "$code" == 2?? ]] || die "POST /imports?table=$t returned HTTP $code: $body"
  if [[ $body =~ \"id\"[[:space:]]*:[[:space:]]*\"?([A-Za-z0-9_.-]+) ]]; then
    id=${BASH_REMATCH[1]}
  else
    die "no \"id\" in POST /imports response: $body"
  fi
  deadline=$(( $(date +%s) + IMPORT_TIMEOUT ))
  while :; do
    body=$(curl -sS --max-time 10 "$BASE/tasks/$id") || die "GET /tasks/$id failed (curl error)"
    state=""
    [[ $body =~ \"state\"[[:space:]]*:[[:space:]]*\"([A-Za-z_]+)\" ]] && state=${BASH_REMATCH[1]}
    case "$state" in
      COMPLETED) break ;;
      FAILED|TERMINATED) die "task $id ended in state $state: $body" ;;
    esac
    (( $(date +%s) < deadline )) || die "task $id not COMPLETED after ${IMPORT_TIMEOUT}s; last body: $body"
    sleep "$POLL_INTERVAL"
  done
  e=$(now)
  elapsed "$s" "$e"
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

declare -a R_PSQL=() R_SVC=()
for i in $(seq 1 "$RUNS"); do
  ref="bench_ref_$i" svc="bench_svc_$i"
  tp=$(import_psql "$ref")
  ts=$(import_service "$svc")
  check_tables "$ref" "$svc"
  rp=$(rate "$ROWS" "$tp"); rs=$(rate "$ROWS" "$ts")
  R_PSQL+=("$rp"); R_SVC+=("$rs")
  printf 'run %d/%d: psql \\copy %8ss %10s rows/s | service %8ss %10s rows/s\n' \
    "$i" "$RUNS" "$tp" "$rp" "$ts" "$rs"
done

# ----------------------------------------------------------------- summary ---
hwm_kb=$(awk '/^VmHWM:/ { print $2 }' "/proc/$SVC_PID/status" 2>/dev/null || true)
[[ -n "$hwm_kb" ]] || die "could not read VmHWM of service pid $SVC_PID"
rss_mib=$(awk -v k="$hwm_kb" 'BEGIN { printf "%.0f", k / 1024 }')
med_psql=$(median "${R_PSQL[@]}")
med_svc=$(median "${R_SVC[@]}")
ratio=$(awk -v a="$med_svc" -v b="$med_psql" 'BEGIN { printf "%.3f", a / b }')
when=$(date -u +%Y-%m-%dT%H:%M:%SZ)
cores=$(nproc)
pgver=$(sql 'show server_version')
commit=$(git rev-parse --short HEAD 2>/dev/null || echo none)

cat <<EOF

=== import benchmark: $ROWS rows x $RUNS runs ($CSV_BYTES bytes) ===
psql \\copy median : $med_psql rows/s
service median    : $med_svc rows/s
ratio svc/psql    : $ratio
service peak RSS  : $rss_mib MiB (VmHWM, $JAVA_OPTS)
date              : $when
nproc             : $cores
PostgreSQL        : $pgver
EOF

RES="$OUT/results.tsv"
if [[ ! -s "$RES" ]]; then
  printf 'date\tcommit\trows\truns\tnproc\tpg_version\tpsql_rows_s\tsvc_rows_s\tratio\tpeak_rss_mib\tpsql_runs\tsvc_runs\n' >"$RES"
fi
printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' \
  "$when" "$commit" "$ROWS" "$RUNS" "$cores" "$pgver" "$med_psql" "$med_svc" "$ratio" "$rss_mib" \
  "$(IFS=,; echo "${R_PSQL[*]}")" "$(IFS=,; echo "${R_SVC[*]}")" >>"$RES"
log "appended to $RES"
# bench tables are dropped by the EXIT trap (set KEEP_TABLES=1 to keep them)
