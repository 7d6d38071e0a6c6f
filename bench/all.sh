#!/usr/bin/env bash
# The whole benchmark: the four shapes of data both ways (bench/import.sh, bench/export.sh, psql in
# the same run), one large import and export for memory (bench/memory.sh), pause and resume
# latency (bench/pause.sh), an import under 500 SSE subscribers (bench/sse.sh), then the report:
# docs/benchmarks-rates.svg, docs/benchmarks-memory.svg and the figures section of
# docs/benchmarks.md (bench/report.py).
#
# Usage: bench/all.sh        (RUNS=5; SHAPES="narrow typed wide many"; MEMORY=1 PAUSE=1 SSE=1)
# Every setting of bench/README.md applies to each script it runs.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export RUNS="${RUNS:-5}"
export BENCH_RUN="${BENCH_RUN:-$(date -u +%Y%m%dT%H%M%SZ)}"
SHAPES="${SHAPES:-narrow typed wide many}"
OUT_DIR="${OUT:-bench/out}"
mkdir -p "$OUT_DIR/logs"
for shape in $SHAPES; do
  for way in import export; do
    echo "[all] $way, shape $shape" >&2
    SHAPE=$shape bench/$way.sh 2>&1 | tee "$OUT_DIR/logs/$BENCH_RUN-$way-$shape.log" | grep -E '^(run|===|ratio|service|psql)' || true
    [[ ${PIPESTATUS[0]} == 0 ]] || { echo "[all] $way $shape failed: $OUT_DIR/logs/$BENCH_RUN-$way-$shape.log" >&2; exit 1; }
  done
done
if [[ "${MEMORY:-1}" == 1 ]]; then
  echo "[all] memory: a large import and export" >&2
  SHAPE=typed RUNS=1 bench/memory.sh 2>&1 | tee "$OUT_DIR/logs/$BENCH_RUN-memory.log" | grep -vE '^\[bench' || true
  [[ ${PIPESTATUS[0]} == 0 ]] || { echo "[all] memory failed" >&2; exit 1; }
fi
if [[ "${PAUSE:-1}" == 1 ]]; then
  echo "[all] pause and resume latency" >&2
  SHAPE=typed RUNS=1 bench/pause.sh 2>&1 | tee "$OUT_DIR/logs/$BENCH_RUN-pause.log" | grep -E '^(===|pause|resume|service side)' || true
  [[ ${PIPESTATUS[0]} == 0 ]] || { echo "[all] pause failed" >&2; exit 1; }
fi
if [[ "${SSE:-1}" == 1 ]]; then
  echo "[all] an import under SSE subscribers" >&2
  SHAPE=typed RUNS=5 bench/sse.sh 2>&1 | tee "$OUT_DIR/logs/$BENCH_RUN-sse.log" | grep -E '^(===|import|ratio|pair|subscribers|CPU|the client)' || true
  [[ ${PIPESTATUS[0]} == 0 ]] || { echo "[all] sse failed" >&2; exit 1; }
fi
python3 bench/report.py "$OUT_DIR" "$BENCH_RUN"
