"""An ε-prediction denoiser for data on a grid of grey levels: ε̂ from the posterior over each
pixel's level, so that at small noise (well below the levels' spacing) it is exact whatever the
network has learnt."""

from __future__ import annotations

import torch
from torch import nn

from ..checks import check_count
from .diffusion import NoiseSchedule


class LevelPosteriorDenoiser(nn.Module):
    """ε̂(x_t, t) for x⁰ whose pixels lie on L levels g_l evenly spanning [-1, 1]: the network
    gives each pixel's prior logits a_l(x_t, t); with the Gaussian likelihood of x_t,

        p(x⁰ᵢ = g_l | x_t) = softmax_l(a_l - (x_tᵢ - √ᾱ_t g_l)² / 2(1 - ᾱ_t)),
        x̂⁰ = Σ_l p_l g_l,   ε̂ = (x_t - √ᾱ_t x̂⁰) / √(1 - ᾱ_t).

    Where the noise is far below the spacing the likelihood picks the level, so ε̂ is exact (the
    steps a plain ε-network cannot resolve, which dominate the bound K on coarse levels); where
    it is large the network's logits decide. Trained by DDPM's L_simple like any ε-network.

    Args:
        net: (x_t [B, D], t int64 [B]) -> [B, L·D] logits, level-major (as the U-Net's
            ``out_channels`` = L gives them); its ``event_shape`` (D,) is this denoiser's.
        schedule: the NoiseSchedule it is trained and sampled with.
        levels: L >= 2.
    """

    def __init__(self, net: nn.Module, schedule: NoiseSchedule, levels: int):
        super().__init__()
        if not isinstance(schedule, NoiseSchedule):
            raise TypeError(f"schedule must be a NoiseSchedule, got {type(schedule).__name__}")
        self.net = net
        self.event_shape = tuple(net.event_shape)
        self.levels = check_count(levels, "levels", 2)
        self.register_buffer("grid", torch.linspace(-1, 1, self.levels))              # [L]
        self.register_buffer("alphas_cumprod", schedule.alphas_cumprod.clone())        # [T]

    def forward(self, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        B, D = x.shape
        logits = self.net(x, t).view(B, self.levels, D)                                # [B, L, D]
        ab = self.alphas_cumprod[t].to(x.dtype)[:, None, None]                         # [B, 1, 1]
        grid = self.grid.to(x.dtype)[None, :, None]                                    # [1, L, 1]
        likelihood = -(x[:, None, :] - ab.sqrt() * grid).square() / (2 * (1 - ab))
        x0 = (torch.softmax(logits + likelihood, 1) * grid).sum(1)                     # [B, D]
        return (x - ab[:, 0].sqrt() * x0) / (1 - ab[:, 0]).sqrt()
