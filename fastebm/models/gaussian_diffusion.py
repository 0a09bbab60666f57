"""Sohl-Dickstein et al. 2015's Gaussian diffusion with a learnt reverse process.

The forward process q(xᵗ | xᵗ⁻¹) = N(xᵗ⁻¹√(1-βₜ), βₜ I), so q(xᵗ | x⁰) = N(√ᾱₜ x⁰, (1-ᾱₜ) I) and
π = N(0, I); the reverse p(xᵗ⁻¹ | xᵗ) = N(μ, σ²) from the network's outputs (m, b) at (xᵗ, k),
parameterised as in the paper's code:

    μ = xᵗ√(1-βₜ) + m√βₜ,   σ² = sigmoid(b + logit βₜ)   (so σ² ∈ (0, 1), = βₜ at b = 0),

m = b = 0 at the last step (the edge rule: N(x¹√(1-β₁), β₁)).
"""

from __future__ import annotations

import math

import torch
from torch import nn

from .. import ops
from ..checks import check_real
from ..ops.common import randn_like
from .diffusion import gaussian_marginal
from .nonequilibrium import NonequilibriumDiffusion

_HALF_LOG_2PI_E = 0.5 * math.log(2 * math.pi * math.e)


def gaussian_kl(mean_q, var_q, mean_p, var_p) -> torch.Tensor:
    """[B] KL(N(mean_q, diag var_q) ‖ N(mean_p, diag var_p)), summed over each row's elements."""
    kl = 0.5 * (var_p.log() - var_q.log() + (var_q + (mean_q - mean_p).square()) / var_p - 1)
    return kl.flatten(1).sum(1)


def normal_log_prob(x, mean, var) -> torch.Tensor:
    """[B] log N(x; mean, diag var) summed over each row (mean, var broadcastable to x)."""
    return (-0.5 * (math.log(2 * math.pi) + var.log() + (x - mean).square() / var)).flatten(1).sum(1)


class GaussianDiffusion(NonequilibriumDiffusion):
    """The 2015 Gaussian model: a forward β schedule (fixed, or learnt with β₁ fixed) and a
    reverse network.

    Args:
        net: (xᵗ [B, D], k int64 [B]) -> [B, 2D]: the reverse step's (m, b) (k = t - 1).
        dim: D. steps: T >= 2.
        beta_1: β₁ (fixed: it sets the finest noise, H_q(X¹|X⁰)).
        beta_T: the last β of the initial schedule (linear in t from β₁ to β_T).
        learn_betas: learn β₂..β_T (as logits) by gradient ascent on the bound with the forward
            draws' noise frozen (reparameterised), as in the paper.
    """

    binary = False

    def __init__(self, net: nn.Module, dim: int, steps: int, *, beta_1: float = 1e-4,
                 beta_T: float = 0.1, learn_betas: bool = True):
        super().__init__(net, dim, steps)
        beta_1 = check_real(beta_1, "beta_1", low=0.0, high=1.0, low_open=True, high_open=True)
        beta_T = check_real(beta_T, "beta_T", low=beta_1, high=1.0, high_open=True)
        self.register_buffer("beta_first", torch.tensor([beta_1], dtype=torch.float64))
        rest = torch.linspace(beta_1, beta_T, self.steps, dtype=torch.float64)[1:]
        logits = torch.log(rest) - torch.log1p(-rest)
        if learn_betas:
            self.beta_logits = nn.Parameter(logits.float())
        else:
            self.register_buffer("beta_logits", logits.float())

    def betas(self) -> torch.Tensor:
        """[T] β₁..β_T (β₁ fixed, the rest sigmoid(logits)), differentiable when learnt."""
        return torch.cat([self.beta_first.to(self.beta_logits.dtype), torch.sigmoid(self.beta_logits)])

    def reverse(self, x_t: torch.Tensor, k: torch.Tensor, betas: torch.Tensor):
        """(μ, σ², m, b) of p(xᵗ⁻¹ | xᵗ) at step index k [B] (t = k + 1)."""
        D = x_t.shape[1]
        out = self.network(x_t, k, 2 * D)
        m, b = out[:, :D], out[:, D:]
        beta = betas[k].to(x_t.dtype)[:, None]
        mean = x_t * (1 - beta).sqrt() + m * beta.sqrt()
        var = torch.sigmoid(b + torch.log(beta) - torch.log1p(-beta))
        return mean, var, m, b

    def _noise_entropy(self, level):
        """D·(½ log 2πe + ½ log v): the entropy of N(·, v I)."""
        return self.event_shape[0] * (_HALF_LOG_2PI_E + 0.5 * torch.log(level))

    def _marginal(self, x0, alpha_bar, generator):
        return gaussian_marginal(x0, alpha_bar, randn_like(x0, generator))

    def _forward_log_prob(self, nxt, x, beta):
        return normal_log_prob(nxt, (1 - beta).sqrt() * x, beta)

    def _prior(self, n, like, generator):
        return randn_like(torch.empty(n, *self.event_shape, dtype=like.dtype, device=like.device),
                          generator)

    def _prior_log_prob(self, x):
        return normal_log_prob(x, torch.zeros((), dtype=x.dtype), torch.ones((), dtype=x.dtype))

    def _step_kl(self, x0, x_t, k, alpha_bar, betas):
        """KL(q(xᵗ⁻¹ | xᵗ, x⁰) ‖ p(xᵗ⁻¹ | xᵗ)) at k >= 1, q's posterior N(μ̃, β̃)."""
        ab, ab_prev, beta = (v[:, None].to(x0.dtype) for v in (alpha_bar[k], alpha_bar[k - 1], betas[k]))
        mean_q = (ab_prev.sqrt() * beta / (1 - ab)) * x0 + ((1 - beta).sqrt() * (1 - ab_prev) / (1 - ab)) * x_t
        mean_p, var_p, _, _ = self.reverse(x_t, k, betas)
        return gaussian_kl(mean_q, (1 - ab_prev) * beta / (1 - ab), mean_p, var_p)

    def _reverse_log_prob(self, x_prev, x_t, k, betas):
        mean, var, _, _ = self.reverse(x_t, k, betas)
        return normal_log_prob(x_prev, mean, var)

    def _check_observation_noise(self, noise) -> float:
        return check_real(noise, "observation_noise (the observation's standard deviation)", low=0.0,
                          low_open=True)

    def _reverse_draw(self, x, k, betas, generator, observation, noise_sd):
        """One fused step (ops.gaussian_diffusion_step); with an observation y, N(μ, σ²) times
        r = N(y, s²): mean (μs² + yσ²)/(σ² + s²), variance σ²s²/(σ² + s²), passed to the op as the
        (m, b) that give them."""
        mean, var, m, b = self.reverse(x, k, betas)
        beta = betas[k].to(x.dtype)
        if observation is not None:
            s2 = noise_sd ** 2
            mean, var = (mean * s2 + observation * var) / (var + s2), var * s2 / (var + s2)
            b_ = beta[:, None]
            m = (mean - x * (1 - b_).sqrt()) / b_.sqrt()
            b = torch.logit(var) - torch.log(b_) + torch.log1p(-b_)
        return ops.gaussian_diffusion_step(x, m.contiguous(), b.contiguous(), beta, generator=generator)
