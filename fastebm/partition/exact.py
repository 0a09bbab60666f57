"""Exact log Z by enumerating the smaller binary layer, and log-likelihoods given log Z."""

from __future__ import annotations

import math

import torch
from torch.nn.functional import softplus

from ..models import BernoulliRBM, GaussianBernoulliRBM

#: Largest layer exact_log_z enumerates (2^MAX_ENUMERATED_UNITS states, in chunks).
MAX_ENUMERATED_UNITS = 26
_CHUNK = 1 << 16


def _binary_states(start: int, stop: int, n: int, dtype, device) -> torch.Tensor:
    """[stop - start, n] binary vectors of the integers start..stop-1 (bit j -> column j)."""
    idx = torch.arange(start, stop, device=device)
    return ((idx[:, None] >> torch.arange(n, device=device)) & 1).to(dtype)


def _logsumexp_over_states(n: int, log_weight, device) -> torch.Tensor:
    """log Σ over all 2^n binary states x of log_weight(x) ([m, n] -> [m]), chunk by chunk."""
    parts = [torch.logsumexp(log_weight(_binary_states(s, min(s + _CHUNK, 2**n), n,
                                                       torch.float64, device)), 0)
             for s in range(0, 2**n, _CHUNK)]
    return torch.logsumexp(torch.stack(parts), 0)


@torch.no_grad()
def exact_log_z(model) -> torch.Tensor:
    """log Z of a small RBM, exactly, in float64.

    BernoulliRBM: sums over the smaller layer, using
        log Z = log Σ_h exp(c·h + Σᵢ softplus(bᵢ + (Wh)ᵢ))  (or Σ_v exp(-F(v)) if V < H).
    GaussianBernoulliRBM: sums over h with v integrated out,
        log Z = Σᵢ log(√(2π) σᵢ) + log Σ_h exp(c·h + Σᵢ [bᵢ(Wh)ᵢ/σᵢ + (Wh)ᵢ²/2]).

    Raises ValueError when the enumerated layer has more than MAX_ENUMERATED_UNITS units.
    """
    W, b, c = (p.detach().double() for p in (model.W, model.b, model.c))
    V, H = W.shape
    n = H if isinstance(model, GaussianBernoulliRBM) else min(V, H)
    if n > MAX_ENUMERATED_UNITS:
        raise ValueError(f"exact_log_z enumerates 2^{n} states, more than the limit "
                         f"2^{MAX_ENUMERATED_UNITS}; use fastebm.partition.ais instead")
    if isinstance(model, GaussianBernoulliRBM):
        sigma = model.sigma.detach().double()

        def log_weight(h):
            Wh = h @ W.T
            return h @ c + (b / sigma * Wh + Wh**2 / 2).sum(1)

        return _logsumexp_over_states(H, log_weight, W.device) + torch.log(
            math.sqrt(2 * math.pi) * sigma).sum()
    if not isinstance(model, BernoulliRBM):
        raise TypeError(f"exact_log_z supports BernoulliRBM and GaussianBernoulliRBM, got {type(model)}")
    if H <= V:
        return _logsumexp_over_states(H, lambda h: h @ c + softplus(h @ W.T + b).sum(1), W.device)
    return _logsumexp_over_states(V, lambda v: v @ b + softplus(v @ W + c).sum(1), W.device)


def log_likelihood(model, data: torch.Tensor, log_z) -> torch.Tensor:
    """[B] log p(v) = -F(v) - log Z for each row of data [B, V] (float64)."""
    with torch.no_grad():
        return -model.free_energy(data.to(model.W.dtype)).double() - torch.as_tensor(
            log_z, dtype=torch.float64)
