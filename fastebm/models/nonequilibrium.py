"""Sohl-Dickstein, Weiss, Maheswaranathan & Ganguli 2015, "Deep Unsupervised Learning using
Nonequilibrium Thermodynamics": Gaussian diffusion with a learnt reverse process.

Steps t = 1..T (index k = t - 1 in tensors): the forward process
q(xᵗ | xᵗ⁻¹) = N(xᵗ⁻¹√(1-βₜ), βₜ I), so q(xᵗ | x⁰) = N(√ᾱₜ x⁰, (1-ᾱₜ) I), ᾱₜ = Π_{s<=t}(1-βₛ); the
reverse process p(xᵀ) = N(0, I), p(xᵗ⁻¹ | xᵗ) = N(μ, σ²) with the network's outputs (m, b) at
(xᵗ, t) parameterised as in the paper's code:

    μ = xᵗ√(1-βₜ) + m√βₜ,   σ² = sigmoid(b + logit βₜ)   (so σ² ∈ (0, 1), = βₜ at b = 0).
"""

from __future__ import annotations

import math

import torch
from torch import nn

from .. import ops
from ..checks import check_count, check_real
from ..ops.common import randn_like
from .diffusion import check_inpainting, replace_known

_HALF_LOG_2PI_E = 0.5 * math.log(2 * math.pi * math.e)


def gaussian_kl(mean_q, var_q, mean_p, var_p) -> torch.Tensor:
    """[B] KL(N(mean_q, diag var_q) ‖ N(mean_p, diag var_p)), summed over each row's elements."""
    kl = 0.5 * (var_p.log() - var_q.log() + (var_q + (mean_q - mean_p).square()) / var_p - 1)
    return kl.flatten(1).sum(1)


def gaussian_entropy(var: torch.Tensor, dim: int) -> torch.Tensor:
    """The entropy of N(·, var I) in ``dim`` dimensions: dim·(½ log 2πe + ½ log var)."""
    return dim * (_HALF_LOG_2PI_E + 0.5 * torch.log(var))


