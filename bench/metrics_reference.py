#!/usr/bin/env python3
"""metrics_reference.py - sets the C evaluation routines (gwae/gw_metrics.h) beside POT and
scikit-learn on random data and prints the differences. A reference script, not a test:
it fails nothing, it reports.

  GW: gw_gromov_wasserstein (square loss) against ot.gromov.gromov_wasserstein2 (conditional
      gradient) and ot.gromov.entropic_gromov_wasserstein2, same matrices, uniform weights.
  Forest: test MSE and importances of gw_forest against RandomForestRegressor(10 trees).
  DCI: gw_dci_score against the official protocol written with scikit-learn (67/33 split,
      depth from {2, 4, 8, 12} by 5-fold CV MSE, Gini importances, D/C entropies, 1 - 6 MSE).
  The forests draw different bootstrap samples, so forest and DCI numbers agree to sampling
  noise, not to the digit.

Usage: /usr/bin/python3 bench/metrics_reference.py [BUILD_DIR]  (default build-core, a Release
build of this repository). Needs numpy, POT and scikit-learn (Debian: python3-pot
python3-sklearn).
"""
import os
import subprocess
import sys
import tempfile

import numpy as np
import ot
from sklearn.ensemble import RandomForestRegressor
from sklearn.model_selection import cross_val_score, train_test_split

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def build_driver(build_dir, work):
    """Compiles bench/metrics_reference.c against the build's static libraries."""
    exe = os.path.join(work, "metrics_reference")
    libs = [os.path.join(build_dir, "lib%s.a" % n) for n in ("gwae", "nn", "autograd", "tensor")]
    cmd = ["cc", "-O2", "-std=c11", "-I", ROOT, os.path.join(ROOT, "bench", "metrics_reference.c")]
    cmd += libs + ["-lpng", "-ljpeg", "-lz", "-lopenblas", "-fopenmp", "-lm", "-o", exe]
    subprocess.run(cmd, check=True)
    return exe


def run(exe, *args):
    out = subprocess.run([exe] + [str(a) for a in args], check=True, capture_output=True, text=True)
    return [float(v) for v in out.stdout.split()]


def save(work, name, array):
    path = os.path.join(work, name)
    array.tofile(path)
    return path


def distances(points):
    d = np.sqrt(((points[:, None, :] - points[None, :, :]) ** 2).sum(-1))
    return d / d.max()


def compare_gw(exe, work, rng):
    print("GW, square loss (C vs POT %s); distances scaled to max 1" % ot.__version__)
    print("%-22s %-9s %16s %16s %10s" % ("case", "solver", "C", "POT", "|diff|"))
    cases = [("50 vs 50 pts, 3-D/2-D", 50, 50, 3, 2), ("40 vs 64 pts, 2-D/2-D", 40, 64, 2, 2),
             ("128 vs 128, 16-D/2-D", 128, 128, 16, 2)]
    for name, n, m, d1, d2 in cases:
        c1 = distances(rng.normal(size=(n, d1)))
        c2 = distances(rng.normal(size=(m, d2)))
        f1, f2 = save(work, "c1.f64", c1), save(work, "c2.f64", c2)
        p, q = ot.unif(n), ot.unif(m)
        for eps in (0.0, 5e-2, 5e-3):
            mine = run(exe, "gw", n, m, eps, "square", f1, f2)[0]
            if eps == 0.0:
                ref = ot.gromov.gromov_wasserstein2(c1, c2, p, q, "square_loss", numItermax=1000)
                solver = "CG"
            else:
                ref = ot.gromov.entropic_gromov_wasserstein2(c1, c2, p, q, "square_loss", eps)
                solver = "eps=%g" % eps
            print("%-22s %-9s %16.10g %16.10g %10.2e" % (name, solver, mine, ref, abs(mine - ref)))


