"""torch_nets.py - the networks of the project's GWAE in PyTorch, shared by the benchmark
references bench/torch_gwae.py (one GWAE training iteration) and bench/torch_models.py (the
baselines on the same encoder and decoder), plus the process setup and the timing loop that
both use. A benchmark reference only: the C library never reads it.

What it holds (docs/gwae.md, ../shared/reference/gwae-spec.md section 2):
  * Encoder: logit input, k4 s2 p1 convs with SiLU and replicate padding down to 4x4
    (3->32->64->128->256 at 64x64, 3->64->128->256 at 32x32), flatten, Linear -> 256, SiLU,
    heads `fc` (mu) and `fc_logvar` (log variance; left out for a deterministic encoder).
  * Decoder: Linear L->256, SiLU, Linear 256->4096, SiLU, unflatten 256x4x4, transposed convs
    back to 3 channels with SiLU between, sigmoid (`logits` gives the pre-sigmoid output).
  * Critic: the Y-shaped spectrally normalised network with LeakyReLU(0.2).
  * NeuralPrior: MLP L->4L->4L->4L->L with LeakySiLU(0.2), BatchNorm1d(affine=False,
    momentum=0.5), drawing its noise on its own device.
  --width W multiplies every hidden width as gwae_nets.c does: max(1, round(base * W)), round
  half to even (Python's round and C's lrintf agree). At W = 1 the module and parameter names
  and the Sequential layouts are those of ../shared/bench/torch_anchor.py (and of the official
  code), so that an anchor's state_dict loads into these modules.

What it does not hold: losses and optimisation steps (in the two scripts).

Process setup: importing this module first reads --threads and --heap from sys.argv (both
scripts take them), because the thread variables must be set before torch is imported and
--heap retain re-executes the interpreter (as torch_anchor.py does):
  --threads N    OMP_NUM_THREADS=N before torch is imported, then torch.set_num_threads(N);
                 OPENBLAS_NUM_THREADS=MKL_NUM_THREADS=1 (Debian's torch calls a pthread
                 OpenBLAS whose own pool would oversubscribe the cores).
  --heap retain  re-exec with MALLOC_MMAP_MAX_=0 MALLOC_TRIM_THRESHOLD_=16 GiB, so freed memory
                 is reused instead of mapped and faulted in again (closer to a caching
                 allocator; the CPU comparisons in docs/benchmarks.md use it).
"""

import argparse
import os
import statistics
import sys
import time


def _setup_process():
    p = argparse.ArgumentParser(add_help=False)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--heap", choices=["default", "retain"], default="default")
    known, _ = p.parse_known_args()
    retain = {"MALLOC_MMAP_MAX_": "0", "MALLOC_TRIM_THRESHOLD_": str(16 << 30)}
    if known.heap == "retain" and any(os.environ.get(k) != v for k, v in retain.items()):
        os.execve(sys.executable, [sys.executable] + sys.argv, dict(os.environ, **retain))
    os.environ["OMP_NUM_THREADS"] = str(max(1, known.threads))
    for var in ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = "1"
    return max(1, known.threads)


THREADS = _setup_process()

import torch  # noqa: E402  (after the thread variables are set)
from torch import nn  # noqa: E402
from torch.nn import functional as F  # noqa: E402

try:
    from torch.nn.utils import spectral_norm  # the hook-based API of the official code
except ImportError:  # a PyTorch without it: the parametrization (other state_dict names)
    from torch.nn.utils.parametrizations import spectral_norm

torch.set_num_threads(THREADS)
BN_MOMENTUM = 0.5


def add_common_options(p):
    """The options every benchmark script takes (the shapes, the device, the timing)."""
    p.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    p.add_argument("--image-size", type=int, choices=[64, 32], default=64)
    p.add_argument("--width", type=float, default=1.0, help="multiplies every hidden width")
    p.add_argument("--latent", type=int, default=16)
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--iters", type=int, default=5, help="timed iterations")
    p.add_argument("--warmup", type=int, default=1, help="untimed iterations first")
    p.add_argument("--threads", type=int, default=1, help="CPU threads (see torch_nets.py)")
    p.add_argument("--heap", choices=["default", "retain"], default="default",
                   help="retain: glibc malloc never unmaps freed memory (see torch_nets.py)")
    p.add_argument("--tf32", action="store_true",
                   help="let cuDNN and cuBLAS use TF32 (off: plain float32, as gwae's default)")
    p.add_argument("--seed", type=int, default=0)


