"""Exact log Z by enumeration (the model's ``enumeration`` hook), and log-likelihoods given log Z."""

from __future__ import annotations

import torch

from ..checks import check_log_z
from ..models.base import check_model, check_parameters, check_visible, enumeration

#: Largest layer exact_log_z enumerates (2^MAX_ENUMERATED_UNITS states, in chunks).
MAX_ENUMERATED_UNITS = 26
_CHUNK = 1 << 16


def _binary_states(start: int, stop: int, n: int, dtype, device) -> torch.Tensor:
    """[stop - start, n] binary vectors of the integers start..stop-1 (bit j -> column j)."""
    idx = torch.arange(start, stop, device=device)
    return ((idx[:, None] >> torch.arange(n, device=device)) & 1).to(dtype)


@torch.no_grad()
def exact_log_z(model) -> torch.Tensor:
    """log Z of a small model, exactly, in float64 (a 0-d tensor):
    log Z = log_const + log Σ_{s ∈ {0,1}^n} exp(log_weight(s)) for the model's enumeration.

    BernoulliRBM sums over the smaller layer, log Σ_h exp(c·h + Σᵢ softplus(bᵢ + (Wh)ᵢ));
    GaussianBernoulliRBM over h with v integrated out; any other binary model over its visible
    states, log Σ_v exp(-F(v)).

    Raises ValueError when more than MAX_ENUMERATED_UNITS units would be enumerated, or when a
    parameter is NaN or Inf.
    """
    check_model(model, "exact_log_z")
    check_parameters(model)
    n, log_weight, log_const = enumeration(model)
    if n > MAX_ENUMERATED_UNITS:
        raise ValueError(f"exact_log_z enumerates 2^{n} states, more than the limit "
                         f"2^{MAX_ENUMERATED_UNITS}; use fastebm.partition.ais instead")
    device = next(iter(model.parameters())).device
    parts = [torch.logsumexp(log_weight(_binary_states(s, min(s + _CHUNK, 2**n), n,
                                                       torch.float64, device)), 0)
             for s in range(0, 2**n, _CHUNK)]
    return torch.logsumexp(torch.stack(parts), 0) + log_const


def log_likelihood(model, data: torch.Tensor, log_z) -> torch.Tensor:
    """[B] log p(v) = -F(v) - log Z for each row of data [B, V] (float64); ``log_z`` a number,
    a one-element tensor or the LogZ of an estimator. Data outside the model's domain (non-binary
    rows for a binary model) is refused: its likelihood is not defined."""
    check_model(model, "log_likelihood")
    log_z = check_log_z(log_z)
    data = check_visible(model, data, "data")
    with torch.no_grad():
        return -model.free_energy(data).double() - log_z
