#!/usr/bin/env python3
# torch_ops.py - PyTorch (CPU) reference timings for bench/bench_ops.c: the same seven cases at
# the same shapes, printed in the same line format (or the same JSON with --json), so that
# bench/run_bench.sh can pair them. A benchmark reference only; nothing else imports it.
#
# Cases (see bench_ops.c for the shapes):
#   conv2d_fwd, conv2d_fwd_bwd, conv_transpose2d_fwd, conv_transpose2d_fwd_bwd,
#   linear_fwd, linear_fwd_bwd, critic_x_gp_double_backward (the critic x-branch WITHOUT
#   spectral norm: 6 convs k4 s2 p1 + LeakyReLU(0.2), linear 256->64, f = sum,
#   g = autograd.grad(f, xhat, create_graph=True), P = 10 mean_n (sqrt(sum_chw g^2 + 1e-12) - 1)^2,
#   P.backward()).
# "fwd" runs under torch.no_grad(); "fwd_bwd" gets dX, dW, db from torch.autograd.grad seeded
# with a fixed random upstream gradient (the C side uses ag_grad the same way).
#
# Threads and heap are set up as in ../shared/bench/torch_anchor.py: OMP_NUM_THREADS=N before
# torch is imported and torch.set_num_threads(N); OPENBLAS_NUM_THREADS=MKL_NUM_THREADS=1
# (Debian's torch calls a pthread OpenBLAS whose own pool would oversubscribe the cores);
# --heap retain re-executes with MALLOC_MMAP_MAX_=0 MALLOC_TRIM_THRESHOLD_=16 GiB so freed
# memory is reused instead of mmap'ed and faulted in again (closer to our caching allocator).
#
# Usage: /usr/bin/python3 bench/torch_ops.py [--threads N] [--heap default|retain]
#            [--reps N] [--warmup N] [--case NAME|SUBSTRING] [--json]

import argparse
import json
import os
import statistics
import sys
import time


def parse_args():
    p = argparse.ArgumentParser(description="PyTorch CPU timings of bench_ops.c's cases")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--heap", choices=["default", "retain"], default="default")
    p.add_argument("--reps", type=int, default=20)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--case", default=None, help="a case name (only that case) or a substring of the names")
    p.add_argument("--json", action="store_true")
    p.add_argument("--seed", type=int, default=0)
    return p.parse_args()


ARGS = parse_args()
HEAP_RETAIN_ENV = {"MALLOC_MMAP_MAX_": "0", "MALLOC_TRIM_THRESHOLD_": str(16 << 30)}
if ARGS.heap == "retain" and any(os.environ.get(k) != v for k, v in HEAP_RETAIN_ENV.items()):
    os.execve(sys.executable, [sys.executable] + sys.argv, dict(os.environ, **HEAP_RETAIN_ENV))
os.environ["OMP_NUM_THREADS"] = str(ARGS.threads)
for _v in ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_v] = "1"

import torch  # noqa: E402  (after the thread variables are set)
from torch import nn  # noqa: E402

torch.set_num_threads(ARGS.threads)
B = 64


def make_cases():
    torch.manual_seed(ARGS.seed)
    cases = []

    # conv2d 3->32 k4 s2 p1 with bias on x[64,3,64,64]
    conv = nn.Conv2d(3, 32, 4, 2, 1)
    cx = torch.randn(B, 3, 64, 64, requires_grad=True)
    cgo = torch.randn(B, 32, 32, 32)

    def conv_fwd():
        with torch.no_grad():
            conv(cx)

    def conv_fb():
        torch.autograd.grad(conv(cx), [cx, conv.weight, conv.bias], cgo)

    cases += [("conv2d_fwd", "x[64,3,64,64] w[32,3,4,4] s2p1 +b", conv_fwd),
              ("conv2d_fwd_bwd", "x[64,3,64,64] w[32,3,4,4] s2p1 +b; dX,dW,db", conv_fb)]

    # conv_transpose2d 32->3 k4 s2 p1 with bias, [64,32,32,32] -> [64,3,64,64]
    ct = nn.ConvTranspose2d(32, 3, 4, 2, 1)
    tx = torch.randn(B, 32, 32, 32, requires_grad=True)
    tgo = torch.randn(B, 3, 64, 64)

    def ct_fwd():
        with torch.no_grad():
            ct(tx)

    def ct_fb():
        torch.autograd.grad(ct(tx), [tx, ct.weight, ct.bias], tgo)

    cases += [("conv_transpose2d_fwd", "x[64,32,32,32] w[32,3,4,4] s2p1 +b -> [64,3,64,64]",
               ct_fwd),
              ("conv_transpose2d_fwd_bwd", "x[64,32,32,32] w[32,3,4,4] s2p1 +b; dX,dW,db",
               ct_fb)]

    # linear 4096->256 at batch 64 (weight [256,4096], addmm with its transpose)
    lin = nn.Linear(4096, 256)
    lx = torch.randn(B, 4096, requires_grad=True)
    lgo = torch.randn(B, 256)

    def lin_fwd():
        with torch.no_grad():
            lin(lx)

    def lin_fb():
        torch.autograd.grad(lin(lx), [lx, lin.weight, lin.bias], lgo)

    cases += [("linear_fwd", "x[64,4096] W[256,4096]^T +b", lin_fwd),
              ("linear_fwd_bwd", "x[64,4096] W[256,4096]^T +b; dX,dW,db", lin_fb)]

    # critic x-branch without spectral norm, gradient-penalty double backward
    ch = [3, 8, 16, 32, 64, 128, 256]
    layers = []
    for i in range(6):
        layers += [nn.Conv2d(ch[i], ch[i + 1], 4, 2, 1), nn.LeakyReLU(0.2)]
    critic = nn.Sequential(*layers, nn.Flatten(1), nn.Linear(256, 64))
    xhat = torch.rand(B, 3, 64, 64).mul_(2).sub_(1).requires_grad_(True)

    def critic_gp():
        critic.zero_grad(set_to_none=True)
        xhat.grad = None
        f = critic(xhat).sum()
        (g,) = torch.autograd.grad(f, xhat, create_graph=True)
        penalty = 10 * ((g.pow(2).sum((1, 2, 3)) + 1e-12).sqrt() - 1).pow(2).mean()
        penalty.backward()

    cases.append(("critic_x_gp_double_backward",
                  "x[64,3,64,64] 6 conv 3->..->256 +lin 256->64, no SN", critic_gp))
    return cases


def time_case(fn):
    for _ in range(ARGS.warmup):
        fn()
    ts = []
    for _ in range(ARGS.reps):
        t0 = time.clock_gettime_ns(time.CLOCK_MONOTONIC)
        fn()
        ts.append((time.clock_gettime_ns(time.CLOCK_MONOTONIC) - t0) * 1e-6)
    return statistics.median(ts), min(ts)


def main():
    threads = torch.get_num_threads()
    cases = make_cases()
    exact = any(name == ARGS.case for name, _, _ in cases)  # an exact name selects only it
    for name, shape, fn in cases:
        if ARGS.case and (name != ARGS.case if exact else ARGS.case not in name):
            continue
        med, mn = time_case(fn)
        if ARGS.json:
            print(json.dumps({"impl": "torch", "case": name, "shape": shape,
                              "ms_median": round(med, 3), "ms_min": round(mn, 3),
                              "threads": threads, "reps": ARGS.reps, "warmup": ARGS.warmup,
                              "heap": ARGS.heap, "torch": torch.__version__}))
        else:
            print(f"{name:<28s} {shape:<52s} median {med:9.3f} ms  min {mn:9.3f} ms  "
                  f"threads {threads}")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
