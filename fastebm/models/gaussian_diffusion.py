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
from ..checks import check_count, check_real
from ..ops.seeds import randn_like
from .diffusion import NoiseSchedule, gaussian_marginal
from .nonequilibrium import NonequilibriumDiffusion

_HALF_LOG_2PI_E = 0.5 * math.log(2 * math.pi * math.e)


def gaussian_kl(mean_q, var_q, mean_p, var_p) -> torch.Tensor:
    """[B] KL(N(mean_q, diag var_q) ‖ N(mean_p, diag var_p)), summed over each row's elements."""
    kl = 0.5 * (var_p.log() - var_q.log() + (var_q + (mean_q - mean_p).square()) / var_p - 1)
    return kl.flatten(1).sum(1)


def normal_log_prob(x, mean, var) -> torch.Tensor:
    """[B] log N(x; mean, diag var) summed over each row (mean, var broadcastable to x)."""
    return (-0.5 * (math.log(2 * math.pi) + var.log() + (x - mean).square() / var)).flatten(1).sum(1)


class GaussianSteps(NonequilibriumDiffusion):
    """The Gaussian family's n_timesteps (π = N(0, I)); a model gives ``noise_vars()`` and ``reverse(x_t,
    k, noise_vars) -> (μ, σ², m, b)`` with (m, b) the paper's parameterisation of N(μ, σ²)."""

    binary = False

    def _noise_entropy(self, level):
        """D·(½ log 2πe + ½ log v): the entropy of N(·, v I)."""
        return self.event_shape[0] * (_HALF_LOG_2PI_E + 0.5 * torch.log(level))

    def _marginal(self, x0, alpha_bar, generator):
        return gaussian_marginal(x0, alpha_bar, randn_like(x0, generator))

    def _forward_log_prob(self, nxt, x, noise_var):
        return normal_log_prob(nxt, (1 - noise_var).sqrt() * x, noise_var)

    def _prior(self, n, like, generator):
        return randn_like(torch.empty(n, *self.event_shape, dtype=like.dtype, device=like.device),
                          generator)

    def _prior_log_prob(self, x):
        return normal_log_prob(x, torch.zeros((), dtype=x.dtype), torch.ones((), dtype=x.dtype))

    def _step_kl(self, x0, x_t, k, alpha_bar, noise_vars):
        """KL(q(xᵗ⁻¹ | xᵗ, x⁰) ‖ p(xᵗ⁻¹ | xᵗ)) at k >= 1, q's posterior N(μ̃, β̃)."""
        ab, ab_prev, noise_var = (v[:, None].to(x0.dtype) for v in (alpha_bar[k], alpha_bar[k - 1], noise_vars[k]))
        mean_q = (ab_prev.sqrt() * noise_var / (1 - ab)) * x0 + ((1 - noise_var).sqrt() * (1 - ab_prev) / (1 - ab)) * x_t
        mean_p, var_p, _, _ = self.reverse(x_t, k, noise_vars)
        return gaussian_kl(mean_q, (1 - ab_prev) * noise_var / (1 - ab), mean_p, var_p)

    def _reverse_log_prob(self, x_prev, x_t, k, noise_vars):
        mean, var, _, _ = self.reverse(x_t, k, noise_vars)
        return normal_log_prob(x_prev, mean, var)

    def _check_observation_noise(self, noise) -> float:
        return check_real(noise, "observation_noise (the observation's standard deviation)", low=0.0,
                          low_open=True)

    def _reverse_draw(self, x, k, noise_vars, generator, observation, noise_sd, power=1.0,
                      log_r=None):
        """One fused step (ops.gaussian_diffusion_step); with an observation y, N(μ, σ²) times
        r^w, r = N(y, s²) (so r^w ∝ N(y, s²/w)): mean (μs² + yσ²)/(σ² + s²), variance
        σ²s²/(σ² + s²) with s² / w for s²; with a smooth ``log_r``, the mean moved to
        μ + w σ² ∇log r(μ) (the paper's perturbation for an r smooth at the step's scale). The
        op takes the (m, b) that give the step's mean and variance."""
        mean, var, m, b = self.reverse(x, k, noise_vars)
        noise_var = noise_vars[k].to(x.dtype)
        if observation is not None:
            s2 = noise_sd ** 2 / power
            mean, var = (mean * s2 + observation * var) / (var + s2), var * s2 / (var + s2)
        if log_r is not None:
            with torch.enable_grad():
                at = mean.detach().requires_grad_()
                (grad,) = torch.autograd.grad(log_r(at).sum(), at)
            mean = mean + power * var * grad
        if observation is not None or log_r is not None:
            b_ = noise_var[:, None]
            m = (mean - x * (1 - b_).sqrt()) / b_.sqrt()
            b = torch.logit(var) - torch.log(b_) + torch.log1p(-b_)
        return ops.gaussian_diffusion_step(x, m.contiguous(), b.contiguous(), noise_var, generator=generator)


