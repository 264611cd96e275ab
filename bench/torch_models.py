#!/usr/bin/env python3
"""torch_models.py - the baselines of the official framework (vaetc, as in
../shared/reference/relatives-sources.md section 4.2) in PyTorch, on the GWAE's own encoder and
decoder (bench/torch_nets.py: no batch norm, replicate padding, the same widths), timed as
bench/torch_gwae.py times the GWAE: one training step per iteration on a fixed random batch.

Models (--model), B the batch, sums over pixels or latent dimensions, means over the batch:
  ae          deterministic encoder (the mu head only, z = mu); loss rec
  vae         Gaussian encoder, z = mu + sigma eps; loss rec + KL,
              KL = 1/2 sum (mu^2 + sigma^2 - log sigma^2 - 1)
  beta-vae    rec + beta KL, beta = 0.1 (--beta)
  beta-tcvae  rec + KL + (beta - 1) TC, beta = 2 (--beta). TC = mean_i [log q(z_i) -
              sum_k log q(z_ik)], from the [B, B, L] Gaussian log densities
              log q(z_ik | x_j): --tc-estimator mws (default; Chen et al. 2018's minibatch-
              weighted sampling) takes log q(z_i) = logsumexp_j log q(z_i | x_j) - log(B N)
              and the same per dimension, N = --dataset-size; full-batch (the official
              framework's) takes - log B instead of - log(B N)
  factorvae   rec + KL + gamma mean_i (D(z_i)_0 - D(z_i)_1), gamma = 0.1 (--gamma), with D an
              MLP L -> 1000 (x5 hidden layers of 1000, LeakyReLU 0.2) -> 2 and log-softmax,
              frozen during the main step; then one discriminator step (Adam lr 1e-3, betas
              (0.5, 0.9)) on 1/2 (NLL(D(z), 0) + NLL(D(perm z), 1)), perm z permuting every
              latent dimension independently across the batch, z detached from the main step
              (--disc-batch same, default) or the encoder's sample of the batch's second half
              while the main step uses the first (--disc-batch half, as the FactorVAE paper)
  wae-mmd     the InfoVAE form of the framework: rec + (1 - alpha) KL + (alpha + lambda - 1)
              MMD, alpha = 0.9, lambda = 100 (--alpha, --lambda-mmd); MMD^2 between z ~ q(z|x)
              and B prior draws N(0, I), the biased estimator with the diagonals,
              mean k(z, z') + mean k(p, p') - 2 mean k(z, p); --kernel rbf (default, the
              framework's): k(a, b) = exp(-||a - b||^2 / L), i.e. exp(-mean_d (a_d - b_d)^2);
              imq: k(a, b) = C / (C + ||a - b||^2), C = 2 L (Tolstikhin et al. for N(0, I))
rec (--reconstruction): gaussian (default) 1/2 sum (x - x_hat)^2, x_hat the sigmoid output;
  bernoulli: binary cross-entropy with logits summed over pixels, the logits being the
  decoder's output before its sigmoid.
Main optimiser: Adam with PyTorch's default betas, lr 1e-4 (--lr), over encoder and decoder.

Output: one JSON line. Timing mode (default): ms per iteration (median of --iters after
--warmup), on CUDA after torch.cuda.synchronize() and with peak_gpu_mib. --steps N --rss:
N training steps untimed, then max_rss_mib (resource.getrusage: the process's peak resident
memory, the interpreter and PyTorch included) for memory comparisons.

Usage: python3 bench/torch_models.py --model NAME [--device cpu|cuda] [--image-size 64|32]
           [--width W] [--latent L] [--batch B] [--iters N] [--warmup N] [--threads N]
           [--reconstruction gaussian|bernoulli] [--steps N --rss]
"""

import argparse
import json
import math
import resource

from torch_nets import (Decoder, Encoder, add_common_options, count_params, gaussian_sample,
                        random_batch, resolve_device, time_iterations, timing_fields, torch)
from torch import nn
from torch.nn import functional as F

MODELS = ("ae", "vae", "beta-vae", "beta-tcvae", "factorvae", "wae-mmd")
DEFAULT_BETA = {"beta-vae": 0.1, "beta-tcvae": 2.0}


