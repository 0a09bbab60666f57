"""Restricted Boltzmann machines (Smolensky 1986; Hinton 2002) as ``nn.Module``s.

Both models keep parameters ``W`` [V, H], ``b`` [V], ``c`` [H] (and ``sigma`` [V] for Gaussian
visible units); samples come from the fused kernels in :mod:`fastebm.ops`.
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn.functional import softplus

from .. import ops


class _RBM(nn.Module):
    """What both RBMs share: W [V, H] ~ N(0, weight_std²) (Hinton's practical guide: 0.01),
    biases b [V] and c [H] at 0, layer sizes, and sampling from a chain start."""

    def __init__(self, n_visible: int, n_hidden: int, weight_std: float, dtype, device,
                 generator: torch.Generator | None):
        super().__init__()
        if n_visible < 1 or n_hidden < 1:
            raise ValueError(f"n_visible and n_hidden must be >= 1, got {n_visible}, {n_hidden}")
        W = weight_std * torch.randn(n_visible, n_hidden, generator=generator, dtype=dtype)
        self.W = nn.Parameter(W.to(device))
        self.b = nn.Parameter(torch.zeros(n_visible, dtype=W.dtype, device=device))
        self.c = nn.Parameter(torch.zeros(n_hidden, dtype=W.dtype, device=device))

    @property
    def n_visible(self) -> int:
        return self.W.shape[0]

    @property
    def n_hidden(self) -> int:
        return self.W.shape[1]

    @torch.no_grad()
    def sample(self, n: int, k: int = 1000, generator: torch.Generator | None = None, *,
               v0: torch.Tensor | None = None) -> torch.Tensor:
        """[n, V] samples after k sweeps from v0 (default: the model's random_visible)."""
        v = self.random_visible(n, generator) if v0 is None else v0
        return self.gibbs(v, k, generator=generator)[0]


class BernoulliRBM(_RBM):
    """Bernoulli-Bernoulli RBM, E(v, h) = -v·b - h·c - vᵀWh, v ∈ {0,1}^V, h ∈ {0,1}^H.

    Args:
        n_visible, n_hidden: layer sizes V, H.
        weight_std: W starts as N(0, weight_std²); biases at 0.
        generator: source of the initial weights.
    """

    def __init__(self, n_visible: int, n_hidden: int, *, weight_std: float = 0.01,
                 dtype: torch.dtype | None = None, device=None,
                 generator: torch.Generator | None = None):
        super().__init__(n_visible, n_hidden, weight_std, dtype, device, generator)

    def energy(self, v: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
        """[B] E(v, h) = -v·b - h·c - vᵀWh for v [B, V], h [B, H]."""
        return -(v @ self.b) - (h @ self.c) - ((v @ self.W) * h).sum(-1)

    def free_energy(self, v: torch.Tensor, beta: float = 1.0) -> torch.Tensor:
        """[B] F_β(v) = -log Σ_h e^{-βE(v,h)} = -β v·b - Σⱼ softplus(β(cⱼ + (vW)ⱼ))."""
        return -beta * (v @ self.b) - softplus(beta * (v @ self.W + self.c)).sum(-1)

    def hidden_probs(self, v: torch.Tensor) -> torch.Tensor:
        """[B, H] p(hⱼ = 1 | v) = σ(cⱼ + (vW)ⱼ)."""
        return torch.sigmoid(v @ self.W + self.c)

    def visible_probs(self, h: torch.Tensor) -> torch.Tensor:
        """[B, V] p(vᵢ = 1 | h) = σ(bᵢ + (Wh)ᵢ)."""
        return torch.sigmoid(h @ self.W.T + self.b)

    def gibbs(self, v: torch.Tensor, k: int = 1, *, beta: float = 1.0,
              generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """k block-Gibbs sweeps from v [B, V] at inverse temperature beta (p ∝ e^{-βE});
        returns (v_k, h_k)."""
        W, b, c = (p.detach() for p in (self.W, self.b, self.c))
        if beta != 1.0:
            W, b, c = beta * W, beta * b, beta * c
        return ops.rbm_gibbs(v, W, b, c, k, generator=generator)

    def random_visible(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """[n, V] uniform random binary states (a chain start)."""
        p = torch.full((n, self.n_visible), 0.5, dtype=self.W.dtype)
        return torch.bernoulli(p, generator=generator).to(self.W.device)


class GaussianBernoulliRBM(_RBM):
    """Gaussian-Bernoulli RBM (Hinton & Salakhutdinov 2006; Cho et al. 2011 for learnt σ):

        E(v, h) = Σᵢ (vᵢ - bᵢ)² / 2σᵢ² - h·c - Σᵢⱼ vᵢ Wᵢⱼ hⱼ / σᵢ,  v ∈ ℝ^V, h ∈ {0,1}^H.

    ``sigma`` is stored as ``log_sigma`` so that it stays positive under gradient steps.
    """

    def __init__(self, n_visible: int, n_hidden: int, *, weight_std: float = 0.01,
                 sigma: float = 1.0, dtype: torch.dtype | None = None, device=None,
                 generator: torch.Generator | None = None):
        if not sigma > 0:
            raise ValueError(f"sigma must be > 0, got {sigma}")
        super().__init__(n_visible, n_hidden, weight_std, dtype, device, generator)
        self.log_sigma = nn.Parameter(torch.full((n_visible,), math.log(sigma),
                                                 dtype=self.W.dtype, device=device))

    @property
    def sigma(self) -> torch.Tensor:
        """[V] σ = exp(log_sigma)."""
        return self.log_sigma.exp()

    def energy(self, v: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
        """[B] E(v, h) for v [B, V], h [B, H]."""
        s = self.sigma
        return (((v - self.b) / s) ** 2 / 2).sum(-1) - h @ self.c - (((v / s) @ self.W) * h).sum(-1)

    def free_energy(self, v: torch.Tensor, beta: float = 1.0) -> torch.Tensor:
        """[B] F_β(v) = β Σᵢ (vᵢ - bᵢ)²/2σᵢ² - Σⱼ softplus(β(cⱼ + ((v/σ)W)ⱼ))."""
        s = self.sigma
        quadratic = (((v - self.b) / s) ** 2 / 2).sum(-1)
        return beta * quadratic - softplus(beta * ((v / s) @ self.W + self.c)).sum(-1)

    def hidden_probs(self, v: torch.Tensor) -> torch.Tensor:
        """[B, H] p(hⱼ = 1 | v) = σ(cⱼ + ((v/σ)W)ⱼ)."""
        return torch.sigmoid((v / self.sigma) @ self.W + self.c)

    def visible_mean(self, h: torch.Tensor) -> torch.Tensor:
        """[B, V] E[v | h] = b + σ·(Wh); v | h ~ N(that, σ²)."""
        return self.b + self.sigma * (h @ self.W.T)

    def gibbs(self, v: torch.Tensor, k: int = 1, *, beta: float = 1.0,
              generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """k block-Gibbs sweeps from v [B, V] at inverse temperature beta > 0; returns (v_k, h_k).
        p ∝ e^{-βE} is the GRBM with W√β, b, βc, σ/√β."""
        if not beta > 0:
            raise ValueError(f"beta must be > 0 for a Gaussian-Bernoulli RBM, got {beta}")
        W, b, c, s = (p.detach() for p in (self.W, self.b, self.c, self.sigma))
        if beta != 1.0:
            W, c, s = W * math.sqrt(beta), c * beta, s / math.sqrt(beta)
        return ops.grbm_gibbs(v, W, b, c, s, k, generator=generator)

    def random_visible(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """[n, V] draws from N(b, σ²) (a chain start)."""
        z = torch.randn(n, self.n_visible, generator=generator, dtype=self.W.dtype)
        return (self.b + self.sigma * z.to(self.W.device)).detach()
