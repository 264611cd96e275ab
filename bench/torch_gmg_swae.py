#!/usr/bin/env python3
"""torch_gmg_swae.py - milliseconds per training iteration of beta-vae --gmg and of swae in
PyTorch beside the same models in this engine (the gwae program), in one sitting.

The PyTorch models are written here to match the C ones: the family's shared networks
(gwae/nets.c: logit input, k4 s2 p1 convs with replicate padding and SiLU, Linear 256, heads;
the mirrored decoder ending in a sigmoid), written inline because bench/torch_nets.py does not
exist on this branch; the Gromov-Monge gap exactly as gwae/models/gmg.c (cosine, squared
Euclidean or scaled costs, the decoder map on the sampled codes, entropic GW by linearisation
and log-domain Sinkhorn with the same thresholds and checks every 10 iterations, the plan
without a graph, the value floored by the identity coupling); swae exactly as
gwae/models/swae.c (nearest pseudo-input by the Gram form, the prior network, one decoder pass
over both codes, AdamNormGrad as its authors').

The C side is timed from the step_time_s of `gwae train --log-every 1` on generated shapes
(the same iteration: one optimizer step on one batch); both report the median over the steps
after the first few (warm-up). The solver's iteration count depends on the weights and the
batch, which the two sides draw differently: the GMG rows print the PyTorch side's mean
Sinkhorn iterations to show how much of the time is the solver's.

Configurations: paper (beta-vae: 64x64, batch 64, latent 10, width 1, Bernoulli reconstruction,
--gmg 1 with the defaults; swae: 32x32, batch 100, latent 40, K 4000, width 1) and tiny (the
test sizes, for a smoke test).

Usage: /usr/bin/python3 bench/torch_gmg_swae.py [--gwae build/gwae] [--config paper|tiny]
           [--steps N] [--threads N] [--model beta-vae-gmg|swae|all]
"""
import argparse
import json
import math
import os
import statistics
import subprocess
import tempfile
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WARMUP = 3


# ---- the shared networks (gwae/nets.c) ----

def widths(size, width):
    full = [32, 64, 128, 256]
    n = 4 if size == 64 else 3
    return [max(1, round(c * width)) for c in full[4 - n:]]


class Encoder(nn.Module):
    def __init__(self, size, latent, width, gaussian):
        super().__init__()
        ch, layers, c_in = widths(size, width), [], 3
        for c in ch:
            layers += [nn.ReplicationPad2d(1), nn.Conv2d(c_in, c, 4, 2, 0), nn.SiLU()]
            c_in = c
        hidden = max(1, round(256 * width))
        layers += [nn.Flatten(), nn.Linear(c_in * 16, hidden), nn.SiLU()]
        self.trunk = nn.Sequential(*layers)
        self.fc = nn.Linear(hidden, latent)
        self.fc_logvar = nn.Linear(hidden, latent) if gaussian else None

    def forward(self, x):
        p, q = x.clamp(1e-4, 1 - 1e-4), (1 - x).clamp(1e-4, 1 - 1e-4)
        h = self.trunk(p.log() - q.log())
        return self.fc(h), (self.fc_logvar(h) if self.fc_logvar is not None else None)


class Decoder(nn.Module):
    def __init__(self, size, latent, width):
        super().__init__()
        ch = widths(size, width)
        hidden = max(1, round(256 * width))
        layers = [nn.Linear(latent, hidden), nn.SiLU(), nn.Linear(hidden, ch[-1] * 16), nn.SiLU(),
                  nn.Unflatten(1, (ch[-1], 4, 4))]
        for i in range(len(ch) - 1, -1, -1):
            out = ch[i - 1] if i > 0 else 3
            layers += [nn.ConvTranspose2d(ch[i], out, 4, 2, 1)]
            if i > 0:
                layers += [nn.SiLU()]
        self.logits = nn.Sequential(*layers)

    def forward(self, z):
        return self.logits(z)


# ---- the Gromov-Monge gap (gwae/gw_entropic.c, gwae/models/gmg.c) ----

def cost_matrix(p, kind):
    x = p.flatten(1)
    sq = (x * x).sum(1, keepdim=True)
    if kind == "cosine":
        unit = x / (sq + 1e-12).sqrt()
        c = 1 - unit @ unit.t()
    else:
        c = F.relu(sq + sq.t() - 2 * (x @ x.t()))
    c = c * (1 - torch.eye(x.shape[0], dtype=x.dtype))
    if kind == "scaled-sqeuclidean":
        c = c / (c.mean() + 1e-12)
    return c


