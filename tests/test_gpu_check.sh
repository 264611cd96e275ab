#!/usr/bin/env bash
# test_gpu_check.sh - checks scripts/gpu_check.sh without a GPU (ctest runs it as
# gpu_check_script): its argument handling (--help, unknown options and missing values fail
# with one line and exit 2), the refusal without a usable GPU (one line, exit 3, nothing
# created), --dry-run (the expected commands in order, nothing run or created), and the
# summary, fed the recorded outputs of tests/fixtures/gpu_check: the text must equal
# expected_summary.txt, and failing variants of the fixture must give a FAIL verdict and exit 1.
# It does not run the GPU steps themselves: they need a GPU.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SCRIPT="$ROOT/scripts/gpu_check.sh"
FIXTURE="$ROOT/tests/fixtures/gpu_check"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
trap 'echo "FAIL the test script stopped at line $LINENO"' ERR
# no nvidia-smi, whatever the machine has; cases that want one point this at a fake
export GPU_CHECK_NVIDIA_SMI="$tmp/no-such-nvidia-smi"

failures=0
pass() { echo "ok   $1"; }
fail() { echo "FAIL $1${2:+: $2}"; failures=$((failures + 1)); }
# run CMD...: stdout to $tmp/out, stderr to $tmp/err, exit code to RC
run() { RC=0; "$@" >"$tmp/out" 2>"$tmp/err" || RC=$?; }
nlines() { wc -l <"$1" | tr -d ' '; }
# expect NAME RC LINES_ON_STDERR STDERR_REGEX: the last run's outcome
expect() {
    local why=""
    [ "$RC" = "$2" ] || why="exit $RC, not $2"
    [ -z "$why" ] && [ "$(nlines "$tmp/err")" != "$3" ] && why="$(nlines "$tmp/err") lines on stderr, not $3"
    [ -z "$why" ] && [ -n "$4" ] && ! grep -Eq "$4" "$tmp/err" && why="stderr: $(head -c 200 "$tmp/err")"
    if [ -z "$why" ]; then pass "$1"; else fail "$1" "$why"; fi
}
fake_smi() { # fake_smi NAME BODY: an executable nvidia-smi stand-in
    printf '#!/usr/bin/env bash\n%s\n' "$2" >"$tmp/$1"
    chmod +x "$tmp/$1"
}

# ---- arguments ----
run bash "$SCRIPT" --help
expect "help exits 0 and prints nothing on stderr" 0 0 ""
grep -q '^usage: scripts/gpu_check.sh' "$tmp/out" && grep -q -- '--dry-run' "$tmp/out" \
    && pass "help prints the usage" || fail "help prints the usage"

run bash "$SCRIPT" --frobnicate
expect "an unknown option fails with one line and exit 2" 2 1 "^gpu_check.sh: unknown option '--frobnicate'"
[ ! -s "$tmp/out" ] && pass "an unknown option prints nothing on stdout" || fail "an unknown option prints nothing on stdout"

for opt in --build-dir --out --debs --python --summarize; do
    run bash "$SCRIPT" "$opt"
    expect "$opt without a value fails with one line and exit 2" 2 1 "^gpu_check.sh: $opt needs a value"
done
run bash "$SCRIPT" --summarize "$tmp/nothing-here"
expect "--summarize of a missing folder fails with exit 2" 2 1 "no folder"

# ---- no usable GPU: refuse before anything is built or written ----
run bash "$SCRIPT" --build-dir "$tmp/b" --out "$tmp/o"
expect "no nvidia-smi: refusal with one line and exit 3" 3 1 "^gpu_check.sh: no GPU: .*not found"
[ ! -e "$tmp/b" ] && [ ! -e "$tmp/o" ] && pass "the refusal creates nothing" || fail "the refusal creates nothing"
fake_smi smi-broken 'echo "NVIDIA-SMI has failed because it could not communicate with the NVIDIA driver"; exit 9'
GPU_CHECK_NVIDIA_SMI="$tmp/smi-broken" run bash "$SCRIPT" --build-dir "$tmp/b"
expect "a failing nvidia-smi: refusal with its message" 3 1 "^gpu_check.sh: no GPU: .*failed: NVIDIA-SMI has failed"
fake_smi smi-empty 'exit 0'
GPU_CHECK_NVIDIA_SMI="$tmp/smi-empty" run bash "$SCRIPT" --build-dir "$tmp/b"
expect "an nvidia-smi that lists no GPU: refusal" 3 1 "^gpu_check.sh: no GPU: .*lists no GPU"