class GaussianDiffusion(GaussianSteps):
    """The 2015 Gaussian model: a forward β schedule (fixed, or learnt with β₁ fixed) and a
    reverse network.

    Args:
        net: (xᵗ [B, D], k int64 [B]) -> [B, 2D]: the reverse step's (m, b) (k = t - 1).
        dim: D. n_timesteps: T >= 2.
        noise_var_1: β₁ (fixed: it sets the finest noise, H_q(X¹|X⁰)).
        noise_var_T: the last β of the initial schedule (linear in t from β₁ to β_T).
        learn_noise_vars: learn β₂..β_T (as logits) by gradient ascent on the bound with the forward
            draws' noise frozen (reparameterised), as in the paper.
    """

    def __init__(self, net: nn.Module, dim: int, n_timesteps: int, *, noise_var_1: float = 1e-4,
                 noise_var_T: float = 0.1, learn_noise_vars: bool = True):
        super().__init__(net, dim, n_timesteps)
        noise_var_1 = check_real(noise_var_1, "noise_var_1", low=0.0, high=1.0, low_open=True, high_open=True)
        noise_var_T = check_real(noise_var_T, "noise_var_T", low=noise_var_1, high=1.0, high_open=True)
        self.register_buffer("beta_first", torch.tensor([noise_var_1], dtype=torch.float64))
        rest = torch.linspace(noise_var_1, noise_var_T, self.n_timesteps, dtype=torch.float64)[1:]
        logits = torch.log(rest) - torch.log1p(-rest)
        if learn_noise_vars:
            self.beta_logits = nn.Parameter(logits.float())
        else:
            self.register_buffer("beta_logits", logits.float())

    def noise_vars(self) -> torch.Tensor:
        """[T] β₁..β_T (β₁ fixed, the rest sigmoid(logits)), differentiable when learnt."""
        return torch.cat([self.beta_first.to(self.beta_logits.dtype), torch.sigmoid(self.beta_logits)])

    def reverse(self, x_t: torch.Tensor, k: torch.Tensor, noise_vars: torch.Tensor):
        """(μ, σ², m, b) of p(xᵗ⁻¹ | xᵗ) at step index k [B] (t = k + 1)."""
        D = x_t.shape[1]
        out = self.network(x_t, k, 2 * D)
        m, b = out[:, :D], out[:, D:]
        noise_var = noise_vars[k].to(x_t.dtype)[:, None]
        mean = x_t * (1 - noise_var).sqrt() + m * noise_var.sqrt()
        var = torch.sigmoid(b + torch.log(noise_var) - torch.log1p(-noise_var))
        return mean, var, m, b


