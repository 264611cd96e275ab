#!/usr/bin/env python3
"""torch_gwae.py - one GWAE training iteration in PyTorch, timed on the CPU or a CUDA GPU: the
reference that `gwae bench` (tools/cmd_bench.c) is compared with on the same machine.

One iteration, as the project builds it (docs/gwae.md, gwae/models/gwae_loss.c): a main step
    L = L_GW + L_W + 0.03 R_H + L_D over encoder, decoder, neural prior and log C (RMSprop 1e-4)
then --n-critic critic steps (RMSprop 1e-4), each on fresh draws, minimising
    mean f(x, z) - mean f(xs, zs) + 10 (GP + 1e-4 (mean f(x,z)^2 + mean f(xs,zs)^2))
with the one-centred gradient penalty on per-sample interpolations, differentiated by a double
backward (autograd.grad with create_graph=True). The networks are bench/torch_nets.py's.

Two forms of the same iteration (--form); they give the same values from the same state:
  official (default): the work ../shared/bench/torch_anchor.py times (the official code's
           train_batch): L_GW through the [B, B, 3 S S] difference tensor, the main step also
           computing the critic's weight gradients, the critic loop decoding Dec(z) unused and
           recording graphs for its draws.
  project: the work gwae_loss.c does: L_GW by torch.pdist, no critic weight gradients in the
           main step, no Dec(z) in the critic loop, no graph for the draws of the critic loop.

Output: one JSON line, ms per iteration (median over --iters after --warmup untimed ones) and
the main step and critic steps apart, on a fixed batch x ~ U[0,1] drawn on the CPU; on CUDA
the clock is read after torch.cuda.synchronize(), and peak_gpu_mib is
torch.cuda.max_memory_allocated. TF32 is off unless --tf32 (gwae's default is plain float32);
cudnn.benchmark stays at its default, off (gwae takes cuDNN's heuristic choice too).
gflop_per_iter_min is the analytic count of the project form's convolution and linear work
(analytic_flops below says how); gflop_per_iter_counted is PyTorch's own FlopCounterMode count
of one iteration of the chosen form, where the PyTorch has it (2.1 and later), else null.

How it was checked against torch_anchor.py (`--check-anchor PATH`, CPU, PyTorch 1.13):
the anchor's re-implementation and this file's model are built at width 1 for the given image
size; the per-module parameter counts (encoder, decoder, prior, critic and its three parts,
total) and the state_dict keys and shapes must be equal; the anchor's weights are loaded here,
and one iteration of each form from the same torch seed must give the anchor's 13 logged
values (relative difference < 1e-4) and the same parameters afterwards (within 1e-4, the
prior's last bias excepted: GRADIENT_IS_NOISE). The values are not bit-equal: the logit input
clamps 1 - x as gwae_nets.c does, the anchor 1 - clamp(x), which differ in the last bits where
x > 1 - 1e-4; and pdist (project form) adds in another order. Results (2026-12-02, PyTorch
1.13 CPU, batch 64, L 16, one thread):
  64x64: encoder 1,747,200, decoder 1,746,915, prior 10,448, critic 901,369 (x 715,704,
         z 86,592, stem 99,073), total 4,405,933 parameters on both sides, the same total
         as `gwae train --image-size 64 --width 1` prints; logged values within 7.3e-7
         (official form) and 1.1e-6 (project), parameters within 1.3e-6 and 1.7e-6.
  32x32: total 4,341,733 on both sides; values within 5.8e-6 (both forms), parameters
         within 1.0e-6 and 8.5e-6.
  At --image-size 32 --width 0.25 this file's model has 286,897 parameters, as `gwae train`
  prints for its small default (the anchor has no width).

Usage: python3 bench/torch_gwae.py [--device cpu|cuda] [--image-size 64|32] [--width W]
           [--latent L] [--batch B] [--n-critic N] [--iters N] [--warmup N] [--threads N]
           [--heap default|retain] [--form official|project] [--tf32]
       python3 bench/torch_gwae.py --check-anchor ../shared/bench/torch_anchor.py
"""

