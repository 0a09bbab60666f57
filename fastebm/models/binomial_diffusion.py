"""Sohl-Dickstein et al. 2015's binomial diffusion over binary x ∈ {0, 1}ᴰ.

The forward process q(xᵗ | xᵗ⁻¹) = B(xᵗ⁻¹(1-βₜ) + ½βₜ) with βₜ = 1/(T-t+1): each bit is re-drawn
fairly with probability βₜ (flipped with probability βₜ/2), so ᾱₜ = 1 - t/T, q(xᵗ | x⁰) =
B(x⁰ᾱₜ + ½(1-ᾱₜ)) and q(xᵀ | x⁰) = B(½) = π exactly. The reverse p(xᵗ⁻¹ | xᵗ) = B(·) with each
bit's flip rate from the network's logits ℓ at (xᵗ, k):

    P(xᵢᵗ⁻¹ ≠ xᵢᵗ) = sigmoid(ℓᵢ + logit(βₜ/2))   (= the forward flip rate βₜ/2 at ℓ = 0),

ℓ = 0 at the last step (the edge rule: the forward flip undone at rate β₁/2).
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn.functional import binary_cross_entropy_with_logits, logsigmoid

from .. import ops
from ..checks import check_real
from .nonequilibrium import NonequilibriumDiffusion


def binary_entropy(p: torch.Tensor) -> torch.Tensor:
    """H(B(p)) = -p log p - (1-p) log(1-p) (nats; 0 at p ∈ {0, 1})."""
    return -(torch.xlogy(p, p) + torch.xlogy(1 - p, 1 - p))


def bernoulli_log_prob(x: torch.Tensor, p: torch.Tensor) -> torch.Tensor:
    """[B] log B(x; p) summed over each row."""
    return (torch.xlogy(x, p) + torch.xlogy(1 - x, 1 - p)).flatten(1).sum(1)


class BinomialDiffusion(NonequilibriumDiffusion):
    """The 2015 binomial model: the fixed schedule βₜ = 1/(T-t+1) and a reverse flip-rate network.

    Args:
        net: (xᵗ [B, D] in {0, 1}, k int64 [B]) -> [B, D]: the reverse step's flip logits ℓ
            (k = t - 1).
        dim: D. n_timesteps: T >= 2.
    """

    binary = True

    def __init__(self, net: nn.Module, dim: int, n_timesteps: int):
        super().__init__(net, dim, n_timesteps)
        t = torch.arange(1, self.n_timesteps + 1, dtype=torch.float64)
        self.register_buffer("beta_values", (1 / (self.n_timesteps - t + 1)).float())

    def noise_vars(self) -> torch.Tensor:
        """[T] βₜ = 1/(T-t+1), t = 1..T (β_T = 1)."""
        return self.beta_values

    def reverse_logits(self, x_t: torch.Tensor, k: torch.Tensor, noise_vars: torch.Tensor) -> torch.Tensor:
        """[B, D] logit P(xᵗ⁻¹ = 1 | xᵗ) at step index k [B]: ±(ℓ + logit(βₜ/2)), + where xᵗ = 0."""
        half = noise_vars[k].to(x_t.dtype)[:, None] / 2
        flip = self.network(x_t, k, x_t.shape[1]) + torch.log(half) - torch.log1p(-half)
        return (1 - 2 * x_t) * flip

    def _noise_entropy(self, level):
        """D·H(B(r/2)): the entropy of re-drawing a fraction r of each bit fairly."""
        return self.event_shape[0] * binary_entropy(level / 2)

    def _marginal(self, x0, alpha_bar, generator):
        return ops.binomial_diffusion_step(x0 * alpha_bar + (1 - alpha_bar) / 2, generator=generator)

    def _forward_log_prob(self, nxt, x, noise_var):
        return bernoulli_log_prob(nxt, x * (1 - noise_var) + noise_var / 2)

    def _prior(self, n, like, generator):
        half = torch.full((n, *self.event_shape), 0.5, dtype=like.dtype, device=like.device)
        return ops.binomial_diffusion_step(half, generator=generator)

    def _prior_log_prob(self, x):
        return torch.full((x.shape[0],), -x.shape[1] * math.log(2), dtype=x.dtype, device=x.device)

    def _step_kl(self, x0, x_t, k, alpha_bar, noise_vars):
        """KL(q(xᵗ⁻¹ | xᵗ, x⁰) ‖ p(xᵗ⁻¹ | xᵗ)) at k >= 1: q's posterior P(xᵗ⁻¹ = 1) ∝ a·q(xᵗ | 1)
        against (1 - a)·q(xᵗ | 0), a = x⁰ᾱₜ₋₁ + ½(1-ᾱₜ₋₁)."""
        ab_prev, half = (v[:, None].to(x0.dtype) for v in (alpha_bar[k - 1], noise_vars[k] / 2))
        a = x0 * ab_prev + (1 - ab_prev) / 2
        from_one = x_t * (1 - half) + (1 - x_t) * half    # q(xᵗ | xᵗ⁻¹ = 1)
        q = a * from_one / (a * from_one + (1 - a) * (1 - from_one))
        logits = self.reverse_logits(x_t, k, noise_vars)
        kl = -binary_entropy(q) - q * logsigmoid(logits) - (1 - q) * logsigmoid(-logits)
        return kl.sum(1)

    def _reverse_log_prob(self, x_prev, x_t, k, noise_vars):
        logits = self.reverse_logits(x_t, k, noise_vars)
        return -binary_cross_entropy_with_logits(logits, x_prev, reduction="none").sum(1)

    def _check_observation_noise(self, noise) -> float:
        return check_real(noise, "observation_noise (the observation's bit-flip probability)",
                          low=0.0, high=0.5, low_open=True, high_open=True)

    def _reverse_draw(self, x, k, noise_vars, generator, observation, flip, power=1.0,
                      log_r=None):
        """One fused step (ops.binomial_diffusion_step); with an observation y whose bits were
        flipped with probability ε, B(p) times r^w: logit p + w·(2y - 1)·logit(1 - ε). (No
        smooth r on bits: ``sample`` refuses ``log_r``.)"""
        logits = self.reverse_logits(x, k, noise_vars)
        if observation is not None:
            logits = logits + power * (2 * observation - 1) * math.log((1 - flip) / flip)
        return ops.binomial_diffusion_step(torch.sigmoid(logits), generator=generator)
