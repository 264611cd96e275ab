#!/usr/bin/env bash
# gpu_check.sh - the GPU check of the CUDA backend in one command, on a machine with an NVIDIA
# GPU and the CUDA toolkit (written for the lent H200 machine: 16 cores, CUDA 13.0, PyTorch
# with CUDA). In order, each step logged under --out and limited in time:
#   1. configure (Release, GWAE_CUDA=ON, arch 90, GWAE_TESTS=ON) and build only gwae_cli,
#      test_cuda and test_cuda_model, on all cores; cuDNN's headers and library are taken from
#      the toolkit, or else from PyTorch's nvidia-cudnn Python package, and passed to CMake as
#      GWAE_CUDNN_INCLUDE_DIR / GWAE_CUDNN_LIBRARY (cmake/cuda.cmake);
#   2. test_cuda and test_cuda_model (Criterion, verbose, all cores);
#   3. `gwae bench --device cuda` for the paper's configuration and for the small default;
#   4. the same iterations in PyTorch on the same GPU (bench/torch_gwae.py --device cuda: the
#      official form at both configurations, and the project form at the paper's);
#   5. `gwae train --device cuda` for 300 steps on the generated shapes dataset (the machine
#      has no Fashion-MNIST), then `gwae eval` of that run (with --device cuda only if
#      `gwae eval --help` lists it);
# then one summary block (tests, ms per iteration ours and PyTorch's and their ratio, GPU
# memory peaks, achieved FLOP/s, a verdict line) on stdout and in OUT/summary.json.
#
# Time: the whole check is held under 7.5 minutes (BUDGET_S below: a step that would start
# later is skipped, each step's limit is cut to what is left). The build of the three targets
# measured on the 2-core development machine (no GPU, nvcc 13.0, 2026-12-02): configure 2 s,
# build 18 s with make -j2 at a load of 0.4 (14 s for both with Ninja; 24-40 s while other
# work loaded the machine). The longest single compile is cuda_sort.cu (CUB), 5.4 s, and all
# compiles add up to 22 s of CPU, so on 16 cores the build should take about 10 s (the CUB
# compile and the links in a row), configure a few seconds more: well under a minute of the
# budget. The rest is expected to be a few minutes on an H200 (unmeasured: no GPU so far).
#
# GPU memory: PyTorch's peak is torch.cuda.max_memory_allocated; gwae prints none, so both
# programs are also sampled with nvidia-smi (memory.used over the baseline before the run,
# every 100 ms: the CUDA context and library workspaces included).
# FLOP/s: bench/torch_gwae.py's analytic count of one iteration's convolution and linear work
# (forward 2 FLOPs per multiply-add, each gradient product as much as the forward; the rules
# are in its analytic_flops), divided by each side's ms per iteration.
#
# Exit codes: 0 every step ran and passed; 1 a step failed or was skipped (the summary says
# which); 2 a wrong command line (one line on stderr); 3 no usable GPU (one line: nothing is
# built or run); 4 a missing prerequisite (cmake, nvcc, or --skip-build without a build).
#
# A machine without Criterion, OpenBLAS, libpng or libjpeg: download Debian's packages on a
# machine with apt, e.g.
#   mkdir -p .debs && cd .debs && apt-get download libcriterion-dev libcriterion3 \
#     libgit2-1.5 libnanomsg5 libhttp-parser2.9 libmbedtls14 libmbedx509-1 libmbedcrypto7 \
#     libssh2-1 libopenblas-openmp-dev libopenblas0-openmp libgfortran5 libpng-dev \
#     libpng16-16 libjpeg62-turbo-dev libjpeg62-turbo zlib1g-dev pkgconf pkgconf-bin libpkgconf3
# (with `echo /.debs/ >> .git/info/exclude`, so that they are never committed) and pass
# --debs .debs: they are unpacked (dpkg-deb -x) into BUILD_DIR/sysroot, which the configure
# step, the link and the runs are pointed at (checked on Debian 12: every library then came
# from the sysroot). The device tool must carry .debs (16 MB).
#
# GPU_CHECK_NVIDIA_SMI names the nvidia-smi to ask (default nvidia-smi; the tests set it).
set -euo pipefail

