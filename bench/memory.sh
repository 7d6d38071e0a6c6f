#!/usr/bin/env bash
# Benchmark: the service's resident memory through one large import and one large export (about
# 2 GB each by default), with the heap the Kubernetes manifests give it, sampled four times a second.
#
# Usage: bench/memory.sh     (ROWS=25000000 typed rows, about 2 GB; JAVA_OPTS from the manifests, below)
# The manifests run the native executable with -Xmx128m, a 512Mi memory limit and MALLOC_ARENA_MAX=2
# (deploy/kubernetes); a native executable collects with the Serial GC, so the JVM here runs with the
# same heap, the same GC and the same allocator setting, as the nearest stand-in this machine can run.
# It also sees the pod's memory limit (-XX:MaxRAM), as a JVM in that pod reads it from its cgroup: on
# this 24 GiB machine the JVM would otherwise commit its whole maximum heap at start (InitialHeapSize
# is 1/64 of the memory it sees), which no pod does; in the pod it starts at 8 MB and grows as needed.
# Prints the peak RSS of each phase and writes OUT/memory.tsv (one line a phase) and
# OUT/memory-samples.tsv (bench_run, phase, seconds, RSS MiB), which bench/report.py draws.
set -euo pipefail
ROWS="${ROWS:-25000000}"
RUNS=1
MANIFEST="$(dirname "${BASH_SOURCE[0]}")/../deploy/kubernetes/deployment.yaml"
POD_HEAP=$(grep -oE -- '-Xmx[0-9]+[mg]' "$MANIFEST" | head -1)
POD_LIMIT=$(awk '/limits:/ { l = 1 } l && /memory:/ { sub(/Mi$/, "m", $2); sub(/Gi$/, "g", $2); print $2; exit }' "$MANIFEST")
[[ "$POD_HEAP" && "$POD_LIMIT" =~ ^[0-9]+[mg]$ ]] || { echo "no -Xmx or memory limit found in $MANIFEST" >&2; exit 1; }
JAVA_OPTS="${JAVA_OPTS:-$POD_HEAP -XX:MaxRAM=$POD_LIMIT -XX:+UseSerialGC}"
export MALLOC_ARENA_MAX="${MALLOC_ARENA_MAX:-2}"
# NMT=1: Native Memory Tracking on, its summary printed after the download (what the RSS holds)
[[ "${NMT:-0}" != 1 ]] || JAVA_OPTS="$JAVA_OPTS -XX:NativeMemoryTracking=summary"
LARGE_TIMEOUT="${LARGE_TIMEOUT:-1800}"
# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

TABLE=bench_memory
EXPORT_FILE="$OUT/memory_export.csv"
BENCH_TABLES+=("$TABLE")
BENCH_FILES+=("$EXPORT_FILE")
CSV=$(gen_csv "$ROWS")
CSV_BYTES=$(stat -c %s "$CSV")
sql "drop table if exists $TABLE" >/dev/null
wait_for_load
start_service
LOAD_START=$(loadavg)

SAMPLES="$OUT/memory-samples.tsv"
[[ -s "$SAMPLES" ]] || printf 'bench_run\tphase\tseconds\trss_mib\n' >"$SAMPLES"
PHASE_FILE="$OUT/.memory-phase"
echo idle >"$PHASE_FILE"
T0=$(now)
( while kill -0 "$SVC_PID" 2>/dev/null; do
    rss=$(awk '/^VmRSS:/ { printf "%.1f", $2 / 1024 }' "/proc/$SVC_PID/status" 2>/dev/null) || break
    printf '%s\t%s\t%s\t%s\n' "${BENCH_RUN:-single}" "$(cat "$PHASE_FILE")" \
      "$(elapsed "$T0" "$(now)")" "$rss" >>"$SAMPLES"
    sleep 0.25
  done ) 9>&- &
SAMPLER=$!

phase() { echo "$1" >"$PHASE_FILE"; }
peak_since() {   # PHASE -> peak RSS (MiB) among this run's samples of PHASE
  awk -F'\t' -v r="${BENCH_RUN:-single}" -v p="$1" -v t="$T0" \
    '$1 == r && $2 == p { if ($4 > m) m = $4 } END { printf "%.0f", m }' "$SAMPLES"
}

# --- import ---
phase import
s=$(now)
body=$(api_curl -sS --fail-with-body --max-time "$LARGE_TIMEOUT" -X POST -T "$CSV" \
  -H 'Content-Type: text/csv' -H 'Expect:' "$BASE/imports?table=$TABLE") || die "import refused: $body"
wait_completed "$(task_id "$body")" "$LARGE_TIMEOUT"
t_import=$(elapsed "$s" "$(now)")
count_rows() { local n; n=$(sql "select count(*) from $1"); [[ "$n" == "$2" ]] || die "$1 has $n rows, expected $2"; }
count_rows "$TABLE" "$ROWS"
phase idle
sql "alter table $TABLE add primary key (id)" >/dev/null
sql "analyze $TABLE" >/dev/null

# --- export and download ---
phase export
s=$(now)
body=$(api_curl -sS --fail-with-body -X POST -H 'Content-Type: application/json' \
  --data "{\"table\":\"$TABLE\"}" "$BASE/exports") || die "export refused: $body"
id=$(task_id "$body")
wait_completed "$id" "$LARGE_TIMEOUT"
t_export=$(elapsed "$s" "$(now)")
phase download
s=$(now)
api_curl -sS --fail --max-time "$LARGE_TIMEOUT" -o "$EXPORT_FILE" "$BASE/tasks/$id/file" || die "download failed"
t_download=$(elapsed "$s" "$(now)")
EXPORT_BYTES=$(stat -c %s "$EXPORT_FILE")
lines=$(wc -l <"$EXPORT_FILE")
phase idle
if [[ "${NMT:-0}" == 1 ]]; then
  jcmd "$SVC_PID" VM.native_memory summary scale=MB | grep -E '^(Total|-)|committed=' | head -40
fi
sleep 1
kill "$SAMPLER" 2>/dev/null || true
wait "$SAMPLER" 2>/dev/null || true

p_import=$(peak_since import); p_export=$(peak_since export); p_download=$(peak_since download)
p_idle=$(peak_since idle)
HWM=$(svc_mem VmHWM)
cat <<EOT

=== memory benchmark: $ROWS rows, $JAVA_OPTS, MALLOC_ARENA_MAX=$MALLOC_ARENA_MAX ===
import    : $CSV_BYTES bytes in ${t_import}s, peak RSS $p_import MiB
export    : ${t_export}s, peak RSS $p_export MiB
download  : $EXPORT_BYTES bytes ($lines lines) in ${t_download}s, peak RSS $p_download MiB
idle      : peak RSS $p_idle MiB; VmHWM of the whole run $HWM MiB
date      : $(date -u +%Y-%m-%dT%H:%M:%SZ), commit $(bench_commit), load before $LOAD_START
samples   : $SAMPLES
EOT
MEM="$OUT/memory.tsv"
[[ -s "$MEM" ]] || printf 'bench_run\tdate\tcommit\tjava_opts\tshape\trows\tphase\tbytes\tseconds\tpeak_rss_mib\n' >"$MEM"
for row in "import	$CSV_BYTES	$t_import	$p_import" "export	$EXPORT_BYTES	$t_export	$p_export" \
           "download	$EXPORT_BYTES	$t_download	$p_download"; do
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "${BENCH_RUN:-single}" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
    "$(bench_commit)" "$JAVA_OPTS" "$SHAPE" "$ROWS" "$row" >>"$MEM"
done
log "appended to $MEM"
