#!/usr/bin/env python3
# torch_rae.py - PyTorch (CPU) references for the relational autoencoders' timings:
#   --samplers: the sphere samplers of gwae/models/sphere.c written in PyTorch (uniform, vMF by
#     Wood's rejection with the same blocks of 2 candidates per waiting lane and the acceptance
#     test of relatives-sources.md 1.4, power spherical as the power_spherical package draws it:
#     a Beta marginal and the Householder map), with bench/bench_sphere.c's case names and
#     line format, so that the two pair up in one sitting;
#   --model NAME|all: ms per training iteration of rae-sfg, rae-ssfg, rae-mssfg, rae-pssfg and
#     rae-max-sfg as `gwae bench` times them: the project's networks (gwae/nets.c: logit input,
#     k4 s2 p1 convs with SiLU and replicate padding, linear 256, mu head; the mirror decoder
#     with a sigmoid), the rae-gmm prior (K 10, round-robin), the loss
#     mean_b 0.5 sum (x - x')^2 + gamma SFG / (2B), the direction search (T Adam steps on the
#     locations, detached batches, renormalised) and one Adam step over encoder, decoder and
#     prior; "paper" is 64x64x3, batch 64, L 16, width 1, "small" 32x32, width 0.25 (the
#     configurations of `gwae bench`), one warm-up iteration then the median of --iters.
# A benchmark reference only; nothing imports it. Threads are set up as bench/torch_ops.py
# does (OMP_NUM_THREADS before the import, set_num_threads, OPENBLAS/MKL_NUM_THREADS=1).
#
# Usage: /usr/bin/python3 bench/torch_rae.py --samplers [--n 550] [--dims 8,64,512,4096]
#        /usr/bin/python3 bench/torch_rae.py --model all [--config paper|small|all] [--iters 5]
#        common: [--threads N] [--reps N] [--warmup N] [--json]

import argparse
import json
import math
import os
import statistics
import sys
import time


def parse_args():
    p = argparse.ArgumentParser(description="PyTorch timings of the relational autoencoders")
    p.add_argument("--samplers", action="store_true", help="time the sphere samplers")
    p.add_argument("--model", default=None,
                   help="rae-sfg, rae-ssfg, rae-mssfg, rae-pssfg, rae-max-sfg or all")
    p.add_argument("--config", choices=["paper", "small", "all"], default="all")
    p.add_argument("--iters", type=int, default=5)
    p.add_argument("--n", type=int, default=550)
    p.add_argument("--dims", default="8,64,512,4096")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--reps", type=int, default=20)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--json", action="store_true")
    p.add_argument("--seed", type=int, default=1)
    return p.parse_args()


ARGS = parse_args()
os.environ["OMP_NUM_THREADS"] = str(ARGS.threads)
for _v in ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_v] = "1"

import torch  # noqa: E402  (after the thread variables are set)
from torch import nn  # noqa: E402

torch.set_num_threads(ARGS.threads)
BLOCK = 2  # candidates per waiting lane and round, as sphere.c


# ---- samplers ----

def uniform_sphere(n, d):
    g = torch.randn(n, d)
    return g / g.pow(2).sum(1, keepdim=True).clamp_min(1e-30).sqrt()


def vmf_marginal(n, d, kappa, stats=None):
    m1 = d - 1.0
    root = math.sqrt(4 * kappa * kappa + m1 * m1)
    b = m1 / (2 * kappa + root)
    a = (m1 + 2 * kappa + root) / 4
    scale, shift = 2 * a * b / m1, 4 * a * b / (1 + b) - m1
    beta = torch.distributions.Beta(torch.tensor(m1 / 2), torch.tensor(m1 / 2))
    out = torch.zeros(n)
    lanes = torch.arange(n)
    while lanes.numel() > 0:
        r = lanes.numel()
        e = beta.sample((r, BLOCK))
        u = torch.rand(r, BLOCK)
        den = 1 - (1 - b) * e
        w = (1 - (1 + b) * e) / den
        x = scale / den
        accept = (m1 * (torch.log(x) - x + 1) + shift) >= torch.log(u)
        got, first = accept.max(1)
        out[lanes[got]] = w.gather(1, first[:, None])[:, 0][got]
        if stats is not None:
            stats["candidates"] += r * BLOCK
            stats["accepted"] += int(accept.sum())
            stats["rounds"] += 1
        lanes = lanes[~got]
    return out


def power_marginal(n, d, kappa):
    half = (d - 1) / 2.0
    beta = torch.distributions.Beta(torch.tensor(half + kappa), torch.tensor(half))
    return beta.sample((n,)) * 2 - 1


def sphere_base(law, n, d, kappa, stats=None):
    if law == "uniform":
        return uniform_sphere(n, d)
    w = vmf_marginal(n, d, kappa, stats) if law == "vmf" else power_marginal(n, d, kappa)
    v = uniform_sphere(n, d - 1)
    radius = (1 - w * w).clamp(0, 1).sqrt()
    return torch.cat([w[:, None], radius[:, None] * v], 1)


