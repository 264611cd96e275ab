#!/usr/bin/env bash
# test_compare_script.sh - checks scripts/compare.sh --quick end to end (ctest runs it as
# compare_script with the build's gwae): bad options fail with one line and exit 2; --list and
# --dry-run name every configuration and run nothing; a quick protocol trains and evaluates
# every run and ends with the tables; a second call finds every run done; a run whose
# evaluation was lost is resumed and evaluated again, the others left alone.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SCRIPT="$ROOT/scripts/compare.sh"
GWAE="${1:?usage: test_compare_script.sh PATH_TO_GWAE}"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
export OMP_NUM_THREADS=1

failures=0
pass() { echo "ok   $1"; }
fail() { echo "FAIL $1${2:+: $2}"; failures=$((failures + 1)); }
run() { RC=0; "$@" >"$tmp/out" 2>"$tmp/err" || RC=$?; }

run bash "$SCRIPT" --frobnicate
[ "$RC" = 2 ] && [ "$(wc -l <"$tmp/err")" = 1 ] && pass "unknown option" || fail "unknown option" "exit $RC"
run bash "$SCRIPT" --seeds zero
[ "$RC" = 2 ] && grep -q "not a positive number" "$tmp/err" && pass "bad --seeds" || fail "bad --seeds" "exit $RC"
run bash "$SCRIPT" --set nonsense --list
[ "$RC" = 2 ] && grep -q "unknown set 'nonsense'" "$tmp/err" && pass "unknown set" || fail "unknown set" "exit $RC"
run bash "$SCRIPT" --list
[ "$RC" = 0 ] && grep -q "^shapes|gwae-fnp|--model gwae --prior fnp$" "$tmp/out" &&
    grep -q "^fashion|wae-mmd|" "$tmp/out" && pass "--list" || fail "--list" "$(head -c 300 "$tmp/out")"

out="$tmp/protocol"
run bash "$SCRIPT" --quick --dry-run --out "$out" --gwae "$GWAE"
[ "$RC" = 0 ] && [ "$(grep -c " train .* --seed [12] --threads 1 --out " "$tmp/out")" = 12 ] &&
    [ ! -e "$out/runs/shapes-vae-s1" ] && pass "--dry-run lists 12 runs, runs none" ||
    fail "--dry-run" "exit $RC: $(head -c 300 "$tmp/out")"

run bash "$SCRIPT" --quick --out "$out" --gwae "$GWAE" --jobs 2
if [ "$RC" = 0 ] && [ "$(grep -c '^ready' "$tmp/out")" = 12 ] &&
   grep -q '^| factorvae shapes | 2 |' "$out/disentanglement/comparison.md" &&
   [ -s "$out/generation/comparison.csv" ] && [ -s "$out/disentanglement/bars_test_psnr_mean.png" ]; then
    pass "a quick protocol trains, evaluates and tables 12 runs"
else
    fail "quick protocol" "exit $RC: $(tail -c 600 "$tmp/out") $(tail -c 300 "$tmp/err")"
fi

run bash "$SCRIPT" --quick --out "$out" --gwae "$GWAE" --jobs 2
[ "$RC" = 0 ] && [ "$(grep -c '^done' "$tmp/out")" = 12 ] && ! grep -q '^train\|^resume' "$tmp/out" &&
    pass "a second call finds every run done" || fail "second call" "$(head -c 400 "$tmp/out")"

rm "$out/runs/shapes-vae-s2/metrics.json"
run bash "$SCRIPT" --quick --out "$out" --gwae "$GWAE" --jobs 2
[ "$RC" = 0 ] && grep -q "^resume   $out/runs/shapes-vae-s2$" "$tmp/out" &&
    [ "$(grep -c '^done' "$tmp/out")" = 11 ] && [ -s "$out/runs/shapes-vae-s2/metrics.json" ] &&
    pass "a run that lost its evaluation is resumed and evaluated, the others left alone" ||
    fail "resume" "$(head -c 400 "$tmp/out")"

if ((failures)); then echo "$failures checks failed"; exit 1; fi
echo "all checks passed"
