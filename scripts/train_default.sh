#!/usr/bin/env bash
# Trains the default GWAE on a fresh machine in one command: installs the missing Debian
# packages (build tools, libraries and Debian's Fashion-MNIST), builds the gwae program in
# Release and trains the small default (Fashion-MNIST 32x32, width 0.25, L = 16, neural prior;
# a few minutes on 2 cores) into runs/default, or runs/default-<timestamp> when that exists.
# Extra arguments go to `gwae train` (e.g. --threads 1, --epochs 8).
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/deps.sh
data=/usr/share/datasets/fashion-mnist
if [ ! -e "$data/train-images-idx3-ubyte.gz" ] && [ ! -e "$data/train-images-idx3-ubyte" ]; then
  echo "installing: dataset-fashion-mnist"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq dataset-fashion-mnist >/dev/null
fi

echo "== building gwae (Release)"
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$(nproc)" --target gwae_cli

run=runs/default
[ -e "$run" ] && run="runs/default-$(date +%Y%m%d-%H%M%S)"
mkdir -p runs
echo "== training the default GWAE into $run"
start=$(date +%s)
build/gwae train --out "$run" "$@"
echo "== done in $(( $(date +%s) - start )) s"
echo "figures:     $run/reconstructions.png $run/samples.png"
echo "metrics:     $run/metrics.json"
echo "log:         $run/log.jsonl"
echo "checkpoints: $run/checkpoint_best.safetensors $run/checkpoint_last.safetensors"
echo "more:        build/gwae eval $run; build/gwae sample $run --out samples.png; build/gwae --help"
