"""The diffusion job's networks: a small convolutional U-Net on images (the default of the image
kinds) or an MLP (2-D points, or ``--network mlp``)."""

from __future__ import annotations

import math

from ..models import MLPDenoiser, UNetDenoiser


def network(config: dict, shape: tuple[int, ...], out_channels: int = 1):
    """The configuration's network for samples of ``shape`` ((H, W) images, (D,) points) with
    ``out_channels`` outputs per pixel or coordinate; seed its weights before calling."""
    if config["network"] == "unet":
        return UNetDenoiser(shape, config["timesteps"], config["channels"], out_channels)
    dim = math.prod(shape)
    return MLPDenoiser(dim, config["timesteps"], config["hidden"], config["depth"],
                       out_dim=out_channels * dim)