# ---- --dry-run: the commands, in order, and nothing else ----
run bash "$SCRIPT" --dry-run --build-dir "$tmp/b" --out "$tmp/o"
expect "dry run exits 0 without a GPU, nothing on stderr" 0 0 ""
want=(
    "^\+ cmake -S $ROOT -B $tmp/b .*-DCMAKE_BUILD_TYPE=Release .*-DGWAE_CUDA=ON .*-DGWAE_TESTS=ON"
    "^\+ cmake --build $tmp/b -j [0-9]+ --target gwae_cli test_cuda test_cuda_model$"
    "^\+ $tmp/b/test_cuda --jobs [0-9]+ --verbose$"
    "^\+ $tmp/b/test_cuda_model --jobs [0-9]+ --verbose$"
    "^\+ $tmp/b/gwae bench --device cuda --config paper --iters 20 --json$"
    "^\+ $tmp/b/gwae bench --device cuda --config small --iters 20 --json$"
    "^\+ python3 $ROOT/bench/torch_gwae.py --device cuda .*--image-size 64 --width 1 --n-critic 5$"
    "^\+ python3 $ROOT/bench/torch_gwae.py --device cuda .*--image-size 64 .*--form project"
    "^\+ python3 $ROOT/bench/torch_gwae.py --device cuda .*--image-size 32 --width 0.25 --n-critic 2"
    "^\+ $tmp/b/gwae train --device cuda --dataset shapes --steps 300 .*--out $tmp/o/run$"
    "^\+ $tmp/b/gwae eval $tmp/o/run$"
)
last=0 ok=1
for w in "${want[@]}"; do
    n=$(grep -En "$w" "$tmp/out" | head -n 1 | cut -d: -f1 || true)
    if [ -z "$n" ] || ((n <= last)); then ok=0; fail "dry run lists, in order: $w"; else last=$n; fi
done
((ok)) && pass "dry run lists the ${#want[@]} expected commands in order"
[ "$(grep -c '^+ ' "$tmp/out")" = "${#want[@]}" ] && pass "dry run lists no other command" \
    || fail "dry run lists no other command" "$(grep -c '^+ ' "$tmp/out") commands"
grep -q '^# GPU: none' "$tmp/out" && pass "dry run says that there is no GPU" || fail "dry run says that there is no GPU"
[ ! -e "$tmp/b" ] && [ ! -e "$tmp/o" ] && pass "dry run creates nothing" || fail "dry run creates nothing"

fake_smi smi-ok 'echo "Fake GPU, 1.0, 1 MiB"'
GPU_CHECK_NVIDIA_SMI="$tmp/smi-ok" run bash "$SCRIPT" --dry-run --quick --skip-build --build-dir "$tmp/b"
expect "quick dry run with a GPU exits 0" 0 0 ""
grep -q '^# GPU: Fake GPU, 1.0, 1 MiB' "$tmp/out" && ! grep -q '^+ cmake' "$tmp/out" \
    && grep -q -- '--config paper --iters 5 --json$' "$tmp/out" && grep -q -- '--steps 100 ' "$tmp/out" \
    && grep -q -- "eval $tmp/b/gpu_check/run --limit 500$" "$tmp/out" \
    && pass "--quick --skip-build: no build, 5 iterations, 100 steps, eval on 500 images" \
    || fail "--quick --skip-build: no build, 5 iterations, 100 steps, eval on 500 images"

# cuDNN from a Python package (the layout of PyTorch's nvidia-cudnn) when the toolkit has none
if command -v python3 >/dev/null 2>&1; then
    site="$tmp/site/nvidia/cudnn"
    mkdir -p "$site/include" "$site/lib"
    touch "$site/include/cudnn_version.h" "$site/lib/libcudnn.so.9" "$site/lib/libcudnn_ops.so.9"
    CUDA_HOME="$tmp/no-toolkit" PYTHONPATH="$tmp/site" run bash "$SCRIPT" --dry-run --build-dir "$tmp/b"
    if [ -f /usr/include/cudnn_version.h ] || [ -f /usr/include/x86_64-linux-gnu/cudnn_version.h ]; then
        pass "cuDNN from a Python package (not checked: this machine has cuDNN in /usr/include)"
    elif grep -q -- "-DGWAE_CUDNN_INCLUDE_DIR=$site/include -DGWAE_CUDNN_LIBRARY=$site/lib/libcudnn.so.9" "$tmp/out" \
        && grep -q "cuDNN: Python package at $site" "$tmp/out"; then
        pass "cuDNN is found in a Python package and passed to CMake"
    else
        fail "cuDNN is found in a Python package and passed to CMake" "$(head -n 3 "$tmp/out")"
    fi