class DenoiserDiffusion(GaussianSteps):
    """An ε-prediction denoiser and its forward NoiseSchedule (DDPM) read as a 2015 Gaussian
    reverse process, for its bound K and trajectory likelihood: step k's reverse N(μ, σ²),

        μ = (xᵗ - βₖ/√(1-ᾱₖ)·ε̂(xᵗ, k)) / √(1-βₖ),
        σ² = β̃ₖ = βₖ(1-ᾱₖ₋₁)/(1-ᾱₖ) (variance "fixed_small") or βₖ ("fixed_large"),

    and the edge rule at k = 0 (N(x¹√(1-β₀), β₀), the decoder of a continuous x⁰). With
    ``levels`` = L, x⁰ is discrete on L evenly spaced levels spanning [-1, 1] (bin width
    h = 2/(L-1)) and the last step is Ho et al.'s discretised decoder: the mass of N(x¹√(1-β₀),
    β₀) over each level's bin (the outer bins open), so K and the trajectory estimate are
    log-probabilities of the discrete data, with K = E_q[log p(x⁰ | x¹)] - Σ_{t>=2} KL -
    KL(q(xᵀ | x⁰) ‖ N(0, I)).

    Args:
        denoiser: ε̂(x_t [B, D], t int64 [B]) with ``event_shape`` (D,).
        schedule: the models.NoiseSchedule it was trained with.
        variance: "fixed_small" or "fixed_large".
        levels: None (continuous x⁰) or L >= 2.
    """

    def __init__(self, denoiser: nn.Module, schedule: NoiseSchedule, variance: str = "fixed_small",
                 levels: int | None = None):
        if not isinstance(schedule, NoiseSchedule):
            raise TypeError(f"schedule must be a NoiseSchedule, got {type(schedule).__name__}")
        shape = tuple(getattr(denoiser, "event_shape", ()))
        if len(shape) != 1:
            raise ValueError(f"the denoiser must have a flat event_shape (D,), got {shape}")
        super().__init__(denoiser, shape[0], schedule.n_timesteps)
        if variance not in ("fixed_small", "fixed_large"):
            raise ValueError(f"variance must be 'fixed_small' or 'fixed_large', got {variance!r}")
        self.small = variance == "fixed_small"
        self.levels = None if levels is None else check_count(levels, "levels", 2)
        self.register_buffer("beta_values", schedule.noise_vars.clone())

    def check_data(self, x0, name: str = "x0") -> torch.Tensor:
        x0 = super().check_data(x0, name)
        if self.levels is not None:
            grid = (x0 + 1) * (self.levels - 1) / 2  # level indices, up to the dtype's rounding
            off = (grid - grid.round()).abs().max() if x0.numel() else 0
            if off > 1e-3 or grid.min() < -1e-3 or grid.max() > self.levels - 1 + 1e-3:
                raise ValueError(f"{name} must lie on the {self.levels} levels spanning [-1, 1]")
        return x0

    def _reverse_log_prob(self, x_prev, x_t, k, noise_vars):
        """log p(xᵗ⁻¹ | xᵗ); at k = 0 with levels, the discretised decoder's bin mass."""
        if self.levels is None:
            return super()._reverse_log_prob(x_prev, x_t, k, noise_vars)
        continuous = super()._reverse_log_prob(x_prev, x_t, k, noise_vars)
        return torch.where(k == 0, self._decoder_log_prob(x_prev, x_t, noise_vars[0]), continuous)

    def _decoder_log_prob(self, x0, x1, noise_var) -> torch.Tensor:
        """[B] log Π_i ∫_{bin(x⁰ᵢ)} N(u; x¹ᵢ√(1-β₀), β₀) du."""
        half = 1 / (self.levels - 1)
        normal = torch.distributions.Normal(x1 * (1 - noise_var).sqrt(), noise_var.sqrt())
        upper = torch.where(x0 >= 1, 1.0, normal.cdf(x0 + half))
        lower = torch.where(x0 <= -1, 0.0, normal.cdf(x0 - half))
        return (upper - lower).clamp(min=torch.finfo(x0.dtype).tiny).log().flatten(1).sum(1)

    def _edge(self, x0, alpha_bar, noise_vars, generator):
        """Continuous: eq. 14's entropy terms. Discrete: E_q[log p(x⁰ | x¹)] at one draw x¹ ~
        q(x¹ | x⁰), minus KL(q(xᵀ | x⁰) ‖ N(0, I))."""
        if self.levels is None:
            return super()._edge(x0, alpha_bar, noise_vars, generator)
        noise_var, last = noise_vars[0].to(x0.dtype), alpha_bar[-1].to(x0.dtype)
        x1 = self._marginal(x0, 1 - noise_var, generator)
        prior_kl = gaussian_kl(last.sqrt() * x0, (1 - last).expand_as(x0), torch.zeros_like(x0),
                               torch.ones_like(x0))
        return self._decoder_log_prob(x0, x1, noise_var) - prior_kl

    def noise_vars(self) -> torch.Tensor:
        return self.beta_values

    def reverse(self, x_t: torch.Tensor, k: torch.Tensor, noise_vars: torch.Tensor):
        """(μ, σ², m, b) of p(xᵗ⁻¹ | xᵗ) at step index k [B], (m, b) the paper's coordinates."""
        alpha_bar = torch.cumprod(1 - noise_vars, 0)
        noise_var, ab = (v[k].to(x_t.dtype)[:, None] for v in (noise_vars, alpha_bar))
        ab_prev = torch.where(k[:, None] > 0, alpha_bar[(k - 1).clamp(min=0)].to(x_t.dtype)[:, None], 1.0)
        eps = self.network(x_t, k, x_t.shape[1])
        mean = (x_t - noise_var / (1 - ab).sqrt() * eps) / (1 - noise_var).sqrt()
        var = torch.where(k[:, None] > 0, noise_var * (1 - ab_prev) / (1 - ab), noise_var) if self.small else noise_var
        m = (mean - x_t * (1 - noise_var).sqrt()) / noise_var.sqrt()
        b = torch.logit(var) - torch.logit(noise_var)
        return mean, var.expand_as(mean), m, b.expand_as(mean)