def householder(mu, y):
    e1 = torch.zeros(1, mu.shape[1])
    e1[0, 0] = 1
    diff = e1 - mu
    u = diff / (diff.pow(2).sum(1, keepdim=True) + 1e-14).sqrt()
    return y - 2 * (y * u).sum(1, keepdim=True) * u


def sphere_place(mu, y):
    k = mu.shape[0]
    return householder(mu if k == 1 else mu[torch.arange(y.shape[0]) % k], y)


def time_sampler(law, d, kappa):
    mu = uniform_sphere(1, d)
    ts, stats = [], {"candidates": 0, "accepted": 0, "rounds": 0}
    for r in range(-ARGS.warmup, ARGS.reps):
        if r == 0:
            stats = {"candidates": 0, "accepted": 0, "rounds": 0}
        t0 = time.clock_gettime_ns(time.CLOCK_MONOTONIC)
        y = sphere_base(law, ARGS.n, d, kappa, stats if law == "vmf" else None)
        if law != "uniform":
            sphere_place(mu, y)
        t1 = time.clock_gettime_ns(time.CLOCK_MONOTONIC)
        if r >= 0:
            ts.append((t1 - t0) * 1e-6)
    name = f"uniform_d{d}" if law == "uniform" else f"{law}_d{d}_k{kappa:g}"
    accept = stats["accepted"] / stats["candidates"] if stats["candidates"] else 1.0
    rounds = stats["rounds"] / ARGS.reps
    med, mn = statistics.median(ts), min(ts)
    if ARGS.json:
        print(json.dumps({"impl": "torch", "case": name, "law": law, "d": d,
                          "kappa": 0 if law == "uniform" else kappa, "n": ARGS.n, "device": "cpu",
                          "ms_median": round(med, 4), "ms_min": round(mn, 4),
                          "accept": round(accept, 4), "rounds": round(rounds, 2),
                          "threads": torch.get_num_threads(), "reps": ARGS.reps,
                          "torch": torch.__version__}))
    else:
        print(f"{name:<20s} n {ARGS.n:<6d} cpu  median {med:9.4f} ms  min {mn:9.4f} ms  "
              f"accept {accept:.3f}  rounds {rounds:5.2f}  threads {torch.get_num_threads()}")
    sys.stdout.flush()


# ---- sliced fused GW and the search (gwae/models/sliced_fgw.c) ----

def pow_abs(x, p):
    return x * x if p == 2 else x.abs().pow(p)


def fused(a, pair_a, b, p, beta):
    w = pow_abs(a - b, p).sum(0)
    gw = pow_abs(pair_a - pow_abs(b[:, None] - b[None], p), p).mean((0, 1))
    return (1 - beta) * w + beta * gw


def sliced_fgw(z, y, theta, p, beta):
    a = (z @ theta.t()).sort(0)[0]
    b = (y @ theta.t()).sort(0)[0]
    pair_a = pow_abs(a[:, None] - a[None], p)
    up, down = fused(a, pair_a, b, p, beta), fused(a, pair_a, b.flip(0), p, beta)
    return torch.where(up <= down, up, down).sum()


def discrepancy(kind, o, z, y):
    d, L = z.shape[1], o["projections"]
    if kind == "gaussian":
        return sliced_fgw(z, y, torch.randn(L, d), o["power"], o["beta"])
    k = 1 if kind == "max" else o["mixture"]
    eps = uniform_sphere(k, d)
    T = o["steps"]
    base = None if kind == "max" else sphere_base(kind, (T + 1) * L, d, o["kappa"])
    zd, yd = z.detach(), y.detach()
    leaf = eps.clone().requires_grad_(True)
    opt = torch.optim.Adam([leaf], lr=o["lr"], maximize=True)
    for t in range(T):
        theta = leaf if kind == "max" else sphere_place(leaf, base[t * L:(t + 1) * L])
        f = sliced_fgw(zd, yd, theta, o["power"], o["beta"])
        opt.zero_grad()
        f.backward()
        opt.step()
        with torch.no_grad():
            leaf /= leaf.pow(2).sum(1, keepdim=True).sqrt()
    with torch.no_grad():
        theta = leaf.detach() if kind == "max" else sphere_place(leaf.detach(), base[T * L:])
    return sliced_fgw(z, y, theta, o["power"], o["beta"])


# ---- the model (gwae/nets.c, gwae/priors/rae_gmm.c, gwae/models/rae.c) ----

def width(base, w):
    return max(1, int(round(base * w)))


class Logit(nn.Module):
    def forward(self, x):
        return torch.log(x.clamp(1e-4, 1 - 1e-4)) - torch.log((1 - x).clamp(1e-4, 1 - 1e-4))


