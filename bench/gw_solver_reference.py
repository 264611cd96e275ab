#!/usr/bin/env python3
"""gw_solver_reference.py - the engine's entropic Gromov-Wasserstein solver (gwae/gw_entropic.h,
run by the bench_gw_solver program) beside POT's entropic_gromov_wasserstein2 on the same random
problems: values, plans and median times. A reference script, not a test: it prints, and says
whether each problem is within the stated tolerance.

The two solve the same iterations: the engine's objective is E = sum 1/2 (A_ik - B_jl)^2 P_ij P_kl
with eps KL(P || a b^T); POT's square loss has no 1/2, so POT is run with 2 eps and its value is
2 E. Both start from a b^T and linearise at each step; POT's Sinkhorn is in the scaling domain
(float64), the engine's in the log domain (float32).

Problems: n points in d1 dimensions against m points in d2 (Gaussian), squared Euclidean costs
divided by their mean (so that eps = eps0) or cosine distances 1 - cos. Tolerance: the GW value
within 1e-4 relative (float32 Sinkhorn stopped at a 1e-5 marginal error, POT's at 1e-9 in
float64). The largest plan difference is printed (in units of the uniform mass 1 / (n m)) but
not judged: the problem is not convex, and at these eps distinct stationary plans can have
values within 1e-5 of each other, so a plan far from POT's with the same value is no error.

Usage: /usr/bin/python3 bench/gw_solver_reference.py [BUILD_DIR] [--sizes 16,64,128]
           [--eps 0.1,0.05] [--reps N] [--threads N]
BUILD_DIR (default build) holds bench_gw_solver. Needs numpy and POT (Debian: python3-pot).
"""
import argparse
import json
import os
import subprocess
import tempfile
import time
import warnings

import numpy as np
import ot

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VALUE_RTOL = 1e-4


def costs(points, kind):
    if kind == "cosine":
        unit = points / np.linalg.norm(points, axis=1, keepdims=True)
        c = 1.0 - unit @ unit.T
    else:
        c = ((points[:, None, :] - points[None, :, :]) ** 2).sum(-1)
        c = c / c.mean()
    np.fill_diagonal(c, 0.0)
    return c.astype(np.float32)


def problems(sizes, rng):
    out = []
    for n in sizes:
        for kind in ("sqeuclidean", "cosine"):
            m = n if kind == "cosine" else max(8, (3 * n) // 4)
            a = costs(rng.normal(size=(n, 5)), kind)
            b = costs(rng.normal(size=(m, 3)), kind)
            out.append(("%s n=%d m=%d" % (kind, n, m), a, b))
    return out


def write(path, cases):
    with open(path, "wb") as f:
        for _, a, b in cases:
            np.array([a.shape[0], b.shape[0]], dtype="<i4").tofile(f)
            a.astype("<f4").tofile(f)
            b.astype("<f4").tofile(f)


def run_c(exe, path, eps0, reps, training, threads):
    args = [exe, path, str(eps0), "--reps", str(reps)] + (["--training"] if training else [])
    env = dict(os.environ, OMP_NUM_THREADS=str(threads))
    out = subprocess.run(args, check=True, capture_output=True, text=True, env=env).stdout
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def run_pot(a, b, eps, reps):
    a, b = a.astype(np.float64), b.astype(np.float64)
    p, q = ot.unif(a.shape[0]), ot.unif(b.shape[0])
    times = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for _ in range(reps):
            t0 = time.perf_counter()
            value, log = ot.gromov.entropic_gromov_wasserstein2(
                a, b, p, q, "square_loss", 2 * eps, max_iter=1000, tol=1e-9, log=True)
            times.append(1e3 * (time.perf_counter() - t0))
    return value, log["T"], float(np.median(times)), len(caught)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("build", nargs="?", default=os.path.join(ROOT, "build"))
    ap.add_argument("--sizes", default="16,64,128")
    ap.add_argument("--eps", default="0.1,0.05")
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    exe = os.path.join(args.build, "bench_gw_solver")
    rng = np.random.default_rng(7)
    cases = problems([int(s) for s in args.sizes.split(",")], rng)
    print("entropic GW: engine (float32, log domain) vs POT %s entropic_gromov_wasserstein2 "
          "(float64); %d thread(s), median of %d" % (ot.__version__, args.threads, args.reps))
    print("tolerance: value %.0e relative; plan diff in units of 1/(nm), not judged" % VALUE_RTOL)
    print("%-24s %5s %14s %14s %9s %9s %9s %9s %9s %4s" % (
        "problem", "eps0", "C 2E", "POT", "rel diff", "plan diff", "C ms", "C-train", "POT ms",
        "ok"))
    failures = 0
    with tempfile.TemporaryDirectory() as work:
        path = os.path.join(work, "problems.bin")
        write(path, cases)
        for eps0 in [float(e) for e in args.eps.split(",")]:
            tight = run_c(exe, path, eps0, args.reps, False, args.threads)
            plans = np.fromfile(path + ".plans", dtype="<f4")
            train = run_c(exe, path, eps0, args.reps, True, args.threads)
            at = 0
            for (name, a, b), mine, fast in zip(cases, tight, train):
                n, m = a.shape[0], b.shape[0]
                plan = plans[at:at + n * m].reshape(n, m)
                at += n * m
                value, ref_plan, pot_ms, warned = run_pot(a, b, mine["eps"], args.reps)
                rel = abs(mine["value_sq"] - value) / abs(value)
                plan_diff = np.abs(plan - ref_plan).max() * n * m
                ok = rel <= VALUE_RTOL
                failures += not ok
                print("%-24s %5g %14.8g %14.8g %9.1e %9.1e %9.3g %9.3g %9.3g %4s%s" % (
                    name, eps0, mine["value_sq"], value, rel, plan_diff, mine["ms_median"],
                    fast["ms_median"], pot_ms, "yes" if ok else "NO",
                    " (POT warned %d times)" % warned if warned else ""))
    print("%d problem(s) outside the tolerance" % failures)


if __name__ == "__main__":
    main()
