# Shared by bench/import.sh and bench/export.sh (sourced, not run).
# Settings, helpers, the deterministic CSV generator, service start/stop and task polling.
# shellcheck shell=bash

# ---------------------------------------------------------------- settings ---
SHAPE="${SHAPE:-typed}"
# About 100 MB of each shape unless ROWS says otherwise (typed: 1,000,000 rows, 79 MB, as before).
case "$SHAPE" in
  narrow) ROWS="${ROWS:-2200000}" ;;
  wide) ROWS="${ROWS:-50000}" ;;
  many) ROWS="${ROWS:-340000}" ;;
  *) ROWS="${ROWS:-1000000}" ;;
esac
RUNS="${RUNS:-3}"
WARMUP="${WARMUP:-1}"                     # unmeasured warm-up rounds before the runs, at least (0: none)
WARMUP_MAX="${WARMUP_MAX:-12}"             # ...and at most, while the JIT is still compiling
JIT_SETTLED="${JIT_SETTLED:-0.15}"         # CPU seconds of JIT compiling in a round that count as settled
WARMUP_DONE=0
export PGHOST="${PGHOST:-127.0.0.1}"
export PGPORT="${PGPORT:-5432}"
export PGUSER="${PGUSER:-postgres}"
export PGDATABASE="${PGDATABASE:-test}"
PORT="${PORT:-18080}"
JAR="${JAR:-target/quarkus-app/quarkus-run.jar}"
OUT="${OUT:-bench/out}"
STARTUP_TIMEOUT="${STARTUP_TIMEOUT:-60}"   # seconds to wait for /q/health/ready
POLL_INTERVAL="${POLL_INTERVAL:-0.02}"     # seconds between GET /tasks/{id}
JAVA_OPTS="${JAVA_OPTS:--Xmx1g}"
MAX_LOAD="${MAX_LOAD:-0}"                  # >0: wait until the 1-min load average is below it...
LOAD_WAIT="${LOAD_WAIT:-600}"              # ...for at most this many seconds, then run anyway

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