PROG=gpu_check.sh
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUDGET_S=450
SMI="${GPU_CHECK_NVIDIA_SMI:-nvidia-smi}"

usage() {
    cat <<EOF
usage: scripts/gpu_check.sh [--dry-run] [--quick] [--skip-build] [--build-dir DIR]
                            [--out DIR] [--debs DIR] [--python PY]
       scripts/gpu_check.sh --summarize DIR [--out DIR]

Builds the CUDA backend's tests and the gwae program, runs the GPU tests, times one GWAE
training iteration on the GPU with gwae and with PyTorch (bench/torch_gwae.py), trains 300
steps on the GPU and evaluates the run, then prints a summary with a verdict line.

  --dry-run        print the commands, run none (only the look-ups for the GPU and cuDNN)
  --quick          fewer iterations: 5 timed instead of 20, 100 training steps instead of
                   300, eval on 500 test images
  --skip-build     use the programs already in the build folder
  --build-dir DIR  the build folder (default build-gpu)
  --out DIR        where the logs, steps.tsv and summary.json go (default BUILD_DIR/gpu_check)
  --debs DIR       Debian packages (.deb) to unpack into BUILD_DIR/sysroot for the build
  --python PY      the Python with PyTorch for bench/torch_gwae.py (default python3)
  --summarize DIR  print the summary of the logs in DIR (an earlier --out) and write
                   summary.json into --out (default DIR); runs nothing else

Exit codes: 0 all passed, 1 a step failed, 2 a wrong command line, 3 no usable GPU,
4 a missing prerequisite. The whole check stops starting steps after $BUDGET_S s.
EOF
}

die_usage() { echo "$PROG: $*" >&2; exit 2; }

DRY=0 QUICK=0 SKIP_BUILD=0 BUILD_DIR="" OUT="" DEBS="" PY=python3 SUMMARIZE=""
while (($#)); do
    case "$1" in
        -h|--help) usage; exit 0 ;;
        --dry-run) DRY=1 ;;
        --quick) QUICK=1 ;;
        --skip-build) SKIP_BUILD=1 ;;
        --build-dir|--out|--debs|--python|--summarize)
            (($# >= 2)) && [ -n "$2" ] || die_usage "$1 needs a value"
            case "$1" in
                --build-dir) BUILD_DIR="$2" ;; --out) OUT="$2" ;; --debs) DEBS="$2" ;;
                --python) PY="$2" ;; --summarize) SUMMARIZE="$2" ;;
            esac
            shift ;;
        *) die_usage "unknown option '$1' (see --help)" ;;
    esac
    shift
done

# ---- the summary: reads the logs of a run (or a fixture) and prints the block ----

