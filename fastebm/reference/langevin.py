"""Oracles of the Langevin family's ops, in plain PyTorch with the kernels' very Philox bits."""

from __future__ import annotations

import math

import torch

from .philox import normals, uniforms


def langevin_step(x: torch.Tensor, grad: torch.Tensor, step_size: float, seed: int,
                  noise: torch.Tensor | None = None) -> torch.Tensor:
    """Oracle of ``fastebm.ops.langevin_step``: x - ε·grad + √(2ε)·ξ, ξ the kernel's N(0, 1)
    draws of flat element i (offset 0) or ``noise``."""
    if noise is None:
        noise = normals(seed, 0, x.numel(), x.dtype, x.device).reshape(x.shape)
    return x - step_size * grad + math.sqrt(2 * step_size) * noise


def mala_log_alpha(x, x_prop, energy, energy_prop, grad, grad_prop, step_size: float):
    """[B] the MALA log acceptance ratio of each chain (Roberts & Tweedie 1996), p ∝ e^{-E},
    proposal q(x'|x) = N(x - ε∇E(x), 2ε I):
    log α = E(x) - E(x') - (‖x - x' + ε∇E(x')‖² - ‖x' - x + ε∇E(x)‖²) / (4ε)."""
    d = (x_prop - x).flatten(1)
    back = (step_size * grad_prop.flatten(1) - d).square().sum(1)
    fwd = (d + step_size * grad.flatten(1)).square().sum(1)
    return (energy - energy_prop) - (back - fwd) / (4 * step_size)


def mala_accept(x, x_prop, energy, energy_prop, grad, grad_prop, step_size: float, seed: int):
    """Oracle of ``fastebm.ops.mala_accept``: chain b accepts iff u_b < exp(log α_b), u_b the
    kernel's uniform of element b (offset 0); a NaN log α rejects. Returns (x_new, energy_new,
    grad_new, accepted)."""
    log_alpha = mala_log_alpha(x, x_prop, energy, energy_prop, grad, grad_prop, step_size)
    accepted = uniforms(seed, 0, x.shape[0], x.dtype, x.device) < torch.exp(log_alpha)
    rows = accepted.view(-1, *([1] * (x.dim() - 1)))
    return (torch.where(rows, x_prop, x), torch.where(accepted, energy_prop, energy),
            torch.where(rows, grad_prop, grad), accepted)
