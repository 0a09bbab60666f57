"""Annealed importance sampling for RBMs (Neal 2001; Salakhutdinov & Murray 2008) and reverse AIS
(Burda, Grosse & Salakhutdinov 2015); for Bernoulli RBMs all annealing steps are one fused call."""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch.nn.functional import softplus

from .. import ops
from ..ops.common import run_chunked
from ..models import BernoulliRBM, GaussianBernoulliRBM


@dataclass
class LogZ:
    """An estimate of log Z: ``log_z`` ± ``stderr`` (delta method on the importance weights),
    with the per-chain ``log_weights`` [N] (float64) and the base model's exact ``log_z_base``."""

    log_z: float
    stderr: float
    log_weights: torch.Tensor
    log_z_base: float


def sm_betas(n_betas: int = 14500) -> list[float]:
    """The β schedule of Salakhutdinov & Murray (2008), scaled to n_betas values from 0 to 1:
    500/14500 of them evenly in [0, 0.5), 4000/14500 in [0.5, 0.9), the rest in [0.9, 1]."""
    if n_betas < 3:
        raise ValueError(f"n_betas must be >= 3, got {n_betas}")
    n1 = max(1, round(n_betas * 500 / 14500))
    n2 = max(1, round(n_betas * 4000 / 14500))
    n3 = n_betas - n1 - n2
    parts = [torch.linspace(0, 0.5, n1 + 1, dtype=torch.float64)[:-1],
             torch.linspace(0.5, 0.9, n2 + 1, dtype=torch.float64)[:-1],
             torch.linspace(0.9, 1.0, n3, dtype=torch.float64)]
    return torch.cat(parts).tolist()


def base_rate_biases(data: torch.Tensor | None, n_visible: int, *, dtype=torch.float32,
                     device=None) -> torch.Tensor:
    """[V] visible biases of the base-rate model: logit of the data's pixel means, smoothed as
    (Σ v + 1) / (N + 2) so every bias is finite; zeros (p = 1/2) without data."""
    if data is None:
        return torch.zeros(n_visible, dtype=dtype, device=device)
    p = (data.double().sum(0) + 1) / (len(data) + 2)
    return torch.logit(p).to(dtype=dtype, device=device)


def _check_betas(betas, start: float, end: float) -> list[float]:
    betas = [float(b) for b in betas]
    if len(betas) < 2 or betas[0] != start or betas[-1] != end:
        raise ValueError(f"betas must run from {start} to {end}, got {len(betas)} values "
                         f"from {betas[0] if betas else None} to {betas[-1] if betas else None}")
    steps = torch.tensor(betas).diff()
    if not ((steps >= 0).all() if end > start else (steps <= 0).all()):
        raise ValueError("betas must be monotone")
    return betas


def _estimate(log_w: torch.Tensor, log_z_base: float, sign: int) -> LogZ:
    """log Z = log Z_base + sign · log mean exp(log_w); stderr by the delta method."""
    n = len(log_w)
    log_mean = torch.logsumexp(log_w, 0) - math.log(n)
    w = torch.exp(log_w - log_w.max())
    stderr = float(w.std() / (w.mean() * math.sqrt(n))) if n > 1 else float("inf")
    return LogZ(log_z_base + sign * float(log_mean), stderr, log_w, log_z_base)


class _BernoulliPath:
    """The path of Salakhutdinov & Murray (2008) for a BernoulliRBM: base-rate model
    p_A(v) ∝ exp(base_b·v) (hidden units free), log Z_A = H log 2 + Σ softplus(base_b);
    p*_β(v) = exp(((1-β) base_b + β b)·v) Πⱼ (1 + exp(β(cⱼ + (vW)ⱼ))); annealed by ops.rbm_ais."""

    def __init__(self, model, base_b, data):
        self.W, self.b, self.c = (p.detach() for p in (model.W, model.b, model.c))
        if base_b is None:
            base_b = base_rate_biases(data, model.n_visible, dtype=self.W.dtype, device=self.W.device)
        self.base_b = base_b.to(self.W)
        self.log_z_base = model.n_hidden * math.log(2) + float(softplus(base_b.double()).sum())

    def sample_base(self, n: int, generator) -> torch.Tensor:
        p = torch.sigmoid(self.base_b).expand(n, -1)
        return torch.bernoulli(p.cpu(), generator=generator).to(self.W)

    def anneal(self, v: torch.Tensor, betas: list[float], generator) -> torch.Tensor:
        return ops.rbm_ais(v, self.W, self.b, self.c, self.base_b, betas, generator=generator,
                           desc="AIS")[0]