def resolve_device(args):
    """The torch.device of --device, with PyTorch's TF32 defaults replaced by --tf32 (PyTorch
    lets cuDNN convolutions use TF32 by default; gwae does not unless GWAE_CUDA_TF32=1)."""
    if args.device == "cuda":
        if not torch.cuda.is_available():
            raise SystemExit(f"{os.path.basename(sys.argv[0])}: --device cuda: "
                             "torch.cuda.is_available() is False")
        torch.backends.cudnn.allow_tf32 = args.tf32
        torch.backends.cuda.matmul.allow_tf32 = args.tf32
        return torch.device("cuda", 0)
    return torch.device("cpu")


def wide(base, width):
    return max(1, int(round(base * width)))


def enc_channels(size, width):
    """encoder conv outputs: 32, 64, 128, 256 at 64x64; 64, 128, 256 at 32x32 (times width)"""
    full = [32, 64, 128, 256] if size == 64 else [64, 128, 256]
    return [wide(c, width) for c in full]


def critic_channels(size, width):
    full = [8, 16, 32, 64, 128, 256] if size == 64 else [16, 32, 64, 128, 256]
    return [wide(c, width) for c in full]


class LogitInput(nn.Module):
    """x -> log(clamp(x)) - log(clamp(1 - x)), clamps to [1e-4, 1 - 1e-4] (data only)."""

    def forward(self, x):
        lo, hi = 1e-4, 1.0 - 1e-4
        return torch.log(x.clamp(lo, hi)) - torch.log((1.0 - x).clamp(lo, hi))


class Encoder(nn.Module):
    """x [B,3,S,S] -> (mu [B,L], logvar [B,L]); deterministic: mu only (no fc_logvar)."""

    def __init__(self, latent, size, width=1.0, deterministic=False, zero_padding=False):
        super().__init__()
        mods, cin = [LogitInput()], 3
        for c in enc_channels(size, width):
            mods += [nn.Conv2d(cin, c, 4, stride=2, padding=1,
                               padding_mode="zeros" if zero_padding else "replicate"),
                     nn.SiLU(True)]
            cin = c
        hidden = wide(256, width)
        mods += [nn.Flatten(), nn.Linear(cin * 16, hidden), nn.SiLU(True)]
        self.net = nn.Sequential(*mods)
        self.fc = nn.Linear(hidden, latent)
        self.fc_logvar = None if deterministic else nn.Linear(hidden, latent)

    def forward(self, x):
        h = self.net(x)
        return self.fc(h), (None if self.fc_logvar is None else self.fc_logvar(h))


class Decoder(nn.Module):
    """z [B,L] -> image [B,3,S,S] in (0,1); `logits` gives the output before the sigmoid."""

    def __init__(self, latent, size, width=1.0):
        super().__init__()
        ch = enc_channels(size, width)
        hidden = wide(256, width)
        mods = [nn.Linear(latent, hidden), nn.SiLU(True), nn.Linear(hidden, ch[-1] * 16),
                nn.SiLU(True), nn.Unflatten(1, [ch[-1], 4, 4])]
        outs = ch[-2::-1] + [3]
        cin = ch[-1]
        for i, c in enumerate(outs):
            mods.append(nn.ConvTranspose2d(cin, c, 4, stride=2, padding=1))
            if i < len(outs) - 1:
                mods.append(nn.SiLU(True))
            cin = c
        mods.append(nn.Sigmoid())
        self.net = nn.Sequential(*mods)

    def forward(self, z):
        return self.net(z)

    def logits(self, z):
        return self.net[:-1](z)


class Critic(nn.Module):
    """f(x, z) [B,1]: x-branch SN convs to 1x1 and SN Linear -> 64, z-branch SN MLP -> 64,
    stem on 0.5 * concat (gwae-spec.md 2.3); every hidden width times `width`."""

    def __init__(self, latent, size, width=1.0):
        super().__init__()
        xm, cin = [], 3
        for c in critic_channels(size, width):
            xm += [spectral_norm(nn.Conv2d(cin, c, 4, 2, 1)), nn.LeakyReLU(0.2)]
            cin = c
        feat, hid = wide(64, width), wide(256, width)
        xm += [nn.Flatten(), spectral_norm(nn.Linear(cin, feat))]
        self.x_net = nn.Sequential(*xm)
        self.z_net = nn.Sequential(
            spectral_norm(nn.Linear(latent, hid)), nn.LeakyReLU(0.2),
            spectral_norm(nn.Linear(hid, hid)), nn.LeakyReLU(0.2),
            spectral_norm(nn.Linear(hid, feat)), nn.LeakyReLU(0.2))
        self.xz_net = nn.Sequential(
            spectral_norm(nn.Linear(2 * feat, hid)), nn.LeakyReLU(0.2),
            spectral_norm(nn.Linear(hid, hid)), nn.LeakyReLU(0.2),
            spectral_norm(nn.Linear(hid, 1)))

    def forward(self, x, z):
        return self.xz_net(torch.cat([self.x_net(x), self.z_net(z)], dim=1) * 0.5)