def parse_args(argv=None):
    p = argparse.ArgumentParser(description="baseline autoencoders on the GWAE networks, timed")
    p.add_argument("--model", choices=MODELS, required=True)
    add_common_options(p)
    p.add_argument("--reconstruction", choices=["gaussian", "bernoulli"], default="gaussian")
    p.add_argument("--lr", type=float, default=1e-4, help="Adam learning rate of the model")
    p.add_argument("--beta", type=float, default=None,
                   help="beta-vae: KL weight (0.1); beta-tcvae: TC weight is beta - 1 (beta 2)")
    p.add_argument("--tc-estimator", choices=["mws", "full-batch"], default="mws")
    p.add_argument("--dataset-size", type=int, default=60000,
                   help="N of the minibatch-weighted TC estimator (Fashion-MNIST's 60000)")
    p.add_argument("--gamma", type=float, default=0.1, help="factorvae: TC weight")
    p.add_argument("--disc-batch", choices=["same", "half"], default="same",
                   help="factorvae: the discriminator's batch (see the header)")
    p.add_argument("--alpha", type=float, default=0.9, help="wae-mmd: alpha")
    p.add_argument("--lambda-mmd", type=float, default=100.0, help="wae-mmd: lambda")
    p.add_argument("--kernel", choices=["rbf", "imq"], default="rbf", help="wae-mmd: kernel")
    p.add_argument("--steps", type=int, default=0, help="with --rss: training steps to run")
    p.add_argument("--rss", action="store_true", help="print the peak RSS after --steps steps")
    args = p.parse_args(argv)
    if args.beta is None:
        args.beta = DEFAULT_BETA.get(args.model, 1.0)
    if args.rss and args.steps < 1:
        p.error("--rss needs --steps N with N >= 1")
    if args.iters < 1 or args.warmup < 0 or args.batch < 2:
        p.error("need --iters >= 1, --warmup >= 0, --batch >= 2")
    if args.model == "factorvae" and args.disc_batch == "half" and args.batch < 4:
        p.error("--disc-batch half needs --batch >= 4")
    return args


class Discriminator(nn.Module):
    """FactorVAE's D: L -> 1000 (5 hidden layers, LeakyReLU 0.2) -> 2, log-softmax"""

    def __init__(self, latent, hidden=1000, layers=5):
        super().__init__()
        mods, cin = [], latent
        for _ in range(layers):
            mods += [nn.Linear(cin, hidden), nn.LeakyReLU(0.2)]
            cin = hidden
        mods += [nn.Linear(cin, 2), nn.LogSoftmax(dim=1)]
        self.net = nn.Sequential(*mods)

    def forward(self, z):
        return self.net(z)


class Baseline(nn.Module):
    def __init__(self, args):
        super().__init__()
        self.enc_block = Encoder(args.latent, args.image_size, args.width,
                                 deterministic=args.model == "ae")
        self.dec_block = Decoder(args.latent, args.image_size, args.width)
        self.disc_block = Discriminator(args.latent) if args.model == "factorvae" else None

    def build_optimizers(self, args):
        main = list(self.enc_block.parameters()) + list(self.dec_block.parameters())
        opts = {"main": torch.optim.Adam(main, lr=args.lr)}
        if self.disc_block is not None:
            opts["disc"] = torch.optim.Adam(self.disc_block.parameters(), lr=1e-3,
                                            betas=(0.5, 0.9))
        return opts


def reconstruction(dec, x, z, kind):
    B = x.shape[0]
    if kind == "bernoulli":
        bce = F.binary_cross_entropy_with_logits(dec.logits(z), x, reduction="none")
        return bce.reshape(B, -1).sum(1).mean()
    return ((x - dec(z)) ** 2 * 0.5).reshape(B, -1).sum(1).mean()


def kl_divergence(mu, logvar):
    return 0.5 * (mu ** 2 + logvar.exp() - logvar - 1).sum(1).mean()


def total_correlation(z, mu, logvar, estimator, dataset_size):
    """mean_i [log q(z_i) - sum_k log q(z_ik)] from the [B, B, L] matrix log q(z_ik | x_j)"""
    B = z.shape[0]
    lv = logvar.unsqueeze(0)
    logq = -0.5 * (math.log(2 * math.pi) + lv + (z.unsqueeze(1) - mu.unsqueeze(0)) ** 2
                   * torch.exp(-lv))
    log_norm = math.log(B * dataset_size) if estimator == "mws" else math.log(B)
    log_qz = torch.logsumexp(logq.sum(2), dim=1) - log_norm
    log_marginals = (torch.logsumexp(logq, dim=1) - log_norm).sum(1)
    return (log_qz - log_marginals).mean()


def permute_dims(z):
    """each latent dimension permuted independently across the batch"""
    order = torch.argsort(torch.rand(z.shape, device=z.device), dim=0)
    return z.gather(0, order)


def mmd(z, p, kernel):
    """biased MMD^2 (diagonals included) between the rows of z and of p"""
    L = z.shape[1]

    def k(a, b):
        d2 = ((a.unsqueeze(1) - b.unsqueeze(0)) ** 2).sum(2)
        if kernel == "imq":
            c = 2.0 * L
            return c / (c + d2)
        return torch.exp(-d2 / L)

    return k(z, z).mean() + k(p, p).mean() - 2 * k(z, p).mean()