log()  { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die()  {
  printf '[bench] ERROR: %s\n' "$*" >&2
  if [[ -n "${SVC_PID:-}" ]] && ! kill -0 "$SVC_PID" 2>/dev/null; then
    printf '[bench] the service (pid %s) is not running any more; see %s\n' "$SVC_PID" "$OUT/service.log" >&2
  fi
  exit 1
}
now()  { date +%s.%N; }
# elapsed START END -> seconds with 3 decimals
elapsed() { awk -v s="$1" -v e="$2" 'BEGIN { printf "%.3f", e - s }'; }
# rate ROWS SECONDS -> rows/s (integer)
rate() { awk -v r="$1" -v t="$2" 'BEGIN { if (t <= 0) t = 0.001; printf "%.0f", r / t }'; }
# median of integers (rounded) / median with 3 decimals
median() { printf '%s\n' "$@" | sort -g | awk '{ a[NR] = $1 } END { if (NR % 2) printf "%.0f", a[(NR + 1) / 2]; else printf "%.0f", (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
# ('-' values, unknown, are left out; '-' if none is left)
median3() { printf '%s\n' "$@" | grep -v '^-$' | sort -g | awk '{ a[NR] = $1 } END { if (NR == 0) printf "-"; else if (NR % 2) printf "%.3f", a[(NR + 1) / 2]; else printf "%.3f", (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a / b }'; }
loadavg() { awk '{ print $1 " " $2 " " $3 }' /proc/loadavg; }
join_by_comma() { local IFS=,; echo "$*"; }

[[ "$ROWS" =~ ^[1-9][0-9]*$ ]]   || die "ROWS must be a positive integer (got '$ROWS')"
[[ "$RUNS" =~ ^[1-9][0-9]*$ ]]   || die "RUNS must be a positive integer (got '$RUNS')"
[[ "$WARMUP" =~ ^[0-9]+$ ]]      || die "WARMUP must be a non-negative integer (got '$WARMUP')"
[[ "$PORT" =~ ^[0-9]+$ ]]        || die "PORT must be a number (got '$PORT')"
[[ "$MAX_LOAD" =~ ^[0-9]+(\.[0-9]+)?$ ]] || die "MAX_LOAD must be a number (got '$MAX_LOAD')"
for tool in psql curl python3 java awk cmp; do
  command -v "$tool" >/dev/null 2>&1 || die "required tool '$tool' not found in PATH"
done

mkdir -p "$OUT"
OUT="$(cd "$OUT" && pwd)"
# One benchmark at a time per OUT: they share the service log, the storage dir and the machine.
# (The lock is released when the script exits.)
LOCK_WAIT="${LOCK_WAIT:-1800}"
if command -v flock >/dev/null 2>&1; then
  exec 9>"$OUT/.lock"
  if ! flock -n 9; then
    log "another benchmark holds $OUT/.lock; waiting up to ${LOCK_WAIT}s"
    flock -w "$LOCK_WAIT" 9 || die "another benchmark still holds $OUT/.lock after ${LOCK_WAIT}s"
  fi
fi
# TSM_STORAGE_DIR of the benchmarked service; uploaded copies and export files are bench-only.
rm -rf "$OUT/files"
mkdir -p "$OUT/files"

# client_min_messages: hide "table does not exist, skipping" notices.
PSQL=(env PGOPTIONS="${PGOPTIONS:-} -c client_min_messages=warning" psql -X -q -A -t -v ON_ERROR_STOP=1)
sql() { "${PSQL[@]}" -c "$1"; }

sql 'select 1' >/dev/null 2>&1 \
  || die "cannot connect to PostgreSQL at $PGUSER@$PGHOST:$PGPORT/$PGDATABASE"

BASE="http://127.0.0.1:$PORT"
SVC_PID=""
WAITER_PID=""      # the task poller (bench/wait_task.py)
BENCH_TABLES=()    # dropped on exit unless KEEP_TABLES=1
BENCH_FILES=()     # removed on exit unless KEEP_FILES=1

cleanup() {
  local rc=$?
  if [[ -n "${SVC2_PID:-}" ]]; then kill "$SVC2_PID" 2>/dev/null || true; wait "$SVC2_PID" 2>/dev/null || true; fi
  [[ -z "$WAITER_PID" ]] || kill "$WAITER_PID" 2>/dev/null || true
  rm -f "$OUT/.wait.in" "$OUT/.wait.out"
  if [[ -n "$SVC_PID" ]] && kill -0 "$SVC_PID" 2>/dev/null; then
    kill "$SVC_PID" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$SVC_PID" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$SVC_PID" 2>/dev/null || true
    wait "$SVC_PID" 2>/dev/null || true
  fi
  if [[ "${KEEP_FILES:-0}" != 1 ]]; then
    rm -rf "${OUT:?}/files"
    (( ${#BENCH_FILES[@]} == 0 )) || rm -f "${BENCH_FILES[@]}"
  fi
  if [[ "${KEEP_TABLES:-0}" != 1 ]] && (( ${#BENCH_TABLES[@]} > 0 )); then
    local t
    for t in "${BENCH_TABLES[@]}"; do
      sql "drop table if exists $t" >/dev/null 2>&1 || true
    done
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# settle_db: a CHECKPOINT before each timed run, psql's and the service's alike. Each 100 MB load
# writes about 150 MB of WAL; without it, whichever run happened to cross max_wal_size paid for a
# checkpoint the runs before it caused (its sync phase stalled commits for up to a second here).
# SETTLE=0 leaves it out.
settle_db() {
  [[ "${SETTLE:-1}" == 1 ]] || return 0
  sql "checkpoint" >/dev/null
}

# --------------------------------------------------------------- test data ---
# Deterministic (pure arithmetic on the row number, no RNG). Bump GEN_VERSION
# whenever the generator changes so cached files are regenerated.
GEN_VERSION=1
# gen_csv N -> prints the path of the cached CSV with N data rows (generates it if missing),
# of the shape SHAPE: typed (the default: 79 B a row, 7 typed columns), narrow (about 48 B, 6
# columns, mostly text, codes with leading zeros), wide (about 2 KB, one long quoted text with
# commas and newlines) or many (40 columns of mixed types).
gen_csv() {
  if [[ "$SHAPE" != typed ]]; then
    gen_shape "$1"
    return
  fi
  local n=$1 csv="$OUT/data_v${GEN_VERSION}_$1.csv"
  if [[ ! -s "$csv" ]]; then
    log "generating $csv ($n rows)"
    python3 - "$n" "$csv.tmp" <<'PY'
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
    mv "$csv.tmp" "$csv"
  fi
  printf '%s\n' "$csv"
}
# gen_shape N -> the CSV of N rows of SHAPE (narrow, wide, many), cached
gen_shape() {
  local n=$1 csv="$OUT/data_${SHAPE}_v${GEN_VERSION}_$1.csv"
  if [[ ! -s "$csv" ]]; then
    log "generating $csv ($n rows, shape $SHAPE)"
    python3 - "$n" "$csv.tmp" "$SHAPE" <<'PY'
import sys, datetime
n, path, shape = int(sys.argv[1]), sys.argv[2], sys.argv[3]
start = datetime.date(2024, 1, 1)
days = [(start + datetime.timedelta(d)).isoformat() for d in range(731)]
cities = ['Springfield', 'Zürich', 'Lyon', 'Osaka', 'Kraków', 'Porto', 'Austin', 'Tromsø']
words = ['alpha', 'beta', 'gamma', 'delta', 'epsilon', 'zeta', 'eta', 'theta', 'iota', 'kappa']
with open(path, 'w', encoding='utf-8', newline='') as f:
    buf = []
    w = buf.append
    if shape == 'narrow':
        f.write('id,code,city,country,zip,tag\n')
        for i in range(1, n + 1):
            w('%d,%05d,%s,%s,%05d,%s-%s-%d\n' % (i, (i * 7919) % 100000, cities[i % 8],
              ('US', 'CH', 'FR', 'JP')[i % 4], (i * 104729) % 100000, words[i % 10],
              words[(i // 10) % 10], i % 997))
            if len(buf) >= 50000:
                f.write(''.join(buf)); buf.clear()
    elif shape == 'wide':
        f.write('id,title,body\n')
        for i in range(1, n + 1):
            parts = []
            k = i
            while sum(len(p) for p in parts) < 1950:
                parts.append('%s, %s %d' % (words[k % 10], words[(k // 10) % 10], k % 1009))
                k = k * 31 + 7
            body = ' '.join(parts)
            body = body[:900] + '\n' + body[900:1400] + ' ""quoted"" ' + body[1400:]
            w('%d,Title %d,"%s"\n' % (i, i, body))
            if len(buf) >= 2000:
                f.write(''.join(buf)); buf.clear()
    elif shape == 'many':
        kinds = ['int', 'num', 'text', 'bool', 'date']
        f.write('id,' + ','.join('c%02d' % c for c in range(1, 40)) + '\n')
        for i in range(1, n + 1):
            vals = [str(i)]
            for c in range(1, 40):
                k = kinds[c % 5]
                v = (i * (c + 7919)) % 100000
                vals.append(str(v) if k == 'int' else
                            '%d.%02d' % (v // 100, v % 100) if k == 'num' else
                            '%s%d' % (words[v % 10], c) if k == 'text' else
                            ('true' if v % 2 else 'false') if k == 'bool' else days[v % 731])
            w(','.join(vals) + '\n')
            if len(buf) >= 20000:
                f.write(''.join(buf)); buf.clear()
    else:
        sys.exit('unknown SHAPE ' + shape)
    f.write(''.join(buf))
PY
    mv "$csv.tmp" "$csv"
  fi
  printf '%s\n' "$csv"
}

# The column types of each shape (the reference table of the import, the source of the export).
case "$SHAPE" in
  typed) BENCH_COLUMNS="id integer, code text, amount numeric, active boolean, day date, ts timestamp, name text" ;;
  narrow) BENCH_COLUMNS="id integer, code text, city text, country text, zip text, tag text" ;;
  wide) BENCH_COLUMNS="id integer, title text, body text" ;;
  many)
    BENCH_COLUMNS="id integer"
    for c in $(seq 1 39); do
      case $((c % 5)) in
        0) t=integer ;; 1) t=numeric ;; 2) t=text ;; 3) t=boolean ;; 4) t=date ;;
      esac
      BENCH_COLUMNS+=", $(printf 'c%02d' "$c") $t"
    done ;;
  *) die "SHAPE must be typed, narrow, wide or many (got '$SHAPE')" ;;
esac

# sql_literal TEXT -> TEXT with single quotes doubled (for use inside '...')
sql_literal() { printf '%s' "${1//\'/\'\'}"; }

# ----------------------------------------------------------------- service ---
# The service authenticates every call: the benchmark's client uses an API key of its own.
BENCH_KEY="${BENCH_KEY:-tsm_bench_$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')}"
export BENCH_KEY
MGMT_PORT="${MGMT_PORT:-$((PORT + 1))}"
MGMT="http://127.0.0.1:$MGMT_PORT"

# curl with the benchmark's key (every API call; health is on the management port, open)
api_curl() { curl -H "Authorization: Bearer $BENCH_KEY" "$@"; }

start_service() {
  if [[ ! -f "$JAR" ]]; then
    log "$JAR not found, building: ./mvnw -B -q package -DskipTests"
    ./mvnw -B -q package -DskipTests || die "maven build failed"
    [[ -f "$JAR" ]] || die "build finished but $JAR still does not exist"
  fi

  if curl -fs -o /dev/null --max-time 2 "$MGMT/q/health/ready"; then
    die "something already answers on port $PORT; stop it or set PORT"
  fi

  log "starting service on port $PORT (log: $OUT/service.log)"
  SVC_PID=$(launch_service "$PORT" "$MGMT_PORT" "$OUT/service.log")
  log "service ready (pid $SVC_PID)"

  rm -f "$OUT/.wait.in" "$OUT/.wait.out"
  mkfifo "$OUT/.wait.in" "$OUT/.wait.out"
  BENCH_KEY="$BENCH_KEY" python3 "$ROOT/bench/wait_task.py" "$BASE" "$POLL_INTERVAL" \
    "$OUT/.wait.in" "$OUT/.wait.out" 9>&- &
  WAITER_PID=$!
}

# launch_service HTTP_PORT MGMT_PORT LOG -> prints the pid of a service on those ports (same
# database, storage folder and bench key), once it is ready; dies if it exits or is not ready in time.
launch_service() {
  local port=$1 mgmt=$2 logfile=$3 pid
  # shellcheck disable=SC2086  # JAVA_OPTS is intentionally word-split
  QUARKUS_HTTP_PORT="$port" QUARKUS_MANAGEMENT_PORT="$mgmt" \
  QUARKUS_DATASOURCE_JDBC_URL="jdbc:postgresql://$PGHOST:$PGPORT/$PGDATABASE" \
  QUARKUS_DATASOURCE_REACTIVE_URL="postgresql://$PGHOST:$PGPORT/$PGDATABASE" \
  QUARKUS_DATASOURCE_USERNAME="$PGUSER" \
  TSM_STORAGE_DIR="$OUT/files" \
    java $JAVA_OPTS -Dtsm.security.keys.bench.key="$BENCH_KEY" -jar "$JAR" >"$logfile" 2>&1 9>&- &   # 9: the OUT lock, not for the JVM
  pid=$!
  local deadline=$(( $(date +%s) + STARTUP_TIMEOUT ))
  until curl -fs -o /dev/null --max-time 2 "http://127.0.0.1:$mgmt/q/health/ready"; do
    if ! kill -0 "$pid" 2>/dev/null; then
      tail -n 40 "$logfile" >&2 || true
      die "the service on port $port exited during startup (see $logfile)"
    fi
    if (( $(date +%s) >= deadline )); then
      tail -n 40 "$logfile" >&2 || true
      kill "$pid" 2>/dev/null || true
      die "the service on port $port is not ready after ${STARTUP_TIMEOUT}s"
    fi
    sleep 0.2
  done
  echo "$pid"
}

# start_second_service: a second replica on PORT + 2 (management PORT + 3), same database and
# storage folder, logging to OUT/service-2.log; BASE2 is its URL. Stopped on exit.
start_second_service() {
  BASE2="http://127.0.0.1:$((PORT + 2))"
  log "starting a second replica on port $((PORT + 2)) (log: $OUT/service-2.log)"
  SVC2_PID=$(launch_service "$((PORT + 2))" "$((PORT + 3))" "$OUT/service-2.log")
  log "second replica ready (pid $SVC2_PID)"
}

# task_id JSON -> prints the "id" of a task view
task_id() {
  if [[ $1 =~ \"id\"[[:space:]]*:[[:space:]]*\"?([A-Za-z0-9_.-]+) ]]; then
    printf '%s' "${BASH_REMATCH[1]}"
  else
    die "no \"id\" in response: $1"
  fi
}

# wait_completed ID TIMEOUT -> returns once GET /tasks/ID says COMPLETED; dies on FAILED,
# TERMINATED or timeout. Asks the one poller process (bench/wait_task.py) that start_service
# started, through two FIFOs: no process is started per poll or per wait.
wait_completed() {
  local answer
  printf '%s %s\n' "$1" "$2" >"$OUT/.wait.in"
  read -r answer <"$OUT/.wait.out"
  [[ "$answer" == ok ]] || die "${answer#error }"
}

# svc_mem FIELD -> VmHWM (peak RSS) or VmRSS of the service in MiB
svc_mem() {
  local key val _unit try
  for try in 1 2 3; do
    if [[ -r "/proc/$SVC_PID/status" ]]; then
      while read -r key val _unit; do
        if [[ "$key" == "$1:" ]]; then
          awk -v k="$val" 'BEGIN { printf "%.0f\n", k / 1024 }'
          return 0
        fi
      done <"/proc/$SVC_PID/status"
    fi
    sleep 0.2
  done
  kill -0 "$SVC_PID" 2>/dev/null || die "the service (pid $SVC_PID) is gone; see $OUT/service.log"
  die "could not read $1 of service pid $SVC_PID"
}

# log_times ID -> "accepted running ended staged_ms checked_ms" for task ID from the service log:
# the times (epoch seconds, ms precision) of its "accepted", "running from row" and "run ended"
# lines, and the staging/check times an import reports ("accepted (staged in X ms, checked in Y
# ms)", or, for a task started while its body arrived, "received in X ms" of the whole upload and
# "checked in Y ms"); '-' where absent.
# Reads both the plain console format ("2026-01-01 10:00:00,123 INFO ...") and JSON lines
# ({"timestamp":"2026-01-01T10:00:00.123456789Z",...,"message":"..."}).
log_times() {
  python3 - "$OUT/service.log" "$1" <<'PY'
import json, re, sys, datetime
path, tid = sys.argv[1], sys.argv[2]
marks = {'accepted': '-', 'running': '-', 'ended': '-', 'staged': '-', 'checked': '-'}

def parse(line):
    """(epoch seconds, message) of a log line, or None."""
    if line.startswith('{'):
        try:
            rec = json.loads(line)
        except ValueError:
            return None
        m = re.match(r'(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:?\d\d)?$',
                     str(rec.get('timestamp', '')))
        if not m:
            return None
        t = datetime.datetime.fromisoformat(m.group(1) + '+00:00' if m.group(3) in (None, 'Z')
                                            else m.group(1) + m.group(3))
        frac = float('0.' + m.group(2)) if m.group(2) else 0.0
        return t.timestamp() + frac, str(rec.get('message', ''))
    try:
        t = datetime.datetime.strptime(line[:23], '%Y-%m-%d %H:%M:%S,%f').timestamp()
    except ValueError:
        return None
    return t, line[23:]

with open(path, encoding='utf-8', errors='replace') as f:
    for line in f:
        if tid not in line:
            continue
        parsed = parse(line)
        if parsed is None:
            continue
        t, msg = parsed
        if tid not in msg:
            continue
        m = re.search(r'upload of \d+ bytes received in (\d+) ms', msg)
        if m and marks['staged'] == '-':
            marks['staged'] = m.group(1)   # a task that started while its body arrived
            continue
        key = ('accepted' if ' accepted (' in msg or ' accepted while ' in msg else
               'running' if ' running from row ' in msg else
               'ended' if ': run ended' in msg else None)
        if key is None or marks[key] != '-':
            continue
        marks[key] = '%.3f' % t
        m = re.search(r'staged in (\d+) ms, checked in (\d+) ms', msg)
        if key == 'accepted' and m:
            marks['staged'], marks['checked'] = m.group(1), m.group(2)
        m = re.search(r'on disk, checked in (\d+) ms', msg)
        if key == 'accepted' and m:
            marks['checked'] = m.group(1)
print(marks['accepted'], marks['running'], marks['ended'], marks['staged'], marks['checked'])
PY
}

# wait_for_load: with MAX_LOAD > 0, wait (up to LOAD_WAIT s) for the 1-min load average to drop
wait_for_load() {
  awk -v m="$MAX_LOAD" 'BEGIN { exit !(m > 0) }' || return 0
  local deadline=$(( $(date +%s) + LOAD_WAIT )) l
  while :; do
    l=$(awk '{ print $1 }' /proc/loadavg)
    awk -v l="$l" -v m="$MAX_LOAD" 'BEGIN { exit !(l < m) }' && { log "load average $l < $MAX_LOAD"; return 0; }
    if (( $(date +%s) >= deadline )); then
      log "WARNING: load average still $l (>= $MAX_LOAD) after ${LOAD_WAIT}s; running anyway"
      return 0
    fi
    sleep 5
  done
}

# commit of the working tree; '+dirty' if src/ or pom.xml differ from it (the jar may not match).
# COMMIT overrides it (e.g. for a JAR copied from an earlier build).
bench_commit() {
  local c
  [[ -z "${COMMIT:-}" ]] || { echo "$COMMIT"; return; }
  c=$(git rev-parse --short HEAD 2>/dev/null) || { echo none; return; }
  git diff --quiet HEAD -- src/main pom.xml 2>/dev/null || c="$c+dirty"   # what the jar is built from
  echo "$c"
}

# cpu_mark -> "busy pg jvm": CPU ticks used so far by the whole machine (/proc/stat), by
# PostgreSQL's processes (with what their exited children used: a psql backend is gone by the
# time it is read) and by the service's JVM. Two marks give where the CPU went between them.
cpu_mark() {
  local busy pg jvm
  busy=$(awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 }' /proc/stat)
  pg=$(for p in $(pgrep -x postgres); do cat "/proc/$p/stat" 2>/dev/null; done \
    | awk '{ sub(/^.*\) /, ""); s += $12 + $13 + $14 + $15 } END { print s + 0 }')
  jvm=$(awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$SVC_PID/stat" 2>/dev/null || echo 0)
  echo "$busy $pg $jvm"
}

# cpu_split "MARK1" "MARK2" -> "pg jvm other" CPU seconds between two marks (other: the client,
# psql or curl, and whatever else ran)
cpu_split() {
  local hz
  hz=$(getconf CLK_TCK)
  awk -v a="$1" -v b="$2" -v hz="$hz" 'BEGIN {
    split(a, x, " "); split(b, y, " ")
    busy = y[1] - x[1]; pg = y[2] - x[2]; jvm = y[3] - x[3]
    printf "%.2f %.2f %.2f", pg / hz, jvm / hz, (busy - pg - jvm) / hz }'
}

# jit_ticks -> CPU ticks the JVM's JIT compiler threads (C1, C2) used so far
jit_ticks() {
  local t
  for t in /proc/"$SVC_PID"/task/*; do
    if [[ "$(cat "$t/comm" 2>/dev/null)" == C[12]\ Compiler* ]]; then cat "$t/stat" 2>/dev/null || true; fi
  done | awk '{ sub(/^.*\) /, ""); s += $12 + $13 } END { print s + 0 }'
}

# warm_until_settled ROUND_COMMAND...: runs the unmeasured warm-up round at least WARMUP times,
# then more (up to WARMUP_MAX in all) while the JIT compilers still took more than JIT_SETTLED
# CPU seconds in the last round: on a 2-core machine a compiling JIT takes CPU from the service
# and PostgreSQL, and a long-running service is past that. Prints one line a round.
warm_until_settled() {
  (( WARMUP > 0 )) || { echo "warm-up: none (WARMUP=0)"; return 0; }
  local w=0 j0 jit hz
  hz=$(getconf CLK_TCK)
  while :; do
    w=$((w + 1))
    j0=$(jit_ticks)
    "$@"
    jit=$(awk -v a="$j0" -v b="$(jit_ticks)" -v hz="$hz" 'BEGIN { printf "%.2f", (b - a) / hz }')
    printf 'warm-up %d done (not measured): JIT compilers %ss of CPU\n' "$w" "$jit"
    (( w >= WARMUP )) || continue
    (( w < WARMUP_MAX )) || { echo "warm-up: JIT still compiling after $w rounds (WARMUP_MAX)"; break; }
    awk -v j="$jit" -v m="$JIT_SETTLED" 'BEGIN { exit !(j <= m) }' && break
  done
  WARMUP_DONE=$w
}

# record_result DIRECTION BYTES PSQL_RATE SVC_RATE SVC_E2E_RATE RSS_MIB CPU_PSQL CPU_SVC: one line
# in OUT/runs.tsv, the table bench/report.py draws its charts and tables from. BENCH_RUN groups
# the lines of one bench/all.sh run.
record_result() {
  local res="$OUT/runs.tsv"
  if [[ ! -s "$res" ]]; then
    printf 'bench_run\tdate\tcommit\tdirection\tshape\trows\tbytes\truns\twarmups\tnproc\tload_before\tjava_opts\tpsql_rows_s\tsvc_rows_s\tsvc_e2e_rows_s\tpeak_rss_mib\tcpu_psql\tcpu_svc\n' >"$res"
  fi
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' \
    "${BENCH_RUN:-single}" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$(bench_commit)" "$1" "$SHAPE" "$ROWS" \
    "$2" "$RUNS" "$WARMUP_DONE" "$(nproc)" "$LOAD_START" "$JAVA_OPTS" "$3" "$4" "$5" "$6" "$7" "$8" >>"$res"
}

# median_cpu "pg jvm other"... -> the median of each field, "pg/jvm/other" in CPU seconds
median_cpu() {
  printf '%s\n' "$@" | awk '{ for (i = 1; i <= NF; i++) v[i, NR] = $i; n = NR; f = NF }
    END { for (i = 1; i <= f; i++) { m = 0; for (r = 1; r <= n; r++) a[r] = v[i, r]
            for (x = 1; x <= n; x++) for (y = x + 1; y <= n; y++) if (a[y] < a[x]) { t = a[x]; a[x] = a[y]; a[y] = t }
            printf "%s%.2f", (i > 1 ? "/" : ""), (n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2) } }'
}

# proc_ticks PID -> CPU ticks (user + system) a process used so far
proc_ticks() {
  awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$1/stat" 2>/dev/null || echo 0
}
