#!/usr/bin/env bash
# run_models_bench.sh - milliseconds per training iteration of every model, this engine
# (`gwae bench`) beside the same model in PyTorch (bench/torch_gwae.py, torch_models.py,
# torch_rae.py), alternating in one sitting, and the peak memory of a 200-iteration loop.
#
#   bench/run_models_bench.sh [--rounds R] [--iters N] [--threads T] [--config paper|small|all]
#                             [--models "gwae vae ..."] [--memory] [--gwae PATH]
#
# Each round runs every model once on each side, engine first then PyTorch, each in a fresh
# process that reports the median of N timed iterations after its warm-up (gwae bench: one
# warm-up iteration; the PyTorch scripts: --warmup 1). The table gives, per model and
# configuration, the median over rounds of each side's median, the ratio engine / PyTorch,
# and the range of the engine's rounds. --memory adds the maximum resident set size of a
# 200-iteration loop on a random batch at the small default (gwae bench --iters 100 runs 201;
# the PyTorch scripts --iters 200), read by /usr/bin/time. PyTorch runs with its default
# thread waiting and glibc malloc keeping freed memory (--heap retain), its faster setting
# here. Nothing else should run on the machine meanwhile: docs/benchmarks.md says how the
# quoted figures were taken.
set -euo pipefail
cd "$(dirname "$0")/.."

rounds=3 iters=3 threads=2 config=all memory=0 gwae=build/gwae py=/usr/bin/python3
models="gwae ae vae beta-vae beta-tcvae factorvae wae-mmd rae-sfg rae-ssfg rae-mssfg rae-pssfg rae-max-sfg"
while (($#)); do
  case "$1" in
    --rounds) rounds=$2; shift 2 ;;
    --iters) iters=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --config) config=$2; shift 2 ;;
    --models) models=$2; shift 2 ;;
    --memory) memory=1; shift ;;
    --gwae) gwae=$2; shift 2 ;;
    -h|--help) sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "run_models_bench.sh: unknown option '$1'" >&2; exit 2 ;;
  esac
done
configs=$config
[ "$config" = all ] && configs="paper small"
export OMP_NUM_THREADS=$threads

# the PyTorch command of model $1 in configuration $2 with $3 timed iterations
torch_cmd() {
  local m=$1 c=$2 n=$3 size=64 width=1 extra=""
  [ "$c" = small ] && size=32 width=0.25
  case $m in
    gwae)
      [ "$c" = small ] && extra="--n-critic 2"
      echo "$py bench/torch_gwae.py --image-size $size --width $width --iters $n --warmup 1 --threads $threads --heap retain --no-flop-count $extra" ;;
    rae-*)
      echo "$py bench/torch_rae.py --model $m --config $c --iters $n --threads $threads --json" ;;
    *)
      echo "$py bench/torch_models.py --model $m --image-size $size --width $width --iters $n --warmup 1 --threads $threads --heap retain" ;;
  esac
}

# the last JSON line's ms_per_iter_median in the output of a command
ms_of() { grep -o '"ms_per_iter_median": [0-9.e+-]*' | tail -1 | awk '{print $2}'; }

results=$(mktemp)
trap 'rm -f "$results"' EXIT
for ((r = 1; r <= rounds; r++)); do
  for c in $configs; do
    for m in $models; do
      ours=$("$gwae" bench --model "$m" --config "$c" --iters "$iters" --threads "$threads" --json | ms_of)
      # shellcheck disable=SC2046
      theirs=$($(torch_cmd "$m" "$c" "$iters") | ms_of)
      echo "$m $c $r $ours $theirs" | tee -a "$results" >&2
    done
  done
done

echo "ms per training iteration, $threads threads, $rounds rounds of $iters timed iterations; $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores"
echo
python3 - "$results" "$configs" "$models" <<'PY'
import statistics, sys
rows = [line.split() for line in open(sys.argv[1]) if line.strip()]
print("| model | config | engine (median) | engine (rounds) | PyTorch (median) | engine / PyTorch |")
print("| --- | --- | --- | --- | --- | --- |")
for c in sys.argv[2].split():
    for m in sys.argv[3].split():
        e = sorted(float(r[3]) for r in rows if r[0] == m and r[1] == c and r[3])
        t = sorted(float(r[4]) for r in rows if r[0] == m and r[1] == c and r[4])
        if e and t:
            me, mt = statistics.median(e), statistics.median(t)
            print(f"| {m} | {c} | {me:.1f} | {e[0]:.1f}-{e[-1]:.1f} | {mt:.1f} | {me / mt:.2f} |")
PY

if ((memory)); then
  echo
  echo "max RSS of a 200-iteration loop at the small default (MiB)"
  echo
  echo "| model | engine | PyTorch | engine / PyTorch |"
  echo "| --- | --- | --- | --- |"
  for m in $models; do
    a=$(/usr/bin/time -f %M "$gwae" bench --model "$m" --config small --iters 100 --threads "$threads" --json 2>&1 >/dev/null | tail -1)
    # shellcheck disable=SC2046
    b=$(/usr/bin/time -f %M $(torch_cmd "$m" small 200) 2>&1 >/dev/null | tail -1)
    awk -v m="$m" -v a="$a" -v b="$b" 'BEGIN { printf "| %s | %.0f | %.0f | %.2f |\n", m, a / 1024, b / 1024, a / b }'
  done
fi
