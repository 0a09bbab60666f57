"""The diffusion family side by side in one process, on every CPU ISA path:

1. One reverse step on 1M and 16M float32 elements (x_t and ε of a [B, 1, 32, 32] batch, t = 500
   of a 1,000-step linear schedule, x̂₀ clipped to ±1 as diffusers does by default): fastebm's
   fused ``ddpm_step`` / ``ddim_step`` against the same arithmetic in plain PyTorch ops and
   diffusers' ``DDPMScheduler.step`` / ``DDIMScheduler.step`` (when diffusers is installed: `make
   bench-env`; a bench-only dependency), beside the memory-bandwidth floor (read x_t and ε, write
   x_{t-1}: 12 bytes per element); and fastebm writing into one kept buffer (``out=``, as its
   sampler's loop does) beside its fresh output per call.
2. A whole 1,000-step DDPM sampling loop with a tiny MLP denoiser on 64-D samples (digits-sized):
   fastebm's ReverseDiffusionSampler against the same loop with diffusers' scheduler and with
   plain PyTorch steps. ``--device cuda`` runs this table alone, on the GPU, with the small
   U-Net (28 × 28, batch 64) and the sampler also as one CUDA graph (``cuda_graph=True``).
"""

from __future__ import annotations

import math

import torch
from torch import nn

from fastebm import ops
from fastebm.models import NoiseSchedule, UNetDenoiser
from fastebm.samplers import ReverseDiffusionSampler

from common import isa_paths, markdown_table, on_path, script_main, side_by_side

try:
    from diffusers import DDIMScheduler, DDPMScheduler
except ImportError:  # the bench environment without diffusers
    DDPMScheduler = None

T, T_STEP = 1000, 500
SIZES = (1 << 20, 1 << 24)


def plain_ddpm(x, noise_pred, t: int, ac: torch.Tensor, g):
    """DDPM's step in plain PyTorch ops, scalars as Python floats (fixed_small, clip ±1)."""
    ab, ab_prev = float(ac[t]), float(ac[t - 1]) if t > 0 else 1.0
    beta = 1 - ab / ab_prev
    x0 = ((x - math.sqrt(1 - ab) * noise_pred) / math.sqrt(ab)).clamp(-1, 1)
    mean = (math.sqrt(ab_prev) * beta / (1 - ab)) * x0 + \
        (math.sqrt(1 - beta) * (1 - ab_prev) / (1 - ab)) * x
    return mean + math.sqrt(beta * (1 - ab_prev) / (1 - ab)) * torch.randn(
        x.shape, generator=g, dtype=x.dtype, device=x.device)


def plain_ddim(x, noise_pred, t: int, t_prev: int, ac: torch.Tensor):
    """DDIM's deterministic step (η = 0) in plain PyTorch ops."""
    ab, ab_p = float(ac[t]), float(ac[t_prev]) if t_prev >= 0 else 1.0
    x0 = (x - math.sqrt(1 - ab) * noise_pred) / math.sqrt(ab)
    return math.sqrt(ab_p) * x0 + math.sqrt(1 - ab_p) * noise_pred


def step_rows(copy_gbs: float, min_run_time: float) -> tuple[list, list]:
    schedule = NoiseSchedule.linear(T)
    ac = schedule.alphas_cumprod.float()
    g = torch.Generator().manual_seed(0)
    rows = []
    for n in SIZES:
        x, noise_pred = torch.randn(n // 1024, 1, 32, 32, generator=g), torch.randn(n // 1024, 1, 32, 32, generator=g)
        t_prev = T_STEP - T // 50
        buffer = torch.empty_like(x)
        fns = {}
        for isa in isa_paths():
            fns[f"ddpm {isa}"] = on_path(isa, lambda: ops.ddpm_step(x, noise_pred, T_STEP, ac, clip_sample=1.0,
                                                                    generator=g))
            fns[f"ddim {isa}"] = on_path(isa, lambda: ops.ddim_step(x, noise_pred, T_STEP, t_prev, ac))
        for kind in ("ddpm", "ddim"):
            step = getattr(ops, f"{kind}_step")
            extra = {"clip_sample": 1.0, "generator": g} if kind == "ddpm" else {}
            args = (T_STEP,) if kind == "ddpm" else (T_STEP, t_prev)
            fns[f"{kind} out="] = on_path(isa_paths()[0], lambda step=step, args=args, extra=extra:
                                         step(x, noise_pred, *args, ac, out=buffer, **extra))
        fns["ddpm torch"] = lambda: plain_ddpm(x, noise_pred, T_STEP, ac, g)
        fns["ddim torch"] = lambda: plain_ddim(x, noise_pred, T_STEP, t_prev, ac)
        if DDPMScheduler is not None:
            ddpm = DDPMScheduler(num_train_timesteps=T)
            ddim = DDIMScheduler(num_train_timesteps=T, clip_sample=False)
            ddim.set_timesteps(50)
            fns["ddpm diffusers"] = lambda: ddpm.step(noise_pred, T_STEP, x, generator=g).prev_sample
            fns["ddim diffusers"] = lambda: ddim.step(noise_pred, T_STEP, x).prev_sample
        t = side_by_side(fns, min_run_time, rounds=3)
        floor = 12 * n / (copy_gbs * 1e9)
        for kind in ("ddpm", "ddim"):
            best = t[f"{kind} {isa_paths()[0]}"]
            peer = t.get(f"{kind} diffusers")
            rows.append([f"{kind.upper()}, {n >> 20}M"]
                        + [f"{t[f'{kind} {isa}'] * 1e3:.2f}" for isa in isa_paths()]
                        + [f"{t[f'{kind} torch'] * 1e3:.2f}",
                           "—" if peer is None else f"{peer * 1e3:.2f}",
                           f"{t[f'{kind} torch'] / best:.1f}×",
                           "—" if peer is None else f"**{peer / best:.1f}×**",
                           f"{floor * 1e3:.2f}", f"{best / floor:.2f}×",
                           f"{t[f'{kind} out='] * 1e3:.2f}", f"{t[f'{kind} out='] / floor:.2f}×"])
    header = (["step, elements"] + [f"fastebm {isa} ms" for isa in isa_paths()]
              + ["PyTorch ms", "diffusers ms", "vs PyTorch", "vs diffusers", "bandwidth floor ms",
                 "fastebm / floor", f"fastebm out= ({isa_paths()[0]}) ms", "out= / floor"])
    return header, rows


class TinyDenoiser(nn.Module):
    """ε̂(x, t): a 2-layer MLP on [x, sin/cos(t)] (64-D samples)."""

    def __init__(self, dim: int = 64, hidden: int = 128):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(dim + 2, hidden), nn.SiLU(), nn.Linear(hidden, dim))

    def forward(self, x, t):
        phase = (t.to(x.dtype) / T * math.pi)[:, None]
        return self.net(torch.cat([x, phase.sin(), phase.cos()], 1))