# the number after "key": in the first JSON line of a file (lines that start with '{')
json_num() {
    [ -f "$1" ] || return 0
    awk -v k="$2" 'index($0, "{") == 1 && match($0, "\"" k "\": *-?[0-9][0-9.eE+-]*") {
        s = substr($0, RSTART, RLENGTH); sub(/^[^:]*: */, "", s); print s; exit }' "$1"
}
# the value of key=... in env.txt
env_get() { [ -f "$1/env.txt" ] && sed -n "s/^$2=//p" "$1/env.txt" | head -n 1 || true; }
# a step's rc and seconds from steps.tsv ("" when the step is absent)
step_rc() { [ -f "$1/steps.tsv" ] && awk -F'\t' -v n="$2" '$1 == n { r = $2 } END { print r }' "$1/steps.tsv" || true; }
step_s() { [ -f "$1/steps.tsv" ] && awk -F'\t' -v n="$2" '$1 == n { r = $3 } END { print r }' "$1/steps.tsv" || true; }
# a step's outcome in words: ok, exit N, timed out, skipped or not run
step_word() {
    local rc; rc=$(step_rc "$1" "$2")
    case "$rc" in
        "") echo "not run" ;; 0) echo "ok ($(step_s "$1" "$2") s)" ;; skipped) echo "skipped" ;;
        124|137) echo "timed out ($(step_s "$1" "$2") s)" ;; *) echo "exit $rc ($(step_s "$1" "$2") s)" ;;
    esac
}
# a / b with d decimals, or "n/a"
ratio() { awk -v a="$1" -v b="$2" -v d="${3:-2}" 'BEGIN { if (a == "" || b == "" || b + 0 == 0) print "n/a"; else printf "%.*f\n", d, a / b }'; }
# a number with d decimals (default 2), or "" when there is none
fmt() { [ -n "$1" ] && awk -v a="$1" -v d="${2:-2}" 'BEGIN { printf "%.*f\n", d, a }' || true; }
# peak of an nvidia-smi memory sample file over its first (baseline) line, MiB
mem_peak() {
    [ -f "$1" ] || { echo "n/a"; return; }
    awk 'NR == 1 { b = $1 + 0; m = b; next } $1 + 0 > m { m = $1 + 0 }
         END { if (NR < 2) print "n/a"; else printf "%d\n", m - b }' "$1"
}
# tested passing failing crashing skipped no_device: from a Criterion --verbose log
criterion_counts() {
    [ -f "$1" ] || { echo ""; return; }
    awk '{ gsub(/\033\[[0-9;]*m/, "") }
         /\[SKIP\]/ { skip++; if (/no CUDA device/) nodev++ }
         /Synthesis:/ { line = $0 }
         END { if (line == "") exit
               n = split(line, p, "|"); for (i = 1; i <= n; i++) { gsub(/[^0-9]/, "", p[i]); v[i] = p[i] }
               printf "%d %d %d %d %d %d\n", v[1], v[2], v[3], v[4], skip, nodev }' "$1"
}

