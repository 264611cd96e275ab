#!/usr/bin/env bash
# The comparison protocol: trains and evaluates a named set of models x priors x datasets x
# seeds with one shared budget, as many runs at once as there are cores (one thread each),
# skips what is already done and resumes what a kill interrupted, then tables and figures
# with `gwae compare` (docs/results.md quotes them).
#
#   scripts/compare.sh [--set NAME] [--budget small|long] [--seeds N] [--jobs N] [--out DIR]
#                      [--quick] [--dry-run] [--gwae PATH] [--list]
#
#   --set NAME   disentanglement (generated shapes), generation (Fashion-MNIST, footwear held
#                out), ood (the same runs, their out-of-distribution AUC), all (the three), or
#                family (every model with its official options on both datasets)
#   --budget B   small: the small default of gwae train (6 epochs of 16,000 images, minutes);
#                long (default): the comparison's budget, BUDGET_* below
#   --seeds N    seeds 1..N of every configuration (default 3)
#   --jobs N     runs at once (default: the number of cores), each with --threads 1
#   --out DIR    runs in DIR/runs, logs in DIR/logs, tables in DIR/<set> (default runs/compare)
#   --quick      a tiny version (32x32 scenes, width 0.125, 20 steps, 2 seeds, 3 models) that
#                the tests run in seconds
#   --dry-run    prints the commands, runs nothing
#   --list       prints the configurations of the set, one per line, and exits
#
# The budget is BUDGET_* below (docs/results.md says how it was chosen): the small default's
# networks (32x32, width 0.25, L 16) and learning rates, the same number of epochs over the
# same training images for every configuration, the same seeds. A configuration is a label
# and the `gwae train` options that make it, in the tables below: adding a model to the
# comparison is one line. A run is done when its metrics.json has eval's eval_version and
# eval_time_s; one with a config.json is resumed (gwae train --resume), then evaluated.
set -euo pipefail
cd "$(dirname "$0")/.."

set_name=all budget=long seeds=3 jobs=$(nproc) out=runs/compare quick=0 dry=0 list=0 gwae=build/gwae
usage() { sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'; }
while (($#)); do
  case "$1" in
    --set) set_name=${2:?--set needs a name}; shift 2 ;;
    --seeds) seeds=${2:?--seeds needs a number}; shift 2 ;;
    --budget) budget=${2:?--budget needs small or long}; shift 2 ;;
    --jobs) jobs=${2:?--jobs needs a number}; shift 2 ;;
    --out) out=${2:?--out needs a directory}; shift 2 ;;
    --gwae) gwae=${2:?--gwae needs a path}; shift 2 ;;
    --quick) quick=1; shift ;;
    --dry-run) dry=1; shift ;;
    --list) list=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "compare.sh: unknown option '$1' (see --help)" >&2; exit 2 ;;
  esac
done
[[ $seeds =~ ^[1-9][0-9]*$ ]] || { echo "compare.sh: --seeds $seeds is not a positive number" >&2; exit 2; }
[[ $jobs =~ ^[1-9][0-9]*$ ]] || { echo "compare.sh: --jobs $jobs is not a positive number" >&2; exit 2; }
[[ $budget =~ ^(small|long)$ ]] || { echo "compare.sh: --budget $budget is not small or long" >&2; exit 2; }

# ---- the budget and the data ----
# long: the small default's data and networks for 20 epochs (5,000 iterations) instead of 6,
# no early stop; docs/results.md shows GWAE's validation curves to 40 epochs and why 20
BUDGET_SHAPES="--dataset shapes --epochs 20 --patience 0"
BUDGET_FASHION="--dataset fashion-mnist --holdout-classes 5,7,9 --epochs 20 --patience 0"
EVAL="--pairs 4000"
if [ "$budget" = small ]; then
  BUDGET_SHAPES="--dataset shapes"
  BUDGET_FASHION="--dataset fashion-mnist --holdout-classes 5,7,9"
