"""A small convolutional U-Net for diffusion on images (Ronneberger et al. 2015, with the
timestep embedding and residual blocks of Ho et al. 2020's network), taking and giving flat
rows so that it drops in wherever the MLP denoiser does."""

from __future__ import annotations

import torch
from torch import nn

from ..checks import check_count
from .diffusion import timestep_embedding


def _norm(channels: int) -> nn.GroupNorm:
    return nn.GroupNorm(min(8, channels), channels)


class ResidualBlock(nn.Module):
    """x + conv(SiLU(GN(conv(SiLU(GN(x))) + W·emb))) with a 1×1 skip where the width changes:
    [B, C_in, H, W], emb [B, E] -> [B, C_out, H, W]."""

    def __init__(self, c_in: int, c_out: int, emb_dim: int):
        super().__init__()
        self.norm1, self.conv1 = _norm(c_in), nn.Conv2d(c_in, c_out, 3, padding=1)
        self.time = nn.Linear(emb_dim, c_out)
        self.norm2, self.conv2 = _norm(c_out), nn.Conv2d(c_out, c_out, 3, padding=1)
        self.skip = nn.Conv2d(c_in, c_out, 1) if c_in != c_out else nn.Identity()

    def forward(self, x: torch.Tensor, emb: torch.Tensor) -> torch.Tensor:
        h = self.conv1(nn.functional.silu(self.norm1(x))) + self.time(emb)[:, :, None, None]
        return self.skip(x) + self.conv2(nn.functional.silu(self.norm2(h)))


class UNetDenoiser(nn.Module):
    """ε̂(x_t, t) (or any per-pixel output) for flat images x [B, H·W]: a U-Net with two
    resolution halvings (H, W divisible by 4), ``channels`` · (1, 2, 2) widths, one residual block
    per level on the way down, in the middle and on the way up (after concatenating the skip),
    each told the step by a sinusoidal embedding through an MLP.

    Args:
        shape: (H, W) of one image. n_timesteps: T (scales the embedding). channels: the first
            level's width. out_channels: outputs per pixel (1: ε̂; 2: GaussianDiffusion's (m, b)),
            returned flat channel-major [B, out_channels·H·W].
    """

    def __init__(self, shape: tuple[int, int], n_timesteps: int, channels: int = 32,
                 out_channels: int = 1):
        super().__init__()
        self.height, self.width = (check_count(s, "shape[]") for s in shape)
        if self.height % 4 or self.width % 4:
            raise ValueError(f"the U-Net halves the image twice: shape must be divisible by 4, "
                             f"got {tuple(shape)}")
        self.event_shape = (self.height * self.width,)
        self.n_timesteps = check_count(n_timesteps, "n_timesteps")
        c = check_count(channels, "channels")
        self.out_channels = check_count(out_channels, "out_channels")
        emb = 4 * c
        self.time = nn.Sequential(nn.Linear(c, emb), nn.SiLU(), nn.Linear(emb, emb))
        self.inp = nn.Conv2d(1, c, 3, padding=1)
        self.down = nn.ModuleList([ResidualBlock(c, c, emb), ResidualBlock(2 * c, 2 * c, emb)])
        self.halves = nn.ModuleList([nn.Conv2d(c, 2 * c, 3, stride=2, padding=1),
                                    nn.Conv2d(2 * c, 2 * c, 3, stride=2, padding=1)])
        self.middle = ResidualBlock(2 * c, 2 * c, emb)
        self.doubles = nn.ModuleList([nn.ConvTranspose2d(2 * c, 2 * c, 2, stride=2),
                                     nn.ConvTranspose2d(2 * c, 2 * c, 2, stride=2)])
        self.up = nn.ModuleList([ResidualBlock(4 * c, 2 * c, emb), ResidualBlock(3 * c, c, emb)])
        self.norm = _norm(c)
        self.out = nn.Conv2d(c, self.out_channels, 3, padding=1)
        nn.init.zeros_(self.out.weight)  # starts at ε̂ = 0
        nn.init.zeros_(self.out.bias)

    def forward(self, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        B = x.shape[0]
        emb = self.time(timestep_embedding(t, self.time[0].in_features,
                                           self.n_timesteps).to(x.dtype))    # [B, E]
        h = self.inp(x.reshape(B, 1, self.height, self.width))               # [B, c, H, W]
        skips = []
        for block, halve in zip(self.down, self.halves):
            h = block(h, emb)
            skips.append(h)
            h = halve(h)                                                     # [B, 2c, H/2, W/2] ..
        h = self.middle(h, emb)                                              # [B, 2c, H/4, W/4]
        for block, double in zip(self.up, self.doubles):
            h = block(torch.cat([double(h), skips.pop()], 1), emb)
        return self.out(nn.functional.silu(self.norm(h))).reshape(B, -1)    # [B, out·H·W]