summarize() {
    local dir="$1" dest="$2" verdict="" problems=() line
    local date gpu cores nvcc cudnn_inc cudnn_lib cudnn_from quick eval_dev
    date=$(env_get "$dir" date); gpu=$(env_get "$dir" gpu); cores=$(env_get "$dir" cores)
    nvcc=$(env_get "$dir" nvcc); cudnn_inc=$(env_get "$dir" cudnn_include)
    cudnn_lib=$(env_get "$dir" cudnn_library); cudnn_from=$(env_get "$dir" cudnn_source)
    quick=$(env_get "$dir" quick); eval_dev=$(env_get "$dir" eval_device)
    echo "== GPU check summary (${date:-date unknown}${quick:+, quick $quick})"
    echo "machine          ${gpu:-unknown GPU}; ${cores:-?} cores; nvcc ${nvcc:-?}"
    echo "cuDNN            ${cudnn_from:-?}: include ${cudnn_inc:-?}, library ${cudnn_lib:-?}"

    local st
    for st in configure build bench_paper bench_small torch_paper torch_paper_project \
              torch_small train eval; do
        case "$(step_rc "$dir" "$st")" in "" | 0) ;; *) problems+=("$st: $(step_word "$dir" "$st")") ;; esac
    done
    echo "build            configure $(step_word "$dir" configure), build $(step_word "$dir" build)"

    local t json_tests="" c tested pass fail crash skip nodev
    for t in test_cuda test_cuda_model; do
        c=$(criterion_counts "$dir/$t.log")
        if [ -z "$c" ]; then
            echo "$(printf '%-16s' "$t") no result ($(step_word "$dir" "$t"))"
            problems+=("$t: no result")
            json_tests+="\"$t\": null, "
            continue
        fi
        read -r tested pass fail crash skip nodev <<<"$c"
        echo "$(printf '%-16s' "$t") passed $pass of $tested run (failing $fail, crashing $crash; skipped $skip, of which 'no CUDA device' $nodev)"
        ((fail + crash == 0)) || problems+=("$t: $fail failing, $crash crashing")
        ((nodev == 0)) || problems+=("$t: $nodev tests found no CUDA device")
        local trc; trc=$(step_rc "$dir" "$t")
        if [ -n "$trc" ] && [ "$trc" != 0 ] && ((fail + crash == 0)); then problems+=("$t: exit $trc"); fi
        json_tests+="\"$t\": {\"tested\": $tested, \"passing\": $pass, \"failing\": $fail, \"crashing\": $crash, \"skipped\": $skip, \"skipped_no_device\": $nodev}, "
    done

    local o_p o_s t_p t_s tp_p r_p r_s rp_p om_p oc_p tm_p tc_p
    o_p=$(fmt "$(json_num "$dir/bench_paper.log" ms_per_iter_median)")
    o_s=$(fmt "$(json_num "$dir/bench_small.log" ms_per_iter_median)")
    om_p=$(fmt "$(json_num "$dir/bench_paper.log" ms_main_step)")
    oc_p=$(fmt "$(json_num "$dir/bench_paper.log" ms_adversary_steps)")
    t_p=$(fmt "$(json_num "$dir/torch_paper.log" ms_per_iter_median)")
    t_s=$(fmt "$(json_num "$dir/torch_small.log" ms_per_iter_median)")
    tm_p=$(fmt "$(json_num "$dir/torch_paper.log" ms_main_step)")
    tc_p=$(fmt "$(json_num "$dir/torch_paper.log" ms_critic_steps)")
    tp_p=$(fmt "$(json_num "$dir/torch_paper_project.log" ms_per_iter_median)")
    r_p=$(ratio "$o_p" "$t_p"); r_s=$(ratio "$o_s" "$t_s"); rp_p=$(ratio "$o_p" "$tp_p")
    [ -n "$o_p" ] || problems+=("no gwae bench figure (paper)")
    [ -n "$t_p" ] || problems+=("no PyTorch figure (paper)")
    local row='  %-28s %8s %8s %13s %21s %10s\n'
    printf "${row#  }" "ms/iteration (median)  " gwae PyTorch gwae/PyTorch "PyTorch project form" gwae/that
    printf "$row" "paper 64x64 w1 n_critic 5" "${o_p:-n/a}" "${t_p:-n/a}" "$r_p" "${tp_p:-n/a}" "$rp_p"
    printf '  %-28s %8s %8s %13s\n' "small 32x32 w0.25 n_critic 2" "${o_s:-n/a}" "${t_s:-n/a}" "$r_s"
    echo "  paper main / critic steps: gwae ${om_p:-n/a} / ${oc_p:-n/a} ms, PyTorch ${tm_p:-n/a} / ${tc_p:-n/a} ms"

    local mo mt ta
    mo=$(mem_peak "$dir/bench_paper.mem"); mt=$(mem_peak "$dir/torch_paper.mem")
    ta=$(json_num "$dir/torch_paper.log" peak_gpu_mib)
    echo "GPU memory       paper config, peak over the baseline (nvidia-smi): gwae ${mo} MiB, PyTorch ${mt} MiB; PyTorch max_memory_allocated ${ta:-n/a} MiB"

    local gf gfc tf_o tf_t
    gf=$(json_num "$dir/torch_paper.log" gflop_per_iter_min)
    gfc=$(json_num "$dir/torch_paper.log" gflop_per_iter_counted)
    tf_o=$(ratio "$gf" "$o_p" 2); tf_t=$(ratio "$gf" "$t_p" 2)
    echo "FLOP/s           ${gf:-n/a} GFLOP per paper iteration (analytic, convs and linears): gwae ${tf_o} TFLOP/s, PyTorch ${tf_t} TFLOP/s${gfc:+ (FlopCounterMode counted $gfc GFLOP in the PyTorch iteration)}"

    local psnr
    psnr=$(json_num "$dir/eval.log" test_psnr_mean)
    echo "train            $(step_word "$dir" train); eval${eval_dev:+ --device $eval_dev} $(step_word "$dir" eval), test PSNR $(ratio "$psnr" 1 2) dB"

    local rc=0
    if ((${#problems[@]})); then
        verdict="FAIL: $(printf '%s; ' "${problems[@]}" | sed 's/; $//')"
        rc=1
    else
        local how="faster than"
        awk -v r="$r_p" 'BEGIN { exit !(r > 1) }' && how="slower than"
        verdict="PASS: the GPU tests pass; the paper's iteration takes $o_p ms, $r_p x PyTorch's $t_p ms ($how PyTorch)"
    fi
    echo "VERDICT: $verdict"

    mkdir -p "$dest"
    {
        printf '{"date": "%s", "gpu": "%s", "cores": "%s", "nvcc": "%s", "quick": "%s", ' \
            "$date" "$gpu" "$cores" "$nvcc" "$quick"
        printf '"cudnn_include": "%s", "cudnn_library": "%s", "tests": {%s}, ' \
            "$cudnn_inc" "$cudnn_lib" "${json_tests%, }"
        printf '"ms_per_iter": {"gwae_paper": %s, "torch_paper": %s, "torch_paper_project": %s, "gwae_small": %s, "torch_small": %s}, ' \
            "${o_p:-null}" "${t_p:-null}" "${tp_p:-null}" "${o_s:-null}" "${t_s:-null}"
        printf '"ratio_paper": %s, "ratio_small": %s, "gpu_peak_mib": {"gwae": %s, "torch": %s, "torch_allocated": %s}, ' \
            "${r_p/n\/a/null}" "${r_s/n\/a/null}" "${mo/n\/a/null}" "${mt/n\/a/null}" "${ta:-null}"
        printf '"gflop_per_iter": %s, "tflops": {"gwae": %s, "torch": %s}, "test_psnr": %s, "passed": %s, "verdict": "%s"}\n' \
            "${gf:-null}" "${tf_o/n\/a/null}" "${tf_t/n\/a/null}" "${psnr:-null}" \
            "$([ $rc = 0 ] && echo true || echo false)" "${verdict//\"/\'}"
    } >"$dest/summary.json"
    return $rc
}

if [ -n "$SUMMARIZE" ]; then
    [ -d "$SUMMARIZE" ] || die_usage "--summarize: no folder $SUMMARIZE"
    summarize "$SUMMARIZE" "${OUT:-$SUMMARIZE}" && exit 0 || exit 1
fi

# ---- look-ups: the GPU, the toolkit, cuDNN ----

gpu_probe() {
    command -v "$SMI" >/dev/null 2>&1 || { echo "$SMI not found"; return 1; }
    local out
    out=$("$SMI" --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>&1) \
        || { echo "$SMI failed: ${out%%$'\n'*}"; return 1; }
    [ -n "$out" ] || { echo "$SMI lists no GPU"; return 1; }
    echo "${out%%$'\n'*}"
}

# sets CUDNN_INC, CUDNN_LIB, CUDNN_FROM
find_cudnn() {
    CUDNN_INC="" CUDNN_LIB="" CUDNN_FROM=""
    local d cuda_home="${CUDA_HOME:-${CUDA_PATH:-/usr/local/cuda}}"
    for d in "$cuda_home/include" /usr/include /usr/include/x86_64-linux-gnu; do
        [ -f "$d/cudnn_version.h" ] && { CUDNN_INC="$d"; break; }
    done
    for d in "$cuda_home/lib64" "$cuda_home/lib" /usr/lib/x86_64-linux-gnu; do
        for f in "$d/libcudnn.so" "$d"/libcudnn.so.[0-9]*; do
            [ -e "$f" ] && { CUDNN_LIB="$f"; break 2; }
        done
    done
    if [ -n "$CUDNN_INC" ] && [ -n "$CUDNN_LIB" ]; then CUDNN_FROM="the toolkit"; return; fi
    local pkg roots=()
    pkg=$("$PY" -c 'import os, nvidia.cudnn as m
print(os.path.dirname(m.__file__) if getattr(m, "__file__", None) else list(m.__path__)[0])' \
        2>/dev/null) && roots+=("$pkg")
    while IFS= read -r d; do [ -d "$d/nvidia" ] && roots+=("$d/nvidia"); done < <("$PY" -c \
        'import site, sys; print("\n".join(site.getsitepackages() + sys.path))' 2>/dev/null || true)
    local inc lib
    for d in "${roots[@]}"; do
        inc=$(find "$d" -maxdepth 4 -name cudnn_version.h -path '*cudnn*' 2>/dev/null | head -n 1)
        lib=$(find "$d" -maxdepth 4 \( -name libcudnn.so -o -name 'libcudnn.so.[0-9]*' \) 2>/dev/null | sort | head -n 1)
        if [ -n "$inc" ] && [ -n "$lib" ]; then
            CUDNN_INC=$(dirname "$inc") CUDNN_LIB="$lib" CUDNN_FROM="Python package at $d"
            return
        fi
    done
    CUDNN_FROM="not found (CMake searches itself)"
}

NPROC=$(nproc 2>/dev/null || echo 4)
BUILD_DIR="${BUILD_DIR:-build-gpu}"
case "$BUILD_DIR" in /*) ;; *) BUILD_DIR="$ROOT/$BUILD_DIR" ;; esac
OUT="${OUT:-$BUILD_DIR/gpu_check}"
case "$OUT" in /*) ;; *) OUT="$PWD/$OUT" ;; esac
if ((QUICK)); then ITERS=5 WARM=2 STEPS=100 EVAL_LIMIT=(--limit 500)
else ITERS=20 WARM=3 STEPS=300 EVAL_LIMIT=(); fi
GWAE="$BUILD_DIR/gwae"

if ! GPU=$(gpu_probe); then
    if ((DRY)); then GPU="none ($GPU): a real run stops here with exit code 3"
    else echo "$PROG: no GPU: $GPU (this check needs an NVIDIA GPU; --dry-run shows its commands)" >&2; exit 3; fi
fi
if ((!SKIP_BUILD)) && ((!DRY)); then
    command -v cmake >/dev/null || { echo "$PROG: cmake not found" >&2; exit 4; }
    command -v nvcc >/dev/null || [ -x "${CUDA_HOME:-/usr/local/cuda}/bin/nvcc" ] \
        || { echo "$PROG: nvcc not found (on PATH or in \$CUDA_HOME/bin, /usr/local/cuda/bin)" >&2; exit 4; }
fi
if ((SKIP_BUILD)) && ((!DRY)); then
    for f in gwae test_cuda test_cuda_model; do
        [ -x "$BUILD_DIR/$f" ] || { echo "$PROG: --skip-build: $BUILD_DIR/$f is missing" >&2; exit 4; }
    done
fi
find_cudnn

CMAKE_ARGS=(-DCMAKE_BUILD_TYPE=Release -DGWAE_CUDA=ON -DGWAE_CUDA_ARCH=90 -DGWAE_TESTS=ON)
command -v ninja >/dev/null 2>&1 && [ ! -f "$BUILD_DIR/Makefile" ] && CMAKE_ARGS+=(-G Ninja)
[ -n "$CUDNN_INC" ] && CMAKE_ARGS+=("-DGWAE_CUDNN_INCLUDE_DIR=$CUDNN_INC" "-DGWAE_CUDNN_LIBRARY=$CUDNN_LIB")

# --debs: unpack into a sysroot and point the build and the runs at it
if [ -n "$DEBS" ]; then
    SYSROOT="$BUILD_DIR/sysroot" ARCH_LIB="$BUILD_DIR/sysroot/usr/lib/x86_64-linux-gnu"
    if ((DRY)); then echo "+ for f in $DEBS/*.deb; do dpkg-deb -x \$f $SYSROOT; done"
    else
        ls "$DEBS"/*.deb >/dev/null 2>&1 || { echo "$PROG: --debs: no .deb files in $DEBS" >&2; exit 4; }
        mkdir -p "$SYSROOT"
        for f in "$DEBS"/*.deb; do dpkg-deb -x "$f" "$SYSROOT"; done
    fi
    # Criterion's own .pc names build-only dependencies; this one links the library alone
    if [ -e "$ARCH_LIB/libcriterion.so" ] || ((DRY)); then
        ((DRY)) || mkdir -p "$SYSROOT/pc"
        ((DRY)) || printf 'prefix=%s\nName: criterion\nDescription: Criterion (unpacked)\nVersion: 2.4\nLibs: -L${prefix}/lib/x86_64-linux-gnu -lcriterion\nCflags: -I${prefix}/include\n' \
            "$SYSROOT/usr" >"$SYSROOT/pc/criterion.pc"
        export PKG_CONFIG_PATH="$SYSROOT/pc${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
    fi
    command -v pkg-config >/dev/null 2>&1 || CMAKE_ARGS+=("-DPKG_CONFIG_EXECUTABLE=$SYSROOT/usr/bin/pkgconf")
    if [ -d "$SYSROOT/usr/include/x86_64-linux-gnu/openblas-openmp" ] || ((DRY)); then
        CMAKE_ARGS+=("-DOPENBLAS_INCLUDE_DIR=$SYSROOT/usr/include/x86_64-linux-gnu/openblas-openmp"
                     "-DOPENBLAS_LIBRARY=$ARCH_LIB/openblas-openmp/libopenblas.so")
    fi
    CMAKE_ARGS+=("-DCMAKE_PREFIX_PATH=$SYSROOT/usr")
    export LD_LIBRARY_PATH="$ARCH_LIB:$ARCH_LIB/openblas-openmp:$SYSROOT/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
fi
[ -n "$CUDNN_LIB" ] && export LD_LIBRARY_PATH="$(dirname "$CUDNN_LIB")${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"

# ---- the steps ----

STEP_FAILED=0
# run_step NAME LIMIT_S CMD...: stdout and stderr to OUT/NAME.log, a row in OUT/steps.tsv
run_step() {
    local name="$1" limit="$2"; shift 2
    if ((DRY)); then printf '+ %s\n' "$*"; return 0; fi
    local left=$((BUDGET_S - SECONDS)) rc=0 t0=$SECONDS
    if ((left < 15)); then
        printf '%s\tskipped\t0\n' "$name" >>"$OUT/steps.tsv"
        echo "[gpu_check] $name: skipped (time budget of $BUDGET_S s spent)" >&2
        STEP_FAILED=1
        return 1
    fi
    ((limit < left)) || limit=$left
    timeout -k 10 "$limit" "$@" >"$OUT/$name.log" 2>&1 || rc=$?
    printf '%s\t%s\t%s\n' "$name" "$rc" $((SECONDS - t0)) >>"$OUT/steps.tsv"
    echo "[gpu_check] $name: $( ((rc == 0)) && echo ok || echo "exit $rc$( ((rc == 124)) && echo ", stopped after $limit s")") ($((SECONDS - t0)) s)" >&2
    ((rc == 0)) || STEP_FAILED=1
    return $rc
}

# with_memory NAME CMD...: run_step with nvidia-smi sampling memory.used into OUT/NAME.mem
with_memory() {
    local name="$1" limit="$2" rc=0 pid=""; shift 2
    if ((!DRY)); then
        "$SMI" --query-gpu=memory.used --format=csv,noheader,nounits -i 0 >"$OUT/$name.mem" 2>/dev/null || true
        "$SMI" --query-gpu=memory.used --format=csv,noheader,nounits -i 0 -lms 100 >>"$OUT/$name.mem" 2>/dev/null &
        pid=$!
    fi
    run_step "$name" "$limit" "$@" || rc=$?
    if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
    return $rc
}

if ((DRY)); then
    echo "# GPU: ${GPU}; cuDNN: ${CUDNN_FROM}${CUDNN_INC:+ ($CUDNN_INC, $CUDNN_LIB)}"
    echo "# build folder $BUILD_DIR, logs and summary.json in $OUT"
else
    mkdir -p "$OUT"
    : >"$OUT/steps.tsv"
    {
        echo "date=$(date -u '+%Y-%m-%d %H:%M UTC')"
        echo "gpu=$GPU"
        echo "cores=$NPROC"
        echo "nvcc=$( (command -v nvcc >/dev/null && nvcc --version || "${CUDA_HOME:-/usr/local/cuda}/bin/nvcc" --version) 2>/dev/null | sed -n 's/.*release \([0-9.]*\).*/\1/p')"
        echo "cudnn_source=$CUDNN_FROM"
        echo "cudnn_include=$CUDNN_INC"
        echo "cudnn_library=$CUDNN_LIB"
        echo "quick=$( ((QUICK)) && echo yes || echo no)"
        echo "commit=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)"
    } >"$OUT/env.txt"
    echo "[gpu_check] $GPU; cuDNN: $CUDNN_FROM${CUDNN_INC:+ ($CUDNN_INC, $CUDNN_LIB)}" >&2
fi

BUILT=1
if ((!SKIP_BUILD)); then
    run_step configure 180 cmake -S "$ROOT" -B "$BUILD_DIR" "${CMAKE_ARGS[@]}" || BUILT=0
    if ((BUILT)); then
        run_step build 300 cmake --build "$BUILD_DIR" -j "$NPROC" --target gwae_cli test_cuda test_cuda_model || BUILT=0
    fi
fi
if ((BUILT)); then
    run_step test_cuda 240 "$BUILD_DIR/test_cuda" --jobs "$NPROC" --verbose || true
    run_step test_cuda_model 120 "$BUILD_DIR/test_cuda_model" --jobs "$NPROC" --verbose || true
    with_memory bench_paper 150 "$GWAE" bench --device cuda --config paper --iters "$ITERS" --json || true
    run_step bench_small 90 "$GWAE" bench --device cuda --config small --iters "$ITERS" --json || true
fi
TORCH=("$PY" "$ROOT/bench/torch_gwae.py" --device cuda --iters "$ITERS" --warmup "$WARM" --latent 16 --batch 64)
with_memory torch_paper 150 "${TORCH[@]}" --image-size 64 --width 1 --n-critic 5 || true
run_step torch_paper_project 120 "${TORCH[@]}" --image-size 64 --width 1 --n-critic 5 --form project --no-flop-count || true
run_step torch_small 90 "${TORCH[@]}" --image-size 32 --width 0.25 --n-critic 2 --no-flop-count || true
if ((BUILT)); then
    RUN="$OUT/run"
    ((DRY)) || rm -rf "$RUN"
    if run_step train 180 "$GWAE" train --device cuda --dataset shapes --steps "$STEPS" --log-every 50 --out "$RUN"; then
        EVAL_DEVICE=()
        if ((DRY)); then
            echo "# (--device cuda is added to eval if \`gwae eval --help\` lists it)"
        elif "$GWAE" eval --help 2>&1 | grep -q -- '--device'; then
            EVAL_DEVICE=(--device cuda)
            echo "eval_device=cuda" >>"$OUT/env.txt"
        fi
        run_step eval 180 "$GWAE" eval "$RUN" "${EVAL_DEVICE[@]}" "${EVAL_LIMIT[@]}" || true
    fi
fi

((DRY)) && exit 0
echo >&2
rc=0
summarize "$OUT" "$OUT" || rc=1
((STEP_FAILED)) && rc=1
exit $rc
