"""Diffusion models' parts: the forward noise schedule q(x_t | x_0) and ε-prediction denoisers.

A denoiser is any module ``net(x_t, t) -> ε̂`` (x_t [B, *event_shape], t int64 [B]) with an
``event_shape``; the DDPM objective (objectives/diffusion.py) and ReverseDiffusionSampler
(samplers/diffusion.py) use nothing else.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from ..checks import check_count, check_real
from ..ops.seeds import randn_like


class NoiseSchedule:
    """The forward process q(x_t | x_{t-1}) = N(√(1-β_t) x_{t-1}, β_t I), t = 0 .. T-1, so
    q(x_t | x_0) = N(√ᾱ_t x_0, (1-ᾱ_t) I) with ᾱ_t = Π_{s<=t} (1-β_s).

    Args:
        noise_vars: β [T], each in (0, 1) (kept in float64).
    """

    def __init__(self, noise_vars: torch.Tensor):
        noise_vars = torch.as_tensor(noise_vars, dtype=torch.float64).detach().cpu()
        if noise_vars.dim() != 1 or len(noise_vars) < 1:
            raise ValueError(f"noise_vars must be a non-empty 1-D tensor, got shape {list(noise_vars.shape)}")
        if not ((noise_vars > 0) & (noise_vars < 1)).all():
            raise ValueError("noise_vars must lie in (0, 1)")
        self.noise_vars = noise_vars
        self.alphas_cumprod = torch.cumprod(1 - noise_vars, 0)

    @classmethod
    def linear(cls, n_timesteps: int, start: float = 1e-4, end: float = 0.02) -> "NoiseSchedule":
        """Ho et al. 2020's linear β from ``start`` to ``end`` (both in (0, 1)), scaled by
        1000 / T so that any T spans the same noise (Nichol & Dhariwal 2021), clipped to 0.999
        (T <= 20 reaches 1 otherwise)."""
        T = check_count(n_timesteps, "n_timesteps")
        start = check_real(start, "start", low=0.0, high=1.0, low_open=True, high_open=True)
        end = check_real(end, "end", low=0.0, high=1.0, low_open=True, high_open=True)
        scale = 1000 / T
        return cls(torch.linspace(start * scale, end * scale, T, dtype=torch.float64).clamp(max=0.999))

    @classmethod
    def cosine(cls, n_timesteps: int, offset: float = 0.008) -> "NoiseSchedule":
        """Nichol & Dhariwal 2021: ᾱ(t) = f(t)/f(0), f(t) = cos²((t/T + s)/(1 + s)·π/2), β
        clipped to 0.999."""
        T = check_count(n_timesteps, "n_timesteps")
        s = check_real(offset, "offset", low=0.0, low_open=True)
        f = torch.cos((torch.arange(T + 1, dtype=torch.float64) / T + s) / (1 + s) * math.pi / 2) ** 2
        return cls((1 - f[1:] / f[:-1]).clamp(max=0.999))

    @property
    def n_timesteps(self) -> int:
        return len(self.noise_vars)

    def q_sample(self, x0: torch.Tensor, t: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
        """x_t = √ᾱ_t x_0 + √(1-ᾱ_t) ε for x0, noise [B, ...], t int64 [B]."""
        ab = self.alphas_cumprod.to(x0.device)[t].to(x0.dtype).view(-1, *([1] * (x0.dim() - 1)))
        return gaussian_marginal(x0, ab, noise)

    def state_dict(self) -> dict:
        return {"noise_vars": self.noise_vars.clone()}


#: How inpainting keeps the known coordinates between reverse steps: re-noised to each step's
#: level (replacement, RePaint), or held at the known values (r a delta on them held fixed
#: through the chain, as Sohl-Dickstein et al. 2015 state it).
KNOWN_AT = ("renoised", "fixed")
#: The power of r at reverse step t (0-based, of T): r itself at every step ("constant", the
#: paper's r(xᵗ) = r(x⁰)), or r^((T-t)/T) ("annealed": 1/T of it at the noisiest step, all of
#: it at the last).
R_POWERS = ("constant", "annealed")


def r_weight(power: str, t: int, n_timesteps: int) -> float:
    """The exponent w_t of r at reverse step t (R_POWERS)."""
    return 1.0 if power == "constant" else (n_timesteps - t) / n_timesteps


def check_inpainting(x: torch.Tensor, known: torch.Tensor | None, mask: torch.Tensor | None):
    """known (x's dtype) after checking ``known`` [B, ...] and the bool ``mask`` against x; None
    without inpainting."""
    if (known is None) != (mask is None):
        raise ValueError("inpainting needs both known and mask")
    if known is None:
        return None
    if known.shape != x.shape or mask.shape != x.shape or mask.dtype != torch.bool:
        raise ValueError(f"known and mask (bool) must have the samples' shape {list(x.shape)}, "
                         f"got {list(known.shape)} and {mask.dtype} {list(mask.shape)}")
    if not torch.isfinite(known[mask]).all():
        raise ValueError("known contains NaN or Inf at known coordinates")
    return known.to(x.dtype)


def replace_known(x: torch.Tensor, known: torch.Tensor, mask: torch.Tensor,
                  alpha_bar: torch.Tensor | None, generator=None) -> torch.Tensor:
    """Inpainting by replacement: x with its known coordinates set to a draw of
    q(x_t | known) = N(√ᾱ_t known, (1-ᾱ_t) I) at the level x has reached (``alpha_bar``: ᾱ_t, a
    0-d tensor), or to ``known`` itself (None: the clean data)."""
    if alpha_bar is None:
        return torch.where(mask, known, x)
    return torch.where(mask, gaussian_marginal(known, alpha_bar.to(known.dtype), randn_like(known, generator)), x)


def gaussian_marginal(x0: torch.Tensor, alpha_bar: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
    """xᵗ = √ᾱ x⁰ + √(1-ᾱ) ε: a draw of q(xᵗ | x⁰) = N(√ᾱ x⁰, (1-ᾱ) I) given ε (ᾱ broadcastable)."""
    return alpha_bar.sqrt() * x0 + (1 - alpha_bar).sqrt() * noise


def timestep_embedding(t: torch.Tensor, dim: int, n_timesteps: int) -> torch.Tensor:
    """[B, dim] sinusoidal features of t / T (Vaswani et al. 2017, as in Ho et al. 2020): sin and
    cos of t·1000/T at geometric frequencies 1 .. 1/10⁴."""
    half = dim // 2
    freqs = torch.exp(-math.log(10_000.0) * torch.arange(half, device=t.device) / max(half - 1, 1))
    angle = (t.to(torch.float32) * (1000.0 / n_timesteps))[:, None] * freqs
    return torch.cat([angle.sin(), angle.cos()], 1)


class MLPDenoiser(nn.Module):
    """ε̂(x_t, t) for flat samples x [B, D] (or any per-step output): an MLP of ``depth`` hidden SiLU layers over
    [x, emb(t)] with the time embedding also added to every hidden layer.

    Args:
        dim: D. n_timesteps: T (scales the embedding). hidden: width. depth: hidden layers.
        time_dim: the sinusoidal embedding's size. out_dim: the output's size (default D: ε̂;
            2D for GaussianDiffusion's (m, b)).
    """

    def __init__(self, dim: int, n_timesteps: int, hidden: int = 256, depth: int = 3, time_dim: int = 64,
                 out_dim: int | None = None):
        super().__init__()
        self.event_shape = (check_count(dim, "dim"),)
        self.n_timesteps = check_count(n_timesteps, "n_timesteps")
        hidden, depth = check_count(hidden, "hidden"), check_count(depth, "depth")
        self.time_dim = check_count(time_dim, "time_dim", 2)
        self.time = nn.Sequential(nn.Linear(self.time_dim, hidden), nn.SiLU())
        self.layers = nn.ModuleList(
            [nn.Linear(dim, hidden)] + [nn.Linear(hidden, hidden) for _ in range(depth - 1)])
        self.out = nn.Linear(hidden, dim if out_dim is None else check_count(out_dim, "out_dim"))

    def forward(self, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        emb = self.time(timestep_embedding(t, self.time_dim, self.n_timesteps).to(x.dtype))  # [B, H]
        h = x
        for layer in self.layers:
            h = nn.functional.silu(layer(h) + emb)
        return self.out(h)
