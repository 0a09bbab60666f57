"""Oracles of the diffusion family's ops, in plain PyTorch with the kernels' very Philox bits,
written from the papers' formulas (per-sample timesteps by indexing ᾱ)."""

from __future__ import annotations

import torch

from .philox import normals, uniforms


def _noise(x: torch.Tensor, seed: int, noise: torch.Tensor | None) -> torch.Tensor:
    """The kernels' N(0, 1) draw of flat element i (offset 0), or ``noise``."""
    return normals(seed, 0, x.numel(), x.dtype, x.device).reshape(x.shape) if noise is None else noise


def _rows(v: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """[B] per-sample values shaped to broadcast over x [B, ...]."""
    return v.view(-1, *([1] * (x.dim() - 1)))


def _alpha_bar(alphas_cumprod: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """ᾱ_t per sample [B], with ᾱ_{-1} = 1."""
    padded = torch.cat([alphas_cumprod.new_ones(1), alphas_cumprod])
    return padded[t + 1]


def predicted_x0(x_t, noise_pred, ab_t, clip_sample=None):
    """x̂₀ = (x_t - √(1-ᾱ_t)·ε)/√ᾱ_t, clamped to ±clip_sample if given."""
    x0 = (x_t - (1 - ab_t).sqrt() * noise_pred) / ab_t.sqrt()
    return x0 if clip_sample is None else x0.clamp(-clip_sample, clip_sample)


def ddpm_step(x_t, noise_pred, t, alphas_cumprod, variance: int, clip_sample, noise, seed: int):
    """Oracle of ``fastebm.ops.ddpm_step`` (variance 0: fixed_small, 1: fixed_large)."""
    ab_t = _rows(_alpha_bar(alphas_cumprod, t), x_t)
    ab_p = _rows(_alpha_bar(alphas_cumprod, t - 1), x_t)
    beta = 1 - ab_t / ab_p
    x0 = predicted_x0(x_t, noise_pred, ab_t, clip_sample)
    mean = (ab_p.sqrt() * beta / (1 - ab_t)) * x0 + ((1 - beta).sqrt() * (1 - ab_p) / (1 - ab_t)) * x_t
    var = beta if variance == 1 else beta * (1 - ab_p) / (1 - ab_t)
    sigma = torch.where(_rows(t, x_t) == 0, torch.zeros_like(var), var.sqrt())
    return mean + sigma * _noise(x_t, seed, noise)


def ddim_step(x_t, noise_pred, t, t_prev, alphas_cumprod, eta: float, noise, seed: int):
    """Oracle of ``fastebm.ops.ddim_step``."""
    ab_t = _rows(_alpha_bar(alphas_cumprod, t), x_t)
    ab_p = _rows(_alpha_bar(alphas_cumprod, t_prev), x_t)
    sigma = eta * ((1 - ab_p) / (1 - ab_t)).sqrt() * (1 - ab_t / ab_p).sqrt()
    x0 = predicted_x0(x_t, noise_pred, ab_t)
    direction = (1 - ab_p - sigma.square()).clamp(min=0).sqrt() * noise_pred
    return ab_p.sqrt() * x0 + direction + sigma * _noise(x_t, seed, noise)


def gaussian_diffusion_step(x_t, mu, var, noise_var, noise, seed: int):
    """Oracle of ``fastebm.ops.gaussian_diffusion_step``: N(x_t√(1-β) + m√β, σ(b + logit β))."""
    b = _rows(noise_var, x_t)
    mean = x_t * (1 - b).sqrt() + mu * b.sqrt()
    sd = torch.sigmoid(var + torch.logit(b)).sqrt()
    return mean + sd * _noise(x_t, seed, noise)


def binomial_diffusion_step(p, seed: int):
    """Oracle of ``fastebm.ops.binomial_diffusion_step``: 1{u < p}, u the kernels' uniforms."""
    return (uniforms(seed, 0, p.numel(), p.dtype, p.device).reshape(p.shape) < p).to(p.dtype)
