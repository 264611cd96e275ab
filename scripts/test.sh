#!/usr/bin/env bash
# The one test command: installs what is missing, builds, runs every test through ctest,
# fuzzes each file reader (checkpoint, IDX, image, JSON) for 35 s, then builds and runs the
# same tests under AddressSanitizer and UndefinedBehaviorSanitizer.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/deps.sh
jobs=$(nproc)

echo "== Release build and tests"
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$jobs"
ctest --test-dir build --output-on-failure

echo "== Fuzzing each reader for 35 s (clang's libFuzzer, seeds in fuzz/corpus/<reader>)"
cmake -S . -B build-fuzz -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DGWAE_FUZZ=ON -DGWAE_TESTS=OFF -DGWAE_CUDA=OFF >/dev/null
cmake --build build-fuzz --target fuzz_checkpoint fuzz_idx fuzz_image fuzz_json -j"$jobs"
for reader in checkpoint idx image json; do
  scratch=$(mktemp -d) # new inputs go here, not into the repository's corpus
  echo "-- fuzz_$reader"
  OMP_NUM_THREADS=1 build-fuzz/fuzz/fuzz_$reader -max_total_time=35 -max_len=4096 \
    -print_final_stats=1 "$scratch" "fuzz/corpus/$reader" 2>&1 | tail -n 40
  rm -rf "$scratch"
done

echo "== Sanitizer build (ASan + UBSan) and tests"
# the CUDA backend was compiled by the Release build; its GPU tests cannot run here either
cmake -S . -B build-sanitize -DCMAKE_BUILD_TYPE=Sanitize -DGWAE_CUDA=OFF >/dev/null
cmake --build build-sanitize -j"$jobs"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir build-sanitize --output-on-failure
