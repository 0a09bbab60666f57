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
from ..checks import check_count, check_generator, check_real
from .base import Enumeration, check_visible, sample_visible


class _RBM(nn.Module):
    """What both RBMs share: W [V, H] ~ N(0, weight_std²) (Hinton's practical guide: 0.01),
    biases b [V] and c [H] at 0, layer sizes, and sampling from a chain start."""

    def __init__(self, n_visible: int, n_hidden: int, weight_std: float, dtype, device,
                 generator: torch.Generator | None):
        super().__init__()
        check_count(n_visible, "n_visible")
        check_count(n_hidden, "n_hidden")
        check_real(weight_std, "weight_std", low=0.0)
        check_generator(generator)
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
    def sample(self, n: int, n_steps: int = 1000, *, generator: torch.Generator | None = None,
               v0: torch.Tensor | None = None, known: torch.Tensor | None = None,
               mask: torch.Tensor | None = None) -> torch.Tensor:
        """[n, V] samples after n_steps sweeps from v0 [n, V] (default: the model's
        random_visible). With ``known`` [n, V] and a bool ``mask`` ([n, V] or [V], True where
        known): the known units stay fixed and the rest are drawn from the exact conditional
        p(v_unknown | v_known) (missing values, conditional inference)."""
        return sample_visible(self, n, n_steps, generator, v0, known, mask)

    def _tempered(self, beta) -> float:
        return check_real(beta, "beta", low=0.0)


def base_rate_biases(data: torch.Tensor | None, n_visible: int, *, dtype=torch.float32,
                     device=None) -> torch.Tensor:
    """[V] visible biases of the base-rate model: logit of the data's pixel means, smoothed as
    (Σ v + 1) / (N + 2) so every bias is finite; zeros (p = 1/2) without data."""
    if data is None:
        return torch.zeros(n_visible, dtype=dtype, device=device)
    p = (data.double().sum(0) + 1) / (len(data) + 2)
    return torch.logit(p).to(dtype=dtype, device=device)


def annealing_label(betas) -> str:
    """The progress-bar label of an annealing run: "AIS" up the βs, "reverse AIS" down them."""
    return "AIS" if betas[0] <= betas[-1] else "reverse AIS"


class _BaseRatePath:
    """AIS's path for a BernoulliRBM (Salakhutdinov & Murray 2008): base-rate model
    p_A(v) ∝ exp(base_b·v) (hidden units free), log Z_A = H log 2 + Σ softplus(base_b);
    p*_β(v) = exp(((1-β) base_b + β b)·v) Πⱼ (1 + exp(β(cⱼ + (vW)ⱼ))); annealed by ops.rbm_ais."""

    def __init__(self, model: "BernoulliRBM", base_b: torch.Tensor):
        self.W, self.b, self.c = (p.detach() for p in (model.W, model.b, model.c))
        self.base_b = base_b
        self.log_z_base = model.n_hidden * math.log(2) + float(softplus(base_b.double()).sum())

    def sample_base(self, n: int, generator) -> torch.Tensor:
        p = torch.sigmoid(self.base_b).expand(n, -1)
        return torch.bernoulli(p.cpu(), generator=generator).to(self.W)

    def anneal(self, v: torch.Tensor, betas: list[float], generator) -> torch.Tensor:
        return ops.rbm_ais(v, self.W, self.b, self.c, self.base_b, betas, generator=generator,
                           desc=annealing_label(betas))[0]


class _GaussianBasePath:
    """AIS's path for a GaussianBernoulliRBM: base model W = 0, c = 0 (p_A(v) = N(b, σ²), hidden
    units free), log Z_A = H log 2 + Σᵢ log(√(2π) σᵢ); p*_β(v) = exp(-Σᵢ (vᵢ-bᵢ)²/2σᵢ²)
    Πⱼ (1 + exp(β(cⱼ + ((v/σ)W)ⱼ))); annealed by ops.grbm_ais."""

    def __init__(self, model: "GaussianBernoulliRBM"):
        self.W, self.b, self.c, self.sigma = (
            p.detach() for p in (model.W, model.b, model.c, model.sigma))
        self.log_z_base = model.n_hidden * math.log(2) + float(
            torch.log(math.sqrt(2 * math.pi) * self.sigma.double()).sum())

    def sample_base(self, n: int, generator) -> torch.Tensor:
        z = torch.randn(n, len(self.b), generator=generator, dtype=self.W.dtype)
        return self.b + self.sigma * z.to(self.W.device)

    def anneal(self, v: torch.Tensor, betas: list[float], generator) -> torch.Tensor:
        return ops.grbm_ais(v, self.W, self.b, self.c, self.sigma, betas, generator=generator,
                            desc=annealing_label(betas))[0]