def sklearn_dci(codes, factors):
    """The official DCI protocol (gwae-spec.md section 7) with scikit-learn."""
    lo, hi = factors.min(0), factors.max(0)
    factors = (factors - lo) / np.where(hi > lo, hi - lo, 1)
    x_tr, x_te, y_tr, y_te = train_test_split(codes, factors, test_size=0.33, random_state=42)
    best, best_depth = np.inf, 2
    for depth in (2, 4, 8, 12):
        mse = np.mean([-cross_val_score(RandomForestRegressor(n_estimators=10, max_depth=depth),
                                        x_tr, y_tr[:, k], cv=5,
                                        scoring="neg_mean_squared_error").mean()
                       for k in range(factors.shape[1])])
        if mse < best:
            best, best_depth = mse, depth
    dim, nf = codes.shape[1], factors.shape[1]
    r = np.zeros((dim, nf))
    info = []
    for k in range(nf):
        f = RandomForestRegressor(n_estimators=10, max_depth=best_depth).fit(x_tr, y_tr[:, k])
        r[:, k] = f.feature_importances_
        info.append(max(0.0, 1 - 6 * np.mean((f.predict(x_te) - y_te[:, k]) ** 2)))

    def one_minus_h(p, base):
        s = p.sum()
        if s <= 0:
            return 0.0
        p = p / s
        p = p[p > 0]
        return 1 + (p * np.log(p)).sum() / np.log(base)

    rho = r.sum(1) / r.sum()
    d = sum(rho[i] * one_minus_h(r[i], nf) for i in range(dim))
    c = np.mean([one_minus_h(r[:, k], dim) for k in range(nf)])
    return d, c, float(np.mean(info)), best_depth


def compare_dci(exe, work, rng):
    print("\nDCI (C vs scikit-learn %s, official protocol); n = 2000, 6 factors of 8 levels"
          % __import__("sklearn").__version__)
    print("%-28s %-22s %-22s" % ("code", "C: D C I depth", "sklearn: D C I depth"))
    n, nf = 2000, 6
    factors = np.floor(rng.random((n, nf)) * 8).astype(np.float32)
    noise = rng.normal(size=(n, 16)).astype(np.float32)
    mix = rng.normal(size=(nf, 16)).astype(np.float32)
    rot = np.linalg.qr(rng.normal(size=(nf, nf)))[0].astype(np.float32)
    codes = {
        "factors + noise 0.3, dim 16": np.hstack([factors + 0.3 * noise[:, :nf], noise[:, nf:]]),
        "rotated factors, dim 6": factors @ rot,
        "random mixture, dim 16": factors @ mix + 0.1 * noise,
        "noise only, dim 16": noise,
    }
    ff = save(work, "factors.f32", factors)
    for name, z in codes.items():
        z = np.ascontiguousarray(z, dtype=np.float32)
        fc = save(work, "codes.f32", z)
        mine = run(exe, "dci", n, z.shape[1], nf, 42, fc, ff)
        ref = sklearn_dci(z, factors)
        print("%-28s %.3f %.3f %.3f %-2d      %.3f %.3f %.3f %-2d" % (
            name, mine[0], mine[1], mine[2], int(mine[3]), *ref[:3], ref[3]))


def compare_forest(exe, work, rng):
    print("\nForest regression (10 trees, depth 8): test MSE and importance of feature 0")
    n, nt, dim = 3000, 1000, 5
    x = rng.random((n + nt, dim)).astype(np.float32)
    y = np.sin(6 * x[:, 0]) + 0.5 * x[:, 1] ** 2 + 0.05 * rng.normal(size=n + nt)
    fx, fy = save(work, "x.f32", x[:n]), save(work, "y.f64", y[:n].astype(np.float64))
    ft = save(work, "xt.f32", x[n:])
    out = run(exe, "forest", n, nt, dim, 8, fx, fy, ft)
    imp, pred = np.array(out[:dim]), np.array(out[dim:])
    sk = RandomForestRegressor(n_estimators=10, max_depth=8, random_state=0).fit(x[:n], y[:n])
    print("  C:       MSE %.5f  importances %s" % (np.mean((pred - y[n:]) ** 2),
                                                   np.array2string(imp, precision=3)))
    print("  sklearn: MSE %.5f  importances %s" % (np.mean((sk.predict(x[n:]) - y[n:]) ** 2),
                                                   np.array2string(sk.feature_importances_,
                                                                   precision=3)))


def main():
    build_dir = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "build-core"))
    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory() as work:
        exe = build_driver(build_dir, work)
        compare_gw(exe, work, rng)
        compare_forest(exe, work, rng)
        compare_dci(exe, work, rng)


if __name__ == "__main__":
    main()
