"""Pseudo-likelihood (Besag 1975) for models with binary visible units."""

from __future__ import annotations

import torch
from torch.nn.functional import logsigmoid

from ..checks import check_generator
from ..models.base import check_model, check_visible

_CHUNK_ROWS = 1 << 16  # flipped copies evaluated per free-energy call


def _check_binary_model(model) -> None:
    check_model(model, "pseudo-likelihood")
    if model.visible_domain != "binary":
        raise TypeError(f"pseudo-likelihood needs binary visible units; {type(model).__name__}'s "
                        f"are {model.visible_domain}")


def _site_log_conditionals(model, v: torch.Tensor, sites: torch.Tensor) -> torch.Tensor:
    """log p(v_i | v_-i) = log σ(F(v̄ⁱ) - F(v)) for each pair (row r, site sites[r]) of the
    flattened problem: v [M, V], sites [M]."""
    flipped = v.clone()
    rows = torch.arange(len(v), device=v.device)
    flipped[rows, sites] = 1 - flipped[rows, sites]
    return logsigmoid(model.free_energy(flipped) - model.free_energy(v))


def log_pseudo_likelihood(model, v: torch.Tensor, *, stochastic: bool = False,
                          generator: torch.Generator | None = None) -> torch.Tensor:
    """[B] log PL(v) = Σᵢ log p(vᵢ | v₋ᵢ), p(vᵢ | v₋ᵢ) = σ(F(v̄ⁱ) - F(v)) with v̄ⁱ = v with bit i
    flipped (Besag 1975). ``stochastic=True``: the unbiased one-site estimate V·log p(vᵢ | v₋ᵢ)
    with one uniformly random site i per example (Goodfellow et al. 2013), V× cheaper."""
    _check_binary_model(model)
    check_generator(generator)
    v = check_visible(model, v, "v", allow_empty=True)
    B, V = v.shape
    if stochastic:
        sites = torch.randint(0, V, (B,), generator=generator).to(v.device)
        return V * _site_log_conditionals(model, v, sites)
    rows_per_chunk = max(1, _CHUNK_ROWS // V)
    parts = []
    for start in range(0, B, rows_per_chunk):
        chunk = v[start:start + rows_per_chunk]
        repeated = chunk.repeat_interleave(V, 0)  # [b·V, V]
        sites = torch.arange(V, device=v.device).repeat(len(chunk))
        parts.append(_site_log_conditionals(model, repeated, sites).view(len(chunk), V).sum(1))
    return torch.cat(parts) if parts else v.new_zeros(0)


class PseudoLikelihood:
    """Maximum pseudo-likelihood (Besag 1975): descend -mean log PL(v); exact (all V
    conditionals through free-energy differences) or ``stochastic`` (one random site)."""

    def __init__(self, stochastic: bool = False):
        if not isinstance(stochastic, bool):
            raise TypeError(f"stochastic must be a bool, got {stochastic!r}")
        self.stochastic = stochastic

    def compute_grads(self, model, v: torch.Tensor, generator=None) -> dict:
        loss = -log_pseudo_likelihood(model, v, stochastic=self.stochastic,
                                      generator=generator).mean()
        loss.backward()
        return {"pseudo_log_likelihood": -loss.item()}

    def state_dict(self) -> dict:
        return {}

    def load_state_dict(self, state: dict) -> None:
        pass