fi

# ---- the summary, from recorded outputs ----
run bash "$SCRIPT" --summarize "$FIXTURE" --out "$tmp/s"
expect "summary of the passing fixture exits 0" 0 0 ""
if diff -u "$FIXTURE/expected_summary.txt" "$tmp/out" >"$tmp/diff"; then
    pass "summary text equals expected_summary.txt"
else
    fail "summary text equals expected_summary.txt" "$(head -n 20 "$tmp/diff")"
fi
grep -q '"ratio_paper": 0.82, ' "$tmp/s/summary.json" && grep -q '"passed": true' "$tmp/s/summary.json" \
    && pass "summary.json holds the ratio and passed: true" || fail "summary.json holds the ratio and passed: true"
if command -v python3 >/dev/null 2>&1; then
    python3 -m json.tool "$tmp/s/summary.json" >/dev/null && pass "summary.json is valid JSON" \
        || fail "summary.json is valid JSON"
fi

# a failing test, a crashed PyTorch step and a missing figure
cp -r "$FIXTURE" "$tmp/f1"
sed -i 's/Tested: 3 | Passing: 3 | Failing: 0/Tested: 3 | Passing: 2 | Failing: 1/' "$tmp/f1/test_cuda_model.log"
sed -i 's/^torch_paper\t0\t/torch_paper\t1\t/' "$tmp/f1/steps.tsv"
: >"$tmp/f1/torch_paper.log"
run bash "$SCRIPT" --summarize "$tmp/f1" --out "$tmp/s1"
verdict=$(tail -n 1 "$tmp/out")
[ "$RC" = 1 ] && [[ "$verdict" == "VERDICT: FAIL: "* ]] && [[ "$verdict" == *"torch_paper: exit 1"* ]] \
    && [[ "$verdict" == *"test_cuda_model: 1 failing, 0 crashing"* ]] \
    && [[ "$verdict" == *"no PyTorch figure (paper)"* ]] && grep -q '"passed": false' "$tmp/s1/summary.json" \
    && pass "a failing test and a failed step give a FAIL verdict and exit 1" \
    || fail "a failing test and a failed step give a FAIL verdict and exit 1" "rc $RC, $verdict"

# tests that found no GPU, a timed-out training, a step skipped for time
cp -r "$FIXTURE" "$tmp/f2"
echo "[SKIP] cuda_model::fused_optimizer_updates_match_the_cpu_bit_for_bit: no CUDA device: reason" \
    >>"$tmp/f2/test_cuda_model.log"
sed -i 's/^train\t0\t31/train\t124\t180/; s/^eval\t0\t22/eval\tskipped\t0/' "$tmp/f2/steps.tsv"
run bash "$SCRIPT" --summarize "$tmp/f2" --out "$tmp/s2"
verdict=$(tail -n 1 "$tmp/out")
[ "$RC" = 1 ] && [[ "$verdict" == *"test_cuda_model: 1 tests found no CUDA device"* ]] \
    && [[ "$verdict" == *"train: timed out (180 s)"* ]] && [[ "$verdict" == *"eval: skipped"* ]] \
    && grep -q '^train  *timed out (180 s); eval skipped' "$tmp/out" \
    && pass "skips for no device, a timeout and a skipped step give FAIL" \
    || fail "skips for no device, a timeout and a skipped step give FAIL" "rc $RC, $verdict"

# nothing ran at all
mkdir "$tmp/f3"
run bash "$SCRIPT" --summarize "$tmp/f3"
[ "$RC" = 1 ] && grep -q '^test_cuda  *no result (not run)' "$tmp/out" && [ -f "$tmp/f3/summary.json" ] \
    && pass "an empty folder summarises as not run, FAIL" || fail "an empty folder summarises as not run, FAIL" "rc $RC"

if ((failures)); then
    echo "$failures check(s) failed"
    exit 1
fi
echo "all checks passed"
