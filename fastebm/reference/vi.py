"""Oracle of the variational-inference op, in plain PyTorch with the kernel's very Philox bits."""

from __future__ import annotations

import torch

from .philox import normals


def reparameterize(mu, log_sigma, noise, seed: int):
    """Oracle of ``torch.ops.fastebm.reparameterize``: ε = noise, or the N(0, 1) draws of elements
    0 .. n-1 (flattened) at draw offset 0; returns (z = μ + s, s = exp(log σ) ε)."""
    eps = noise if noise is not None else normals(seed, 0, mu.numel(), mu.dtype, mu.device).view(mu.shape)
    scaled = log_sigma.exp() * eps
    return mu + scaled, scaled