@torch.no_grad()
def entropic_plan(a, b, eps0, stats, inner_tol=1e-3, check=10, inner_max=2000, outer_min=5,
                  outer_max=50, outer_tol=1e-4):
    n, m = a.shape[0], b.shape[0]
    scale = float(a.abs().mean() * b.abs().mean())
    eps = max(eps0 * scale, 1e-20)
    alpha = 0.5 * (a * a).mean(1, keepdim=True)
    beta = 0.5 * (b * b).mean(1).reshape(1, m)
    plan = torch.full((n, m), 1.0 / (n * m))
    u, v = torch.zeros(n, 1), torch.zeros(1, m)
    log_a, log_b = -math.log(n), -math.log(m)
    previous, outer = float("nan"), 0
    while True:
        apb = a @ plan @ b
        r, c = plan.sum(1, keepdim=True), plan.sum(0, keepdim=True)
        cost = float((alpha * r).sum() + (beta * c).sum() - (apb * plan).sum())
        if outer >= outer_min and abs(cost - previous) <= outer_tol * (scale if scale > 0 else 1):
            break
        if outer == outer_max:
            break
        previous = cost
        k = apb * (-2.0 / eps)
        it = 0
        while it < inner_max:
            row = torch.logsumexp(v - k, 1, keepdim=True)
            if it > 0 and it % check == 0:
                err = float((torch.exp(u + row) - math.exp(log_a)).abs().sum())
                if err <= inner_tol:
                    break
            u = log_a - row
            v = log_b - torch.logsumexp(u - k, 0, keepdim=True)
            it += 1
        stats["inner"] += it
        plan = torch.exp(u + v - k)
        outer += 1
    kl = float((plan * (plan.clamp(1e-38, 1).log() + math.log(n) + math.log(m))).sum())
    return plan, eps, kl


def quadratic_cost(a, b, plan):
    r, c = plan.sum(1, keepdim=True), plan.sum(0, keepdim=True)
    ta = r.t() @ (a * a) @ r
    tb = c @ (b * b) @ c.t()
    return 0.5 * (ta + tb).sum() - ((a @ plan @ b.t()) * plan).sum()


def gmg(r, y, kind, eps0, regularised, stats):
    a, b = cost_matrix(r, kind), cost_matrix(y, kind)
    dst = 0.5 * ((a - b) ** 2).mean()
    plan, eps, kl = entropic_plan(a.detach(), b.detach(), eps0, stats)
    gw = quadratic_cost(a, b, plan) + (eps * kl if regularised else 0.0)
    own = dst + (eps * math.log(r.shape[0]) if regularised else 0.0)
    return dst - torch.where(gw < own, gw, own)


class BetaVaeGmg(nn.Module):
    def __init__(self, size, latent, width, beta=0.1, lam=1.0, cost="cosine", eps0=0.01):
        super().__init__()
        self.encoder = Encoder(size, latent, width, True)
        self.decoder = Decoder(size, latent, width)
        self.beta, self.lam, self.cost, self.eps0 = beta, lam, cost, eps0
        self.stats = {"inner": 0}

    def loss(self, x):
        mu, logvar = self.encoder(x)
        z = mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)
        logits = self.decoder(z)
        bce = F.binary_cross_entropy_with_logits(logits, x, reduction="none")
        rec = bce.flatten(1).sum(1).mean()
        kl = 0.5 * (mu * mu + logvar.exp() - logvar - 1).sum(1).mean()
        reg = gmg(z.detach(), torch.sigmoid(logits), self.cost, self.eps0, True, self.stats)
        return rec + self.beta * kl + self.lam * reg


# ---- the Symmetric WAE (gwae/models/swae.c) ----