def loop_rows(min_run_time: float, device: str = "cpu") -> tuple[list, list]:
    """The CPU's rows (MLP denoiser, batch 256, every ISA path) or a GPU's (the U-Net, batch
    64, the sampler eager and as one CUDA graph). The plain loop reads its scalars from ᾱ on the
    host, as a user's loop would."""
    torch.manual_seed(0)
    if device == "cpu":
        batch, dim, net, what = 256, 64, TinyDenoiser().eval(), "64-D, MLP denoiser"
    else:
        batch, dim, what = 64, 28 * 28, "28 × 28, small U-Net"
        net = UNetDenoiser((28, 28), T).to(device).eval()
    schedule = NoiseSchedule.linear(T)
    ac = schedule.alphas_cumprod.float()
    g = torch.Generator(device).manual_seed(1)
    sampler = ReverseDiffusionSampler(net, schedule, clip_sample=1.0, progress=False)
    x_T = torch.randn(batch, dim, generator=g, device=device)

    @torch.no_grad()
    def plain():
        x = x_T
        for t in range(T - 1, -1, -1):
            tt = torch.full((batch,), t, dtype=torch.int64, device=device)
            x = plain_ddpm(x, net(x, tt), t, ac, g)
        return x

    if device == "cpu":
        fns = {f"fastebm ReverseDiffusionSampler ({isa})":
               on_path(isa, lambda: sampler.run(x_T, generator=g)) for isa in isa_paths()}
    else:
        graphed = ReverseDiffusionSampler(net, schedule, clip_sample=1.0, progress=False,
                                          cuda_graph=True)
        fns = {"fastebm ReverseDiffusionSampler": lambda: sampler.run(x_T, generator=g),
               "fastebm ReverseDiffusionSampler, cuda_graph=True":
                   lambda: graphed.run(x_T, generator=g)}
    fns["PyTorch loop"] = plain
    if DDPMScheduler is not None:
        scheduler = DDPMScheduler(num_train_timesteps=T)
        scheduler.set_timesteps(T)

        @torch.no_grad()
        def with_diffusers():
            x = x_T
            for t in scheduler.timesteps:
                tt = torch.full((batch,), int(t), dtype=torch.int64, device=device)
                x = scheduler.step(net(x, tt), t, x, generator=g).prev_sample
            return x

        fns["diffusers DDPMScheduler loop"] = with_diffusers
    t = side_by_side(fns, min_run_time, rounds=3)
    ref = t.get("diffusers DDPMScheduler loop")
    rows = [[name, f"{sec * 1e3:.0f}", f"{t['PyTorch loop'] / sec:.2f}×",
             "—" if ref is None else f"{ref / sec:.2f}×"] for name, sec in t.items()]
    header = [f"1,000 DDPM steps, {batch} × {what}", "ms", "vs PyTorch loop",
              "vs diffusers loop"]
    return header, rows


def run(min_run_time: float = 1.0, device: str = "cpu", copy_gbs: float = 15.0) -> str:
    if device != "cpu":  # the GPU's whole loop alone
        header, rows = loop_rows(min_run_time, device)
        return "### A whole sampling loop\n\n" + markdown_table(header, rows)
    header, rows = step_rows(copy_gbs, min_run_time)
    out = "### Reverse diffusion step (float32, t = 500 of 1,000)\n\n" + markdown_table(header, rows)
    header, rows = loop_rows(min_run_time)
    out += "\n\n### A whole sampling loop\n\n" + markdown_table(header, rows)
    return out


if __name__ == "__main__":
    script_main(run, __doc__)
