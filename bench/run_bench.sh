#!/usr/bin/env bash
# run_bench.sh - builds bench_ops (Release) if needed, then runs it and bench/torch_ops.py back
# to back in one sitting, at 2 threads and at 1 thread, and prints a side-by-side table of the
# medians with the ratio ours/torch (below 1 = we are faster).
#
# Environment (all optional):
#   BUILD_DIR  build folder (default build)           THREADS  thread counts (default "2 1")
#   REPS       timed repetitions per case (20)        WARMUP   untimed runs per case (3)
#   ROUNDS     alternating ours/torch rounds per thread count (default 1); with more, the
#              table shows the median of the per-round medians and the smallest minimum
#   HEAP       PyTorch heap setting, retain or default (default retain; see torch_ops.py)
#   PYTHON     interpreter with torch (default /usr/bin/python3)
#   OUT        folder for the raw JSON lines (default $BUILD_DIR/bench_results)
# Our engine gets OMP_NUM_THREADS only (its OpenBLAS is the OpenMP build, which follows it);
# torch_ops.py sets its own threads (OMP_NUM_THREADS, set_num_threads, OPENBLAS_NUM_THREADS=1).
# Anything else in the environment (OMP_WAIT_POLICY=passive, GOMP_SPINCOUNT) reaches both.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR="${BUILD_DIR:-build}"
THREADS="${THREADS:-2 1}"
REPS="${REPS:-20}"
WARMUP="${WARMUP:-3}"
ROUNDS="${ROUNDS:-1}"
HEAP="${HEAP:-retain}"
PYTHON="${PYTHON:-/usr/bin/python3}"
cd "$ROOT"
case "$BUILD_DIR" in /*) ;; *) BUILD_DIR="$ROOT/$BUILD_DIR" ;; esac
OUT="${OUT:-$BUILD_DIR/bench_results}"

if [ ! -f "$BUILD_DIR/CMakeCache.txt" ]; then
    cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release >/dev/null
fi
build_type="$(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$BUILD_DIR/CMakeCache.txt")"
if [ "$build_type" != "Release" ]; then
    echo "run_bench.sh: $BUILD_DIR is a '$build_type' build; set BUILD_DIR to a Release one" >&2
    exit 1
fi
cmake --build "$BUILD_DIR" -j2 --target bench_ops >/dev/null

mkdir -p "$OUT"
stamp="$(date -u +%Y%m%dT%H%M%SZ)"
raw="$OUT/bench_ops_$stamp.jsonl"
: >"$raw"
echo "# $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores," \
     "$(lscpu | sed -n 's/^Model name: *//p'), reps $REPS, warm-up $WARMUP," \
     "rounds $ROUNDS, torch heap $HEAP; raw lines: $raw"
echo "# load average before: $(cut -d' ' -f1-3 /proc/loadavg)"

for t in $THREADS; do
    for _ in $(seq "$ROUNDS"); do
        OMP_NUM_THREADS="$t" "$BUILD_DIR/bench_ops" --json --reps "$REPS" --warmup "$WARMUP" \
            | tee -a "$raw" >/dev/null
        "$PYTHON" bench/torch_ops.py --json --threads "$t" --heap "$HEAP" --reps "$REPS" \
            --warmup "$WARMUP" | tee -a "$raw" >/dev/null
    done
done

echo "# load average after:  $(cut -d' ' -f1-3 /proc/loadavg)"
"$PYTHON" - "$raw" <<'EOF'
import json, statistics, sys
rows = {}
order = []
for line in open(sys.argv[1]):
    r = json.loads(line)
    key = (r["threads"], r["case"])
    if key not in rows:
        rows[key] = {}
        order.append(key)
    d = rows[key].setdefault(r["impl"], {"med": [], "min": []})
    d["med"].append(r["ms_median"])
    d["min"].append(r["ms_min"])
print(f"| {'case':<28} | thr | {'ours ms':>9} | {'torch ms':>9} | {'ours/torch':>10} |"
      f" {'ours min':>9} | {'torch min':>9} |")
print(f"|{'-' * 30}|-----|{'-' * 11}|{'-' * 11}|{'-' * 12}|{'-' * 11}|{'-' * 11}|")
for key in order:
    c, t = rows[key].get("gwae-c"), rows[key].get("torch")
    if not c or not t:
        continue
    cm, tm = statistics.median(c["med"]), statistics.median(t["med"])
    print(f"| {key[1]:<28} | {key[0]:>3} | {cm:9.2f} | {tm:9.2f} | {cm / tm:10.2f} |"
          f" {min(c['min']):9.2f} | {min(t['min']):9.2f} |")
EOF