class _GaussianPath:
    """For a GaussianBernoulliRBM: base model W = 0, c = 0 (p_A(v) = N(b, σ²), hidden units free),
    log Z_A = H log 2 + Σᵢ log(√(2π) σᵢ); p*_β(v) = exp(-Σᵢ (vᵢ-bᵢ)²/2σᵢ²) Πⱼ (1 + exp(β pⱼ)),
    p = c + (v/σ)W, whose Gibbs sweep is the GRBM with βW, b, βc, σ."""

    def __init__(self, model):
        self.W, self.b, self.c, self.sigma = (
            p.detach() for p in (model.W, model.b, model.c, model.sigma))
        self.log_z_base = model.n_hidden * math.log(2) + float(
            torch.log(math.sqrt(2 * math.pi) * self.sigma.double()).sum())

    def sample_base(self, n: int, generator) -> torch.Tensor:
        z = torch.randn(n, len(self.b), generator=generator, dtype=self.W.dtype).to(self.W)
        return self.b + self.sigma * z

    def anneal(self, v: torch.Tensor, betas: list[float], generator) -> torch.Tensor:
        log_w = torch.zeros(len(v), dtype=torch.float64, device=v.device)
        state = [v]

        def run(start: int, n: int) -> None:  # steps start + 1 .. start + n: weight, then sweep
            v = state[0]
            for step in range(start + 1, start + n + 1):
                beta, beta_prev = betas[step], betas[step - 1]
                pre = (v / self.sigma) @ self.W + self.c  # [N, H]
                log_w.add_((softplus(beta * pre).sum(1) - softplus(beta_prev * pre).sum(1)).double())
                v = ops.grbm_gibbs(v, beta * self.W, self.b, beta * self.c, self.sigma, 1,
                                   generator=generator)[0]
            state[0] = v

        run_chunked(len(betas) - 1, 1, run, desc="AIS")
        return log_w


def _path(model, base_b, data):
    if isinstance(model, BernoulliRBM):
        return _BernoulliPath(model, base_b, data)
    if isinstance(model, GaussianBernoulliRBM):
        return _GaussianPath(model)
    raise TypeError(f"AIS supports BernoulliRBM and GaussianBernoulliRBM, got {type(model).__name__}")


@torch.no_grad()
def ais(model, n_chains: int = 100, n_betas: int = 14500, *,
        betas: list[float] | None = None, data: torch.Tensor | None = None,
        base_b: torch.Tensor | None = None, generator: torch.Generator | None = None) -> LogZ:
    """AIS estimate of log Z (Neal 2001; Salakhutdinov & Murray 2008), a stochastic lower bound
    on average: from exact samples of a base model p_A with known Z_A, one Gibbs sweep per β,
    log Ẑ = log Z_A + log mean_chains exp(Σ_s log p*_{β_s}(v_s) - log p*_{β_{s-1}}(v_s)).

    BernoulliRBM: base-rate model p_A(v) ∝ exp(base_b·v) (base_b from ``data``'s pixel means),
    p*_β(v) = exp(((1-β) base_b + β b)·v) Πⱼ (1 + exp(β(cⱼ + (vW)ⱼ))), all steps in one fused
    call. GaussianBernoulliRBM: base N(b, σ²), p*_β scales W and c by β.

    Args:
        model: a BernoulliRBM or GaussianBernoulliRBM. n_chains: independent annealing runs.
        n_betas: length of the default schedule ``sm_betas(n_betas)``; or ``betas`` (0 -> 1).
        data: [N, V] training data for the base-rate model (or pass ``base_b``; Bernoulli only).
    """
    if n_chains < 1:
        raise ValueError(f"n_chains must be >= 1, got {n_chains}")
    betas = _check_betas(sm_betas(n_betas) if betas is None else betas, 0.0, 1.0)
    path = _path(model, base_b, data)
    log_w = path.anneal(path.sample_base(n_chains, generator), betas, generator)
    return _estimate(log_w, path.log_z_base, +1)


@torch.no_grad()
def reverse_ais(model, v_init: torch.Tensor, n_betas: int = 14500, *,
                burn_in: int = 100, betas: list[float] | None = None,
                data: torch.Tensor | None = None, base_b: torch.Tensor | None = None,
                generator: torch.Generator | None = None) -> LogZ:
    """Reverse AIS (Burda, Grosse & Salakhutdinov 2015): anneal from the model back to the base
    model of :func:`ais`, starting from chains initialised at ``v_init`` [N, V] (e.g. data) and
    run ``burn_in`` Gibbs sweeps; log Ẑ = log Z_A - log mean exp(Σ_s log p*_{β_{s-1}} -
    log p*_{β_s}), a stochastic upper bound on average when the chains start from the model."""
    betas = _check_betas(sm_betas(n_betas) if betas is None else betas, 0.0, 1.0)
    path = _path(model, base_b, data)
    if len(v_init) < 1:
        raise ValueError("reverse_ais needs at least one chain in v_init")
    v = v_init.to(path.W)
    if burn_in > 0:
        v = model.gibbs(v, burn_in, generator=generator)[0]
    return _estimate(path.anneal(v, betas[::-1], generator), path.log_z_base, -1)