class LeakySiLU(nn.Module):
    """(1 - a) silu(x) + a x, a = 0.2"""

    def forward(self, x):
        return F.silu(x) * 0.8 + x * 0.2


class NeuralPrior(nn.Module):
    """z = BN(MLP(eps)), eps ~ N(0, I_L) drawn on the prior's device"""

    def __init__(self, latent):
        super().__init__()
        self.z_dim = latent
        h = 4 * latent
        self.net = nn.Sequential(
            nn.Linear(latent, h), LeakySiLU(), nn.Linear(h, h), LeakySiLU(),
            nn.Linear(h, h), LeakySiLU(), nn.Linear(h, latent),
            nn.BatchNorm1d(latent, momentum=BN_MOMENTUM, affine=False))

    def forward(self, n):
        return self.net(torch.randn(n, self.z_dim, device=self.net[0].weight.device))


def count_params(module):
    return sum(p.numel() for p in module.parameters())


def gaussian_sample(mu, logvar):
    std = (0.5 * logvar).exp()
    return mu + std * torch.randn_like(std)


def random_batch(args, device):
    """the fixed batch x ~ U[0,1]^{B x 3 x S x S}, drawn on the CPU (the same on every device)"""
    return torch.rand(args.batch, 3, args.image_size, args.image_size).to(device)


def synchronize(device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def time_iterations(step, device, iters, warmup):
    """Runs step() warmup + iters times; returns the timed iterations' milliseconds and the
    last step's return value. On CUDA the clock is read after the queued work has finished."""
    times, last = [], None
    for i in range(warmup + iters):
        synchronize(device)
        t0 = time.perf_counter()
        last = step()
        synchronize(device)
        if i >= warmup:
            times.append((time.perf_counter() - t0) * 1e3)
    return times, last


def timing_fields(args, device, times):
    """the JSON fields every timing line carries"""
    out = {"device": args.device, "image_size": args.image_size, "width": args.width,
           "latent": args.latent, "batch": args.batch,
           "threads": torch.get_num_threads() if device.type == "cpu" else None,
           "iters": args.iters, "warmup": args.warmup,
           "ms_per_iter_median": round(statistics.median(times), 3) if times else None,
           "ms_per_iter_min": round(min(times), 3) if times else None,
           "ms_per_iter_all": [round(t, 2) for t in times], "heap": args.heap,
           "torch": torch.__version__}
    if device.type == "cuda":
        out["gpu"] = torch.cuda.get_device_name(device)
        out["tf32"] = args.tf32
        out["peak_gpu_mib"] = round(torch.cuda.max_memory_allocated(device) / 2**20, 1)
    return out


def conv_linear_flops(module, *inputs):
    """Forward FLOPs (2 per multiply-add) of every Conv2d, ConvTranspose2d and Linear that one
    call module(*inputs) runs, as a list of (layer, flops) in call order; biases, activations
    and normalisations are not counted. Runs the call under no_grad with forward hooks."""
    found = []

    def hook(mod, inp, out):
        x = inp[0]
        if isinstance(mod, nn.Linear):
            macs = x.numel() // x.shape[-1] * mod.in_features * mod.out_features
        elif isinstance(mod, nn.Conv2d):
            k = mod.kernel_size[0] * mod.kernel_size[1] * mod.in_channels // mod.groups
            macs = out.numel() * k
        else:  # ConvTranspose2d: every input element meets Cout k k weights
            macs = x.numel() * mod.out_channels * mod.kernel_size[0] * mod.kernel_size[1]
        found.append((mod, 2 * macs))

    handles = [m.register_forward_hook(hook) for m in module.modules()
               if isinstance(m, (nn.Linear, nn.Conv2d, nn.ConvTranspose2d))]
    try:
        with torch.no_grad():
            module(*inputs)
    finally:
        for h in handles:
            h.remove()
    return found