fi
if ((quick)); then
  BUDGET_SHAPES="--dataset shapes --shapes-count 160 --limit 64 --image-size 32 --width 0.125 --batch 8 --steps 20"
  BUDGET_FASHION=$BUDGET_SHAPES
  EVAL="--skip-fid --pairs 50 --gw-batches 1 --skip-figures"
  ((seeds > 2)) && seeds=2
fi

# ---- the configurations: "label|gwae train options" ----
# The GMG weight has no published value. 1000 from 200-step probes of beta-vae on the shapes
# (docs/results.md): the reconstruction term after 200 steps is 93.4 without GMG, 94.4 at
# 100, 102.4 at 1000 and 136.6 at 10000; the gap itself starts near 1e-5.
GMG_LAMBDA=${GMG_LAMBDA:-1000}
disentanglement=(
  "gwae-np|--model gwae --prior np"
  "gwae-fnp|--model gwae --prior fnp"
  "gwae-gaussian|--model gwae --prior gaussian"
  "vae|--model vae"
  "beta-vae|--model beta-vae --beta 4"
  "beta-tcvae|--model beta-tcvae --beta 6"
  "factorvae|--model factorvae --gamma 10"
  "beta-vae-gmg|--model beta-vae --beta 4 --gmg $GMG_LAMBDA"
  "beta-vae-dst|--model beta-vae --beta 4 --gmg $GMG_LAMBDA --gmg-dst-only"
  "beta-tcvae-gmg|--model beta-tcvae --beta 6 --gmg $GMG_LAMBDA"
  "beta-tcvae-dst|--model beta-tcvae --beta 6 --gmg $GMG_LAMBDA --gmg-dst-only"
)
generation=(
  "gwae-np|--model gwae --prior np"
  "gwae-gmp|--model gwae --prior gmp"
  "ae|--model ae"
  "vae|--model vae"
  "beta-vae|--model beta-vae"
  "beta-tcvae|--model beta-tcvae"
  "factorvae|--model factorvae"
  "wae-mmd|--model wae-mmd"
  "rae-sfg|--model rae-sfg"
  "rae-ssfg|--model rae-ssfg"
  "rae-mssfg|--model rae-mssfg"
  "rae-pssfg|--model rae-pssfg"
  "rae-max-sfg|--model rae-max-sfg"
  "swae|--model swae"
  "beta-vae-gmg|--model beta-vae --gmg $GMG_LAMBDA"
  "gmg-encoder|--model gmg-encoder"
)
# every model of the family with its official options (the GMG weight excepted: see
# docs/results.md), for the table of issue 11, 12 and 13's rows
family=(
  "gwae-np|--model gwae --prior np"
  "ae|--model ae"
  "vae|--model vae"
  "beta-vae|--model beta-vae"
  "beta-tcvae|--model beta-tcvae"
  "factorvae|--model factorvae"
  "wae-mmd|--model wae-mmd"
  "rae-sfg|--model rae-sfg"
  "rae-ssfg|--model rae-ssfg"
  "rae-mssfg|--model rae-mssfg"
  "rae-pssfg|--model rae-pssfg"
  "rae-max-sfg|--model rae-max-sfg"
  "swae|--model swae"
  "beta-vae-gmg|--model beta-vae --gmg $GMG_LAMBDA"
  "beta-vae-dst|--model beta-vae --gmg $GMG_LAMBDA --gmg-dst-only"
  "beta-tcvae-gmg|--model beta-tcvae --gmg $GMG_LAMBDA"
  "gmg-encoder|--model gmg-encoder"
)
if ((quick)); then
  disentanglement=("gwae-np|--model gwae --prior np" "vae|--model vae" "factorvae|--model factorvae")
  generation=("${disentanglement[@]}")
fi