def vae_terms(m, x, args):
    """the main loss of every model but factorvae's discriminator; returns (loss, terms, z)"""
    mu, logvar = m.enc_block(x)
    if args.model == "ae":
        rec = reconstruction(m.dec_block, x, mu, args.reconstruction)
        return rec, {"rec": rec}, mu
    z = gaussian_sample(mu, logvar)
    rec = reconstruction(m.dec_block, x, z, args.reconstruction)
    kl = kl_divergence(mu, logvar)
    terms = {"rec": rec, "kl": kl}
    if args.model in ("vae", "factorvae"):
        loss = rec + kl
    elif args.model == "beta-vae":
        loss = rec + args.beta * kl
    elif args.model == "beta-tcvae":
        tc = total_correlation(z, mu, logvar, args.tc_estimator, args.dataset_size)
        terms["tc"] = tc
        loss = rec + kl + (args.beta - 1.0) * tc
    else:  # wae-mmd
        d = mmd(z, torch.randn_like(z), args.kernel)
        terms["mmd"] = d
        loss = rec + (1.0 - args.alpha) * kl + (args.alpha + args.lambda_mmd - 1.0) * d
    return loss, terms, z


def train_step(m, x, opts, args):
    """one training step; the logged terms as floats"""
    x_main, x_disc = x, None
    if args.model == "factorvae" and args.disc_batch == "half":
        half = x.shape[0] // 2
        x_main, x_disc = x[:half], x[half:]
    d = m.disc_block
    if d is not None:
        d.requires_grad_(False)
    loss, terms, z = vae_terms(m, x_main, args)
    if d is not None:
        logp = d(z)
        tc = (logp[:, 0] - logp[:, 1]).mean()
        terms["tc"] = tc
        loss = loss + args.gamma * tc
    opts["main"].zero_grad()
    loss.backward()
    opts["main"].step()
    terms["loss"] = loss
    if d is not None:
        d.requires_grad_(True)
        z_real = z.detach()
        if x_disc is not None:
            with torch.no_grad():
                z_other = gaussian_sample(*m.enc_block(x_disc))
        else:
            z_other = z_real
        ones = torch.ones(z_other.shape[0], dtype=torch.long, device=x.device)
        zeros = torch.zeros(z_real.shape[0], dtype=torch.long, device=x.device)
        loss_d = 0.5 * (F.nll_loss(d(z_real), zeros) + F.nll_loss(d(permute_dims(z_other)), ones))
        opts["disc"].zero_grad()
        loss_d.backward()
        opts["disc"].step()
        terms["loss_disc"] = loss_d
    return {k: float(v.detach().item()) for k, v in terms.items()}


def model_fields(args, m):
    out = {"script": "torch_models", "model": args.model, "reconstruction": args.reconstruction,
           "lr": args.lr, "params": count_params(m.enc_block) + count_params(m.dec_block)}
    if args.model in ("beta-vae", "beta-tcvae"):
        out["beta"] = args.beta
    if args.model == "beta-tcvae":
        out.update(tc_estimator=args.tc_estimator, dataset_size=args.dataset_size)
    if args.model == "factorvae":
        out.update(gamma=args.gamma, disc_batch=args.disc_batch,
                   params_disc=count_params(m.disc_block))
    if args.model == "wae-mmd":
        out.update(alpha=args.alpha, lambda_mmd=args.lambda_mmd, kernel=args.kernel)
    return out


def main():
    args = parse_args()
    device = resolve_device(args)
    torch.manual_seed(args.seed)
    m = Baseline(args).to(device).train()
    opts = m.build_optimizers(args)
    x = random_batch(args, device)
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    res = model_fields(args, m)
    if args.rss:
        last = None
        for _ in range(args.steps):
            last = train_step(m, x, opts, args)
        res.update({"device": args.device, "image_size": args.image_size, "width": args.width,
                    "latent": args.latent, "batch": args.batch, "steps": args.steps,
                    "max_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
                                         / 1024.0, 1),
                    "torch": torch.__version__})
        if device.type == "cuda":
            res["peak_gpu_mib"] = round(torch.cuda.max_memory_allocated(device) / 2**20, 1)
    else:
        times, last = time_iterations(lambda: train_step(m, x, opts, args), device,
                                      args.iters, args.warmup)
        res.update(timing_fields(args, device, times))
    res["losses_last"] = {k: round(v, 4) for k, v in last.items()}
    print(json.dumps(res), flush=True)


if __name__ == "__main__":
    main()