def encoder(size, latent, w):
    ch = [width(c, w) for c in ([32, 64, 128, 256] if size == 64 else [64, 128, 256])]
    layers, cin = [Logit()], 3
    for c in ch:
        layers += [nn.Conv2d(cin, c, 4, 2, 1, padding_mode="replicate"), nn.SiLU()]
        cin = c
    hidden = width(256, w)
    layers += [nn.Flatten(1), nn.Linear(cin * 16, hidden), nn.SiLU(), nn.Linear(hidden, latent)]
    return nn.Sequential(*layers)


def decoder(size, latent, w):
    ch = [width(c, w) for c in ([32, 64, 128, 256] if size == 64 else [64, 128, 256])]
    hidden = width(256, w)
    layers = [nn.Linear(latent, hidden), nn.SiLU(), nn.Linear(hidden, ch[-1] * 16), nn.SiLU(),
              nn.Unflatten(1, (ch[-1], 4, 4))]
    for i in range(len(ch) - 1, -1, -1):
        out = ch[i - 1] if i > 0 else 3
        layers += [nn.ConvTranspose2d(ch[i], out, 4, 2, 1), nn.SiLU() if i > 0 else nn.Sigmoid()]
    return nn.Sequential(*layers)


class Prior(nn.Module):
    def __init__(self, k, latent):
        super().__init__()
        self.mu = nn.Parameter(torch.randn(k, latent))
        self.logvar = nn.Parameter(torch.randn(k, latent))

    def forward(self, n):
        idx = torch.arange(n) % self.mu.shape[0]
        return self.mu[idx] + torch.randn(n, self.mu.shape[1]) * (0.5 * self.logvar[idx]).exp()


KINDS = {"rae-sfg": "gaussian", "rae-ssfg": "vmf", "rae-mssfg": "vmf", "rae-pssfg": "power",
         "rae-max-sfg": "max"}


def time_model(name, config):
    size, w = (64, 1.0) if config == "paper" else (32, 0.25)
    batch, latent = 64, 16
    o = {"projections": 50, "power": 2.0, "beta": 0.1, "gamma": 1.0, "kappa": 50.0,
         "mixture": 10 if name == "rae-mssfg" else 1, "steps": 10, "lr": 1e-4}
    torch.manual_seed(ARGS.seed)
    enc, dec, prior = encoder(size, latent, w), decoder(size, latent, w), Prior(10, latent)
    params = list(enc.parameters()) + list(dec.parameters()) + list(prior.parameters())
    opt = torch.optim.Adam(params, lr=1e-4 if config == "paper" else 5e-4)
    x = torch.rand(batch, 3, size, size)

    def step():
        z = enc(x)
        rec = 0.5 * (x - dec(z)).pow(2).flatten(1).sum(1).mean()
        sfg = discrepancy(KINDS[name], o, z, prior(batch))
        loss = rec + o["gamma"] / (2 * batch) * sfg
        opt.zero_grad()
        loss.backward()
        opt.step()

    step()  # warm-up, as gwae bench
    ts = []
    for _ in range(ARGS.iters):
        t0 = time.clock_gettime_ns(time.CLOCK_MONOTONIC)
        step()
        ts.append((time.clock_gettime_ns(time.CLOCK_MONOTONIC) - t0) * 1e-6)
    med = statistics.median(ts)
    if ARGS.json:
        print(json.dumps({"impl": "torch", "model": name, "config": config, "device": "cpu",
                          "image_size": size, "batch": batch, "latent": latent, "width": w,
                          "threads": torch.get_num_threads(), "iters": ARGS.iters,
                          "ms_per_iter_median": round(med, 2), "torch": torch.__version__}))
    else:
        print(f"{name:<11s} {config:<6s} cpu    {size:5d} {batch:6d} {latent:6d} {w:6.3g} "
              f"{torch.get_num_threads():8d} {med:14.1f}")
    sys.stdout.flush()


def main():
    if not ARGS.samplers and not ARGS.model:
        sys.exit("torch_rae.py: give --samplers or --model NAME|all")
    if ARGS.samplers:
        for d in (int(v) for v in ARGS.dims.split(",")):
            for kappa in (10.0, 100.0):
                time_sampler("vmf", d, kappa)
                time_sampler("power", d, kappa)
            time_sampler("uniform", d, 0.0)
    if ARGS.model:
        names = list(KINDS) if ARGS.model == "all" else [ARGS.model]
        if not ARGS.json:
            print("model       config device  size  batch latent  width  threads  ms/iter(med)")
        for name in names:
            if name not in KINDS:
                sys.exit(f"torch_rae.py: unknown model {name}")
            for config in (["paper", "small"] if ARGS.config == "all" else [ARGS.config]):
                time_model(name, config)


if __name__ == "__main__":
    main()