import argparse
import importlib.util
import json
import statistics
import sys
import time

from torch_nets import (Critic, Decoder, Encoder, NeuralPrior, add_common_options, count_params,
                        conv_linear_flops, gaussian_sample, random_batch, resolve_device,
                        synchronize, time_iterations, timing_fields, torch)
from torch import nn

HP = dict(lr=1e-4, lr_critic=1e-4, lambda_w=1.0, lambda_d=1.0, lambda_h=0.03, lambda_gp=10.0,
          drift=1e-4, c_init=2.5)


def parse_args(argv=None):
    p = argparse.ArgumentParser(description="one GWAE training iteration in PyTorch, timed")
    add_common_options(p)
    p.add_argument("--n-critic", type=int, default=5, help="critic steps per iteration")
    p.add_argument("--form", choices=["official", "project"], default="official",
                   help="official: torch_anchor.py's work; project: gwae_loss.c's (see header)")
    p.add_argument("--no-flop-count", action="store_true",
                   help="skip the FlopCounterMode iteration (PyTorch >= 2.1)")
    p.add_argument("--check-anchor", metavar="PATH",
                   help="compare with ../shared/bench/torch_anchor.py instead of timing (CPU)")
    return p.parse_args(argv)


class GWAE(nn.Module):
    """Names and construction order of torch_anchor.py's GWAEReimpl (NP prior)."""

    def __init__(self, latent, size, width=1.0):
        super().__init__()
        self.sampler = NeuralPrior(latent)
        self.enc_block = Encoder(latent, size, width)
        self.dec_block = Decoder(latent, size, width)
        self.disc_block = Critic(latent, size, width)
        self.log_distance_coef = nn.Parameter(torch.tensor(HP["c_init"]).log())

    def build_optimizers(self):
        main = (list(self.enc_block.parameters()) + list(self.dec_block.parameters())
                + list(self.sampler.parameters()) + [self.log_distance_coef])
        return {"main": torch.optim.RMSprop(main, lr=HP["lr"]),
                "disc": torch.optim.RMSprop(self.disc_block.parameters(), lr=HP["lr_critic"])}


def loss_gw(m, zs, xs, form):
    """mean over the B x B ordered pairs of |(C/s) |zs_i - zs_j| - |xs_i - xs_j||"""
    B = zs.shape[0]
    s = zs.std(dim=0).mean().clamp(min=1e-8)
    coef = m.log_distance_coef.exp() / s
    if form == "official":
        d_x = (xs.unsqueeze(1) - xs.unsqueeze(0)).reshape(B, B, -1).norm(p=2, dim=2)
        d_z = ((zs.unsqueeze(1) - zs.unsqueeze(0)) * coef).norm(p=2, dim=2)
        return (d_z - d_x).abs().mean()
    # the diagonal pairs are zero: the mean over B*B is twice the sum over i < j, over B*B
    d_x = torch.pdist(xs.reshape(B, -1))
    d_z = torch.pdist(zs) * coef
    return (d_z - d_x).abs().sum() * (2.0 / (B * B))


def main_step(m, x, opts, form):
    B = x.shape[0]
    enc, dec, prior, f = m.enc_block, m.dec_block, m.sampler, m.disc_block
    if form == "project":
        f.requires_grad_(False)
    mu, logvar = enc(x)
    z = gaussian_sample(mu, logvar)
    xh = dec(z)
    zs = prior(B)
    xs = dec(zs)
    l_gw = loss_gw(m, zs, xs, form)
    l_w = ((x - xh) ** 2 * 0.5).reshape(B, -1).sum(1).mean()
    l_h = -logvar.sum(1).mean()
    f_q, f_p = f(x, z), f(xs, zs)
    l_d = (f_p - f_q).mean()
    loss = l_gw + HP["lambda_w"] * l_w + HP["lambda_h"] * l_h + HP["lambda_d"] * l_d
    m.zero_grad()
    loss.backward()
    opts["main"].step()
    if form == "project":
        f.requires_grad_(True)
    return {"loss": loss, "loss_gw": l_gw, "loss_w": l_w, "loss_d": l_d, "loss_qentropy": l_h,
            "distance_coef": m.log_distance_coef.exp()}