# the configurations of a set as "dataset|label|options" lines
configs() {
  local c
  case "$1" in
    disentanglement) for c in "${disentanglement[@]}"; do echo "shapes|$c"; done ;;
    generation|ood) for c in "${generation[@]}"; do echo "fashion|$c"; done ;;
    all) configs disentanglement; configs generation ;;
    family) for c in "${family[@]}"; do echo "shapes|$c"; done
            for c in "${family[@]}"; do echo "fashion|$c"; done ;;
    *) echo "compare.sh: unknown set '$1' (disentanglement, generation, ood, all, family)" >&2
       return 2 ;;
  esac
}
lines=$(configs "$set_name") || exit 2
if ((list)); then echo "$lines"; exit 0; fi
[ -x "$gwae" ] || { echo "compare.sh: $gwae is not built (cmake --build build --target gwae_cli)" >&2; exit 4; }

mkdir -p "$out/runs" "$out/logs"
jobfile=$(mktemp)
trap 'rm -f "$jobfile"' EXIT
# seed-major: every configuration's first seed before any second one, so that a protocol
# cut short still has every row
for ((s = 1; s <= seeds; s++)); do
  while IFS='|' read -r dataset label options; do
    [ -n "$dataset" ] || continue
    budget=$BUDGET_SHAPES
    [ "$dataset" = fashion ] && budget=$BUDGET_FASHION
    echo "$out/runs/$dataset-$label-s$s|$budget $options --seed $s" >>"$jobfile"
  done <<<"$lines"
done

# one run: done (evaluated by this eval), resumed (a checkpoint), or trained from the start
one() {
  local run=${1%%|*} args=${1#*|} log
  log="$out/logs/$(basename "$run").log"
  if [ -f "$run/metrics.json" ] && grep -q '"eval_version"' "$run/metrics.json" &&
     grep -q '"eval_time_s"' "$run/metrics.json"; then
    echo "done     $run"; return 0
  fi
  if [ -f "$run/config.json" ]; then
    echo "resume   $run"
    # shellcheck disable=SC2086
    "$gwae" train --resume "$run" --threads 1 >>"$log" 2>&1 || { echo "FAILED   $run (see $log)"; return 1; }
  else
    echo "train    $run"
    # shellcheck disable=SC2086
    "$gwae" train $args --threads 1 --out "$run" >>"$log" 2>&1 || { echo "FAILED   $run (see $log)"; return 1; }
  fi
  # shellcheck disable=SC2086
  "$gwae" eval "$run" $EVAL --threads 1 >>"$log" 2>&1 || { echo "FAILED   eval $run (see $log)"; return 1; }
  echo "ready    $run"
}

if ((dry)); then
  while IFS= read -r job; do
    echo "$gwae train ${job#*|} --threads 1 --out ${job%%|*} && $gwae eval ${job%%|*} $EVAL --threads 1"
  done <"$jobfile"
  echo "$gwae compare <the runs of each set> --out $out/<set>"
  exit 0
fi

export -f one
export gwae out EVAL
start=$(date +%s)
failed=0
xargs -d '\n' -P "$jobs" -I{} bash -c 'one "$@"' _ {} <"$jobfile" || failed=1
echo "== runs finished in $(( $(date +%s) - start )) s"
((failed == 0)) || { echo "compare.sh: some runs failed (their logs are in $out/logs); run again to resume" >&2; exit 1; }

# ---- the tables ----
for set in disentanglement generation family; do
  case "$set_name:$set" in
    all:disentanglement|all:generation|ood:generation|disentanglement:disentanglement) ;;
    generation:generation|family:family) ;;
    *) continue ;;
  esac
  set_dirs=()
  while IFS='|' read -r dataset label _; do
    for ((s = 1; s <= seeds; s++)); do set_dirs+=("$out/runs/$dataset-$label-s$s"); done
  done <<<"$(configs "$set")"
  echo "== $set: $out/$set/comparison.md"
  "$gwae" compare "${set_dirs[@]}" --out "$out/$set"
done