class BernoulliRBM(_RBM):
    """Bernoulli-Bernoulli RBM, E(v, h) = -v·b - h·c - vᵀWh, v ∈ {0,1}^V, h ∈ {0,1}^H.

    Implements the GibbsModel protocol with every hook: the fused CD / PCD gradient
    (ops.rbm_cd_grad), the base-rate AIS path (ops.rbm_ais) and enumeration of the smaller layer.

    Args:
        n_visible, n_hidden: layer sizes V, H.
        weight_std: W starts as N(0, weight_std²); biases at 0.
        generator: source of the initial weights.
    """

    visible_domain = "binary"

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

    def gibbs(self, v: torch.Tensor, n_steps: int = 1, *, beta: float = 1.0,
              generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """n_steps block-Gibbs sweeps from v [B, V] at inverse temperature beta (p ∝ e^{-βE});
        returns (v_k, h_k)."""
        beta = self._tempered(beta)
        W, b, c = (p.detach() for p in (self.W, self.b, self.c))
        if beta != 1.0:
            W, b, c = beta * W, beta * b, beta * c
        return ops.rbm_gibbs(v, W, b, c, n_steps, generator=generator)

    @torch.no_grad()
    def cd_grads(self, v_data: torch.Tensor, v_chain: torch.Tensor, k: int,
                 generator: torch.Generator | None) -> torch.Tensor:
        """Protocol hook: W, b, c's .grad from the fused ops.rbm_cd_grad; returns v_k [N, V]."""
        dW, db, dc, v_k = ops.rbm_cd_grad(v_data, v_chain, self.W, self.b, self.c, k,
                                          generator=generator)
        self.W.grad, self.b.grad, self.c.grad = dW, db, dc
        return v_k

    @torch.no_grad()
    def pcd_sgd_steps(self, chains: torch.Tensor, data: torch.Tensor, batch_size: int, k: int,
                      seeds: list[int], *, lr: float, momentum: float, weight_decay: float,
                      momentum_buffers: list[torch.Tensor], first_step: bool) -> None:
        """Protocol hook: several PCD-k steps with SGD in one call (ops.rbm_pcd_sgd_); chains
        [N, V], the parameters and ``momentum_buffers`` ([W, b, c]'s, from
        fastebm.training.SGD.momentum_buffers) are updated in place."""
        ops.rbm_pcd_sgd_(self.W.data, self.b.data, self.c.data, chains, momentum_buffers, data,
                         batch_size=batch_size, seeds=seeds, k=k, lr=lr, momentum=momentum,
                         weight_decay=weight_decay, first_step=first_step)

    def annealing_path(self, *, data: torch.Tensor | None = None,
                       base_b: torch.Tensor | None = None) -> _BaseRatePath:
        """Protocol hook: the base-rate path, base_b [V] given or from ``data``'s pixel means."""
        if base_b is None:
            if data is not None:
                data = check_visible(self, data, "data")
            base_b = base_rate_biases(data, self.n_visible, dtype=self.W.dtype, device=self.W.device)
        elif base_b.shape != (self.n_visible,) or not torch.isfinite(base_b).all():
            raise ValueError(f"base_b must be a finite [{self.n_visible}] tensor, "
                             f"got shape {list(base_b.shape)}")
        return _BaseRatePath(self, base_b.to(self.W))

    def enumeration(self) -> Enumeration:
        """Protocol hook: log Z over the smaller layer,
        log Σ_h exp(c·h + Σᵢ softplus(bᵢ + (Wh)ᵢ)), or Σ_v exp(-F(v)) if V < H."""
        W, b, c = (p.detach().double() for p in (self.W, self.b, self.c))
        if self.n_hidden <= self.n_visible:
            return Enumeration(self.n_hidden, lambda h: h @ c + softplus(h @ W.T + b).sum(1), 0.0)
        return Enumeration(self.n_visible, lambda v: v @ b + softplus(v @ W + c).sum(1), 0.0)

    def random_visible(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """[n, V] uniform random binary states (a chain start)."""
        p = torch.full((n, self.n_visible), 0.5, dtype=self.W.dtype)
        return torch.bernoulli(p, generator=generator).to(self.W.device)


class GaussianBernoulliRBM(_RBM):
    """Gaussian-Bernoulli RBM (Hinton & Salakhutdinov 2006; Cho et al. 2011 for learnt σ):

        E(v, h) = Σᵢ (vᵢ - bᵢ)² / 2σᵢ² - h·c - Σᵢⱼ vᵢ Wᵢⱼ hⱼ / σᵢ,  v ∈ ℝ^V, h ∈ {0,1}^H.

    ``sigma`` is stored as ``log_sigma`` so that it stays positive under gradient steps.
    Implements the GibbsModel protocol with every hook: the fused CD / PCD gradient
    (ops.grbm_cd_grad), AIS from N(b, σ²) (ops.grbm_ais) and enumeration over h.
    """

    visible_domain = "real"

    def __init__(self, n_visible: int, n_hidden: int, *, weight_std: float = 0.01,
                 sigma: float = 1.0, dtype: torch.dtype | None = None, device=None,
                 generator: torch.Generator | None = None):
        check_real(sigma, "sigma", low=0.0, low_open=True)
        super().__init__(n_visible, n_hidden, weight_std, dtype, device, generator)
        self.log_sigma = nn.Parameter(torch.full((n_visible,), math.log(sigma),
                                                 dtype=self.W.dtype, device=device))

    @property
    def sigma(self) -> torch.Tensor:
        """[V] σ = exp(log_sigma); on the CPU, ValueError where a σ is not a positive finite
        number (a NaN, or a log σ beyond the dtype's exp)."""
        sigma = self.log_sigma.exp()
        if sigma.device.type == "cpu" and not bool(torch.isfinite(sigma).all() & (sigma > 0).all()):
            raise ValueError("the model's log_sigma gives a σ that is NaN, Inf or 0 (diverged "
                             "training? lower the learning rate)")
        return sigma

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

    def gibbs(self, v: torch.Tensor, n_steps: int = 1, *, beta: float = 1.0,
              generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """n_steps block-Gibbs sweeps from v [B, V] at inverse temperature beta > 0; returns (v_k, h_k).
        p ∝ e^{-βE} is the GRBM with W√β, b, βc, σ/√β."""
        beta = self._tempered(beta)
        if beta == 0:
            raise ValueError("beta must be > 0 for a Gaussian-Bernoulli RBM (p_0 is improper)")
        W, b, c, s = (p.detach() for p in (self.W, self.b, self.c, self.sigma))
        if beta != 1.0:
            W, c, s = W * math.sqrt(beta), c * beta, s / math.sqrt(beta)
        return ops.grbm_gibbs(v, W, b, c, s, n_steps, generator=generator)

    def random_visible(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """[n, V] draws from N(b, σ²) (a chain start)."""
        return _GaussianBasePath(self).sample_base(n, generator)

    @torch.no_grad()
    def cd_grads(self, v_data: torch.Tensor, v_chain: torch.Tensor, k: int,
                 generator: torch.Generator | None) -> torch.Tensor:
        """Protocol hook: W, b, c, log_sigma's .grad from the fused ops.grbm_cd_grad; returns
        v_k [N, V]."""
        dW, db, dc, dls, v_k = ops.grbm_cd_grad(v_data, v_chain, self.W, self.b, self.c,
                                                self.sigma, k, generator=generator)
        self.W.grad, self.b.grad, self.c.grad, self.log_sigma.grad = dW, db, dc, dls
        return v_k

    def annealing_path(self, *, data: torch.Tensor | None = None,
                       base_b: torch.Tensor | None = None) -> "_GaussianBasePath":
        """Protocol hook: the path of ops.grbm_ais from N(b, σ²) (``data`` is not needed)."""
        if base_b is not None:
            raise ValueError("base_b is for Bernoulli RBMs; a GRBM's AIS base is N(b, σ²)")
        return _GaussianBasePath(self)

    def enumeration(self) -> Enumeration:
        """Protocol hook: v integrated out, log Z = Σᵢ log(√(2π) σᵢ)
        + log Σ_h exp(c·h + Σᵢ [bᵢ(Wh)ᵢ/σᵢ + (Wh)ᵢ²/2])."""
        W, b, c, s = (p.detach().double() for p in (self.W, self.b, self.c, self.sigma))

        def log_weight(h):
            Wh = h @ W.T
            return h @ c + (b / s * Wh + Wh**2 / 2).sum(1)

        return Enumeration(self.n_hidden, log_weight,
                           float(torch.log(math.sqrt(2 * math.pi) * s).sum()))