class GaussianDiffusion(nn.Module):
    """The 2015 model: a forward β schedule (fixed, or learnt with β₁ fixed) and a reverse network.

    Args:
        net: (xᵗ [B, D], k int64 [B]) -> [B, 2D]: the reverse step's (m, b) (k = t - 1).
        dim: D. steps: T >= 2.
        beta_1: β₁ (fixed: it sets the finest noise, H_q(X¹|X⁰)).
        beta_T: the last β of the initial schedule (linear in t from β₁ to β_T).
        learn_betas: learn β₂..β_T (as logits) by gradient ascent on the bound with the forward
            draws' noise frozen (reparameterised), as in the paper.
    """

    def __init__(self, net: nn.Module, dim: int, steps: int, *, beta_1: float = 1e-4,
                 beta_T: float = 0.1, learn_betas: bool = True):
        super().__init__()
        if not isinstance(net, nn.Module):
            raise TypeError(f"net must be a torch.nn.Module, got {type(net).__name__}")
        self.net = net
        self.event_shape = (check_count(dim, "dim"),)
        T = check_count(steps, "steps", 2)
        beta_1 = check_real(beta_1, "beta_1", low=0.0, high=1.0, low_open=True, high_open=True)
        beta_T = check_real(beta_T, "beta_T", low=beta_1, high=1.0, high_open=True)
        self.register_buffer("beta_first", torch.tensor([beta_1], dtype=torch.float64))
        rest = torch.linspace(beta_1, beta_T, T, dtype=torch.float64)[1:]
        logits = torch.log(rest) - torch.log1p(-rest)
        if learn_betas:
            self.beta_logits = nn.Parameter(logits.float())
        else:
            self.register_buffer("beta_logits", logits.float())

    @property
    def steps(self) -> int:
        return self.beta_logits.numel() + 1

    def betas(self) -> torch.Tensor:
        """[T] β₁..β_T (β₁ fixed, the rest sigmoid(logits)), differentiable when learnt."""
        return torch.cat([self.beta_first.to(self.beta_logits.dtype), torch.sigmoid(self.beta_logits)])

    def reverse(self, x_t: torch.Tensor, k: torch.Tensor, betas: torch.Tensor):
        """(μ, σ², m, b) of p(xᵗ⁻¹ | xᵗ) at step index k [B] (t = k + 1)."""
        out = self.net(x_t, k)
        D = x_t.shape[1]
        if out.shape != (x_t.shape[0], 2 * D):
            raise ValueError(f"the reverse network must map [B, {D}] to [B, {2 * D}] (m, b), got "
                             f"{list(out.shape)}")
        m, b = out[:, :D], out[:, D:]
        beta = betas[k].to(x_t.dtype)[:, None]
        mean = x_t * (1 - beta).sqrt() + m * beta.sqrt()
        var = torch.sigmoid(b + torch.log(beta) - torch.log1p(-beta))
        return mean, var, m, b

    def _posterior(self, x0, x_t, k, alpha_bar, betas):
        """q(xᵗ⁻¹ | xᵗ, x⁰) = N(μ̃, β̃) at step index k >= 1 (t >= 2)."""
        ab, ab_prev, beta = (v[:, None].to(x0.dtype) for v in (alpha_bar[k], alpha_bar[k - 1], betas[k]))
        mean = (ab_prev.sqrt() * beta / (1 - ab)) * x0 + ((1 - beta).sqrt() * (1 - ab_prev) / (1 - ab)) * x_t
        return mean, (1 - ab_prev) * beta / (1 - ab)

    def _entropy_terms(self, betas, alpha_bar, dtype) -> torch.Tensor:
        """H_q(Xᵀ | X⁰) - H_q(X¹ | X⁰) - H_p(Xᵀ)."""
        D = self.event_shape[0]
        one = torch.ones((), dtype=torch.float64, device=betas.device)
        return (gaussian_entropy(1 - alpha_bar[-1], D) - gaussian_entropy(betas[0], D)
                - gaussian_entropy(one, D)).to(dtype)

    def bound(self, x0: torch.Tensor, generator=None, *, every_step: bool = False) -> torch.Tensor:
        """[B] the lower bound K on log p(x⁰) (nats per sample; paper eq. 14):

            K = -Σ_{t=2}^T E_q[KL(q(xᵗ⁻¹ | xᵗ, x⁰) ‖ p(xᵗ⁻¹ | xᵗ))]
                + H_q(Xᵀ | X⁰) - H_q(X¹ | X⁰) - H_p(Xᵀ),

        each KL at one draw xᵗ ~ q(xᵗ | x⁰). ``every_step``: the sum over all T - 1 steps (T - 1
        network calls); else an unbiased estimate from one random t per sample, (T - 1)·KL_t
        (one call; the training objective). Differentiable in the network and the βs (the draws
        are reparameterised: xᵗ = √ᾱₜ x⁰ + √(1-ᾱₜ) z with z frozen)."""
        betas = self.betas()
        alpha_bar = torch.cumprod(1 - betas, 0)
        B, T = x0.shape[0], self.steps
        device = "cpu" if generator is None else generator.device
        if every_step:
            kl = 0
            for k in range(1, T):
                kl = kl + self._step_kl(x0, torch.full((B,), k, device=x0.device), alpha_bar, betas,
                                        generator)
        else:
            k = torch.randint(1, T, (B,), generator=generator, device=device).to(x0.device)
            kl = (T - 1) * self._step_kl(x0, k, alpha_bar, betas, generator)
        return -kl + self._entropy_terms(betas, alpha_bar, x0.dtype)

    def _step_kl(self, x0, k, alpha_bar, betas, generator) -> torch.Tensor:
        ab = alpha_bar[k].to(x0.dtype)[:, None]
        x_t = ab.sqrt() * x0 + (1 - ab).sqrt() * randn_like(x0, generator)
        mean_q, var_q = self._posterior(x0, x_t, k, alpha_bar, betas)
        mean_p, var_p, _, _ = self.reverse(x_t, k, betas)
        return gaussian_kl(mean_q, var_q, mean_p, var_p)

    @torch.no_grad()
    def trajectory_log_likelihood(self, x0: torch.Tensor, n_trajectories: int = 100,
                                  generator=None) -> torch.Tensor:
        """[B] log p(x⁰) estimated by importance sampling over forward trajectories (paper eq. 9):

            p(x⁰) = E_{q(x¹..ᵀ | x⁰)}[ p(xᵀ) Π_t p(xᵗ⁻¹ | xᵗ) / q(xᵗ | xᵗ⁻¹) ],

        the log of the mean over ``n_trajectories`` trajectories (log-sum-exp): a stochastic
        lower bound (Jensen) that tightens as trajectories are added, above K in expectation."""
        S = check_count(n_trajectories, "n_trajectories")
        betas = self.betas().detach().double()
        B, D = x0.shape
        x = x0.repeat(S, 1)                     # [S·B, D]: trajectory s of sample b at s·B + b
        log_w = torch.zeros(S * B, dtype=torch.float64, device=x0.device)
        for k in range(self.steps):
            beta = betas[k].to(x.dtype)
            nxt = (1 - beta).sqrt() * x + beta.sqrt() * randn_like(x, generator)
            log_w -= _normal_log_prob(nxt, (1 - beta).sqrt() * x, beta.expand_as(x))
            mean, var, _, _ = self.reverse(nxt, torch.full((S * B,), k, device=x.device), betas)
            log_w += _normal_log_prob(x, mean, var)
            x = nxt
        log_w += _normal_log_prob(x, torch.zeros_like(x), torch.ones_like(x))
        return torch.logsumexp(log_w.view(S, B), 0) - math.log(S)

    @torch.no_grad()
    def sample(self, n: int, *, generator=None, known: torch.Tensor | None = None,
               mask: torch.Tensor | None = None) -> torch.Tensor:
        """[n, D] x⁰ by the reverse process from xᵀ ~ N(0, I), each step one fused op
        (ops.gaussian_diffusion_step). With ``known`` [n, D] and a bool ``mask``: p(x⁰) multiplied
        by a delta on the known coordinates (paper section 2.5) by replacement: after every step
        they are set to a draw of q(xᵗ⁻¹ | known) (the known values at the end)."""
        check_count(n, "n")
        like = self.beta_logits
        betas = self.betas().detach().double()
        alpha_bar = torch.cumprod(1 - betas, 0)
        x = randn_like(torch.empty(n, *self.event_shape, dtype=like.dtype, device=like.device),
                       generator)
        known = check_inpainting(x, known, mask)
        for k in range(self.steps - 1, -1, -1):
            steps = torch.full((n,), k, device=x.device)
            out = self.net(x, steps)
            D = x.shape[1]
            x = ops.gaussian_diffusion_step(x, out[:, :D].contiguous(), out[:, D:].contiguous(),
                                            betas[steps].to(x.dtype), generator=generator)
            if known is not None:
                x = replace_known(x, known, mask, None if k == 0 else alpha_bar[k - 1], generator)
        return x


def _normal_log_prob(x, mean, var) -> torch.Tensor:
    """[B] log N(x; mean, diag var) summed over each row."""
    return (-0.5 * (math.log(2 * math.pi) + var.log() + (x - mean).square() / var)).flatten(1).sum(1).double()