def critic_draws(m, x, mu, logvar, form):
    """fresh z ~ q(z|x), zs ~ prior, xs = Dec(zs), all detached"""
    B = x.shape[0]
    if form == "official":
        z = gaussian_sample(mu, logvar)
        m.dec_block(z)  # computed and never used by the official code
        zs = m.sampler(B)
        xs = m.dec_block(zs)
        return z.detach(), zs.detach(), xs.detach()
    with torch.no_grad():
        z = gaussian_sample(mu, logvar)
        zs = m.sampler(B)
        return z, zs, m.dec_block(zs)


def critic_steps(m, x, opts, form, n_critic):
    B = x.shape[0]
    f = m.disc_block
    if form == "official":
        mu, logvar = m.enc_block(x)
    else:
        with torch.no_grad():
            mu, logvar = m.enc_block(x)
    out = {}
    for _ in range(n_critic):
        z, zs, xs = critic_draws(m, x, mu, logvar, form)
        f_q, f_p = f(x, z), f(xs, zs)
        logits = (f_q - f_p).mean()
        t = torch.rand(B, device=x.device)
        xp = (x * t.view(B, 1, 1, 1) + xs * (1 - t).view(B, 1, 1, 1)).requires_grad_(True)
        zp = (z * t.view(B, 1) + zs * (1 - t).view(B, 1)).requires_grad_(True)
        f_i = f(xp, zp)
        gx, gz = torch.autograd.grad(f_i, [xp, zp], grad_outputs=torch.ones_like(f_i),
                                     retain_graph=True, create_graph=True)
        g = torch.cat([gx.reshape(B, -1), gz.reshape(B, -1)], dim=1)
        gp = ((g.norm(p=2, dim=1) - 1) ** 2).mean()
        penalty = gp + HP["drift"] * (f_q ** 2).mean() + HP["drift"] * (f_p ** 2).mean()
        loss_disc = logits + HP["lambda_gp"] * penalty
        m.zero_grad()
        loss_disc.backward()
        opts["disc"].step()
        out = {"loss_disc": loss_disc, "loss_logits": logits, "loss_gp": penalty,
               "logit_autoencoding": f_q.mean(), "logit_sampling": f_p.mean(),
               "qz_scale": z.std(dim=0).mean(), "pz_scale": zs.std(dim=0).mean()}
    return out


def train_step(m, x, opts, form, n_critic, after_main=None):
    """one iteration; the logged values as floats (13 host reads, as torch_anchor.py)"""
    terms = main_step(m, x, opts, form)
    if after_main:
        after_main()
    terms.update(critic_steps(m, x, opts, form, n_critic))
    return {k: float(v.detach().item()) for k, v in terms.items()}