class AdamNormGrad(torch.optim.Optimizer):
    """Its authors' optimizer: g / (|g| + 1e-7), then Adam with eps before the bias correction."""

    def __init__(self, params, lr, betas=(0.9, 0.999), eps=1e-8):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps))

    @torch.no_grad()
    def step(self):
        for group in self.param_groups:
            b1, b2 = group["betas"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                g = p.grad / (p.grad.norm(2) + 1e-7)
                st = self.state[p]
                if not st:
                    st["step"], st["m"], st["v"] = 0, torch.zeros_like(p), torch.zeros_like(p)
                st["step"] += 1
                st["m"].mul_(b1).add_(g, alpha=1 - b1)
                st["v"].mul_(b2).addcmul_(g, g, value=1 - b2)
                size = group["lr"] * math.sqrt(1 - b2 ** st["step"]) / (1 - b1 ** st["step"])
                p.addcdiv_(st["m"], st["v"].sqrt().add_(group["eps"]), value=-size)


class Swae(nn.Module):
    def __init__(self, size, latent, width, k, beta=0.5, lam=1.0):
        super().__init__()
        self.encoder = Encoder(size, latent, width, False)
        self.decoder = Decoder(size, latent, width)
        self.prior_net = Encoder(size, latent, width, True)
        self.pseudo = nn.Parameter(torch.rand(k, 3, size, size))
        self.beta, self.lam = beta, lam

    def loss(self, x):
        b = x.shape[0]
        z_e, _ = self.encoder(x)
        with torch.no_grad():
            u = self.pseudo.clamp(0, 1).flatten(1)
            d = (u * u).sum(1)[None, :] - 2 * x.flatten(1) @ u.t()
            idx = d.argmin(1)
        mu, logvar = self.prior_net(self.pseudo[idx].clamp(0, 1))
        z_d = mu + torch.exp(0.5 * logvar.clamp(-6, 2)) * torch.randn_like(mu)
        out = torch.sigmoid(self.decoder(torch.cat([z_e, z_d]))).clamp(1 / 512, 1 - 1 / 512)
        x_rec, x_d = out[:b], out[b:]
        rec = ((x_rec - x) ** 2).sum() / b
        x_loss = ((x_d - x) ** 2).sum() / b
        z_loss = ((z_e - z_d) ** 2).sum() / b
        return self.beta * x_loss + (1 - self.beta) * rec + self.lam * z_loss


# ---- timing ----

CONFIGS = {
    "paper": {"beta-vae-gmg": dict(size=64, batch=64, latent=10, width=1.0, lr=1e-4),
              "swae": dict(size=32, batch=100, latent=40, width=1.0, lr=5e-4, k=4000)},
    "tiny": {"beta-vae-gmg": dict(size=32, batch=8, latent=4, width=0.125, lr=1e-4),
             "swae": dict(size=32, batch=8, latent=4, width=0.125, lr=5e-4, k=64)},
}


def time_torch(name, c, steps):
    torch.manual_seed(1)
    if name == "swae":
        model = Swae(c["size"], c["latent"], c["width"], c["k"])
        opt = AdamNormGrad(model.parameters(), c["lr"])
    else:
        model = BetaVaeGmg(c["size"], c["latent"], c["width"])
        opt = torch.optim.Adam(model.parameters(), c["lr"])
    x = torch.rand(c["batch"], 3, c["size"], c["size"])
    times = []
    for _ in range(steps):
        t0 = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        model.loss(x).backward()
        opt.step()
        times.append(1e3 * (time.perf_counter() - t0))
    inner = model.stats["inner"] / steps if name != "swae" else None
    return statistics.median(times[WARMUP:]), inner


def time_c(gwae, name, c, steps, threads, work):
    run = os.path.join(work, name)
    count = max(200, int(1.3 * c.get("k", 0)) + 100)
    args = [gwae, "train", "--dataset", "shapes", "--shapes-count", str(count), "--image-size",
            str(c["size"]), "--batch", str(c["batch"]), "--latent", str(c["latent"]), "--width",
            str(c["width"]), "--lr", str(c["lr"]), "--warmup-steps", "0", "--steps", str(steps),
            "--log-every", "1", "--threads", str(threads), "--out", run]
    if name == "swae":
        args += ["--model", "swae", "--pseudo-inputs", str(c["k"])]
    else:
        args += ["--model", "beta-vae", "--reconstruction", "bernoulli", "--gmg", "1"]
    subprocess.run(args, check=True, capture_output=True)
    times = []
    with open(os.path.join(run, "log.jsonl")) as f:
        for line in f:
            o = json.loads(line)
            if o.get("event") == "step":
                times.append(1e3 * o["step_time_s"])
    return statistics.median(times[WARMUP:])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--gwae", default=os.path.join(ROOT, "build", "gwae"))
    ap.add_argument("--config", default="paper", choices=sorted(CONFIGS))
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--model", default="all", choices=["all", "beta-vae-gmg", "swae"])
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    print("ms per training iteration, median of steps %d..%d; %d thread(s); PyTorch %s" % (
        WARMUP + 1, args.steps, args.threads, torch.__version__))
    print("%-13s %-6s %10s %10s %7s %16s" % ("model", "config", "engine", "PyTorch", "ratio",
                                             "torch Sinkhorn/it"))
    with tempfile.TemporaryDirectory() as work:
        for name, c in CONFIGS[args.config].items():
            if args.model not in ("all", name):
                continue
            mine = time_c(args.gwae, name, c, args.steps, args.threads, work)
            theirs, inner = time_torch(name, c, args.steps)
            print("%-13s %-6s %10.1f %10.1f %7.2f %16s" % (
                name, args.config, mine, theirs, mine / theirs,
                "-" if inner is None else "%.0f" % inner))


if __name__ == "__main__":
    main()