def analytic_flops(args):
    """Convolution and linear FLOPs (2 per multiply-add) of one iteration of the project form,
    the least work any implementation of the iteration does. Per network, per sample, F_net is
    the forward count of its layers (measured by conv_linear_flops on one sample) and F_1 its
    first layer's. The rules: forward F; weight gradients F; input gradients F, less the first
    layer's where the input needs none (data, noise); the penalty's input gradient F (the
    first layers included) and its double backward 2F (for each layer of the recorded
    gradient pass, one product for the weights and one for the layer below). So:
      main step      3 F_E - F_E1 + 6 F_D + 3 F_P - F_P1 + (F_C + F_stem + F_zb) + 2 F_C
                     (Enc, Dec(z), Dec(zs), prior; f(x, z) needs input gradients only down the
                     z-branch, f(xs, zs) down both branches; no critic weight gradients)
      before critic  F_E (the encoder, no gradient)
      each critic    F_P + F_D (draws, no gradient) + 2 F_C + 2 F_C + 2 (F_C - F_x1 - F_z1)
      step           (f(x, z), f(xs, zs): forward, weights, inputs) + 4 F_C (the penalty)
    all times the batch. Biases, activations, norms, L_GW's distances and the optimisers
    are left out (elementwise work, a few per cent at the paper's shapes)."""
    S, L, W = args.image_size, args.latent, args.width
    x1, z1 = torch.rand(1, 3, S, S), torch.randn(1, L)
    enc = conv_linear_flops(Encoder(L, S, W).eval(), x1)
    dec = conv_linear_flops(Decoder(L, S, W).eval(), z1)
    prior = NeuralPrior(L).eval()
    pri = conv_linear_flops(prior.net, z1)
    crit = Critic(L, S, W).eval()
    cx = conv_linear_flops(crit.x_net, x1)
    cz = conv_linear_flops(crit.z_net, z1)
    cs = conv_linear_flops(crit.xz_net, torch.randn(1, crit.xz_net[0].in_features))

    def tot(rows):
        return sum(f for _, f in rows)

    fe, fd, fp = tot(enc), tot(dec), tot(pri)
    fcx, fcz, fcs = tot(cx), tot(cz), tot(cs)
    fc = fcx + fcz + fcs
    main = 3 * fe - enc[0][1] + 6 * fd + 3 * fp - pri[0][1] + (fc + fcs + fcz) + 2 * fc
    critic = fp + fd + 4 * fc + 2 * (fc - cx[0][1] - cz[0][1]) + 4 * fc
    return args.batch * (main + fe + args.n_critic * critic)


def counted_flops(m, x, opts, args):
    """FlopCounterMode's count of one iteration (PyTorch >= 2.1), or (None, reason)"""
    try:
        from torch.utils.flop_counter import FlopCounterMode
    except ImportError:
        return None, f"torch {torch.__version__} has no torch.utils.flop_counter"
    try:
        counter = FlopCounterMode(display=False)
        with counter:
            train_step(m, x, opts, args.form, args.n_critic)
        return counter.get_total_flops(), None
    except Exception as e:  # a counter that fails must not lose the timing
        return None, f"FlopCounterMode failed: {type(e).__name__}: {e}"


def bench(args):
    device = resolve_device(args)
    flops_min = analytic_flops(args)  # before seeding: it builds networks of its own
    torch.manual_seed(args.seed)
    m = GWAE(args.latent, args.image_size, args.width).to(device).train()
    opts = m.build_optimizers()
    x = random_batch(args, device)
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    marks = []

    def mark():
        synchronize(device)
        marks.append(time.perf_counter())

    def step():
        marks.clear()
        t0 = time.perf_counter()
        r = train_step(m, x, opts, args.form, args.n_critic, mark)
        synchronize(device)
        t1 = time.perf_counter()
        return r, (marks[0] - t0) * 1e3, (t1 - marks[0]) * 1e3

    splits = []

    def step_recorded():
        r, main_ms, critic_ms = step()
        splits.append((main_ms, critic_ms))
        return r

    times, last = time_iterations(step_recorded, device, args.iters, args.warmup)
    splits = splits[args.warmup:]
    counted, why = (None, "--no-flop-count") if args.no_flop_count else \
        counted_flops(m, x, opts, args)
    res = {"script": "torch_gwae", "form": args.form, "prior": "np", "n_critic": args.n_critic}
    res.update(timing_fields(args, device, times))
    if splits:
        res["ms_main_step"] = round(statistics.median(s[0] for s in splits), 3)
        res["ms_critic_steps"] = round(statistics.median(s[1] for s in splits), 3)
    res.update({"params": count_params(m), "gflop_per_iter_min": round(flops_min / 1e9, 3),
                "gflop_per_iter_counted": None if counted is None else round(counted / 1e9, 3),
                "loss_last": round(last["loss"], 4) if last else None,
                "loss_disc_last": round(last["loss_disc"], 4) if last else None})
    if why:
        res["flop_count_note"] = why
    print(json.dumps(res), flush=True)


def load_anchor(path, args):
    """imports torch_anchor.py (which parses sys.argv when imported) as a module"""
    saved = sys.argv
    sys.argv = [path, "--impl", "reimpl", "--image-size", str(args.image_size), "--latent",
                str(args.latent), "--batch", str(args.batch), "--threads", str(args.threads)]
    try:
        spec = importlib.util.spec_from_file_location("torch_anchor", path)
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
    finally:
        sys.argv = saved
    return mod


def module_counts(model):
    parts = {"encoder": model.enc_block, "decoder": model.dec_block, "prior": model.sampler,
             "critic": model.disc_block, "critic.x_net": model.disc_block.x_net,
             "critic.z_net": model.disc_block.z_net, "critic.xz_net": model.disc_block.xz_net,
             "total": model}
    return {k: count_params(v) for k, v in parts.items()}


# The prior's last bias feeds a BatchNorm without affine, so its true gradient is zero and
# the computed one is rounding noise, whose sign RMSprop's first step (about 10 lr times the
# sign) turns into +-1e-3; the running mean follows it. Left out of the state comparison.
GRADIENT_IS_NOISE = ("sampler.net.6.bias", "sampler.net.7.running_mean")


def check_anchor(args):
    if args.device != "cpu" or args.width != 1.0 or args.n_critic != 5:
        raise SystemExit("--check-anchor runs on the CPU at --width 1 --n-critic 5 "
                         "(the anchor's fixed settings)")
    anchor = load_anchor(args.check_anchor, args)
    ok_all = True
    for form in ("official", "project"):
        torch.manual_seed(args.seed)
        ref = anchor.GWAEReimpl("np", args.latent, args.image_size)
        mine = GWAE(args.latent, args.image_size, 1.0)
        counts_ref, counts_mine = module_counts(ref), module_counts(mine)
        sd_ref, sd_mine = ref.state_dict(), mine.state_dict()
        same_layout = (list(sd_ref) == list(sd_mine)
                       and all(sd_ref[k].shape == sd_mine[k].shape for k in sd_ref))
        mine.load_state_dict(sd_ref, strict=True)
        ref.train()
        mine.train()
        o_ref, o_mine = ref.build_optimizers(), mine.build_optimizers()
        x = torch.rand(args.batch, 3, args.image_size, args.image_size)
        torch.manual_seed(1234)
        r_ref = ref.train_batch((x, None), o_ref, 0.0)
        torch.manual_seed(1234)
        r_mine = train_step(mine, x, o_mine, form, 5)
        rel = max(abs(r_ref[k] - r_mine[k]) / max(1e-6, abs(r_ref[k])) for k in r_ref)
        sd_ref, sd_mine = ref.state_dict(), mine.state_dict()
        state = max(float((sd_ref[k].float() - sd_mine[k].float()).abs().max())
                    for k in sd_ref if sd_ref[k].numel() and k not in GRADIENT_IS_NOISE)
        ok = (counts_ref == counts_mine and same_layout and set(r_ref) == set(r_mine)
              and rel < 1e-4 and state < 1e-4)
        ok_all &= ok
        print(json.dumps({"check": "torch_gwae vs torch_anchor", "form": form,
                          "image_size": args.image_size, "latent": args.latent,
                          "batch": args.batch, "param_counts_anchor": counts_ref,
                          "param_counts_equal": counts_ref == counts_mine,
                          "state_dict_layout_equal": same_layout,
                          "max_rel_diff_logged_values": rel,
                          "max_abs_diff_state_after_iteration": state,
                          "state_not_compared": list(GRADIENT_IS_NOISE),
                          "loss_anchor": round(r_ref["loss"], 5),
                          "loss_disc_anchor": round(r_ref["loss_disc"], 5),
                          "torch": torch.__version__, "ok": ok}), flush=True)
    return 0 if ok_all else 1


def main():
    args = parse_args()
    if args.iters < 1 or args.warmup < 0 or args.batch < 2 or args.n_critic < 0:
        raise SystemExit("torch_gwae.py: need --iters >= 1, --warmup >= 0, --batch >= 2, "
                         "--n-critic >= 0")
    if args.check_anchor:
        sys.exit(check_anchor(args))
    bench(args)


if __name__ == "__main__":
    main()
