"""Pseudo-likelihood for models with binary visible units: Besag's (1975) sum of one-site
conditionals, its stochastic one-site estimate, and the generalised pseudo-likelihood over
user-given sets of sites (Huang & Ogata 2002; e.g. the local windows of an image)."""

from __future__ import annotations

import sys
from collections.abc import Sequence

import torch
from torch.nn.functional import logsigmoid

from ..checks import check_generator
from ..models.base import check_model, check_visible
from .base import Objective

_CHUNK_ROWS = 1 << 16  # changed copies of the data evaluated per free-energy call
#: Largest set of the generalised pseudo-likelihood: its 2^|S| joint states are enumerated.
MAX_SET_SIZE = 12


def check_binary_model(model, what: str = "pseudo-likelihood") -> None:
    check_model(model, what)
    if model.visible_domain != "binary":
        raise TypeError(f"{what} needs binary visible units; {type(model).__name__}'s "
                        f"are {model.visible_domain}")


def _flipped_log_conditionals(model, v: torch.Tensor, sites: torch.Tensor) -> torch.Tensor:
    """log p(v_i | v_-i) = log σ(F(v̄ⁱ) - F(v)) for each pair (row r, site sites[r]) of the
    flattened problem: v [M, V], sites [M]."""
    flipped = v.clone()
    rows = torch.arange(len(v), device=v.device)
    flipped[rows, sites] = 1 - flipped[rows, sites]
    return logsigmoid(model.free_energy(flipped) - model.free_energy(v))


def site_log_conditionals(model, v: torch.Tensor) -> torch.Tensor:
    """[B, V] log p(vᵢ | v₋ᵢ) for every site, differentiable in the model's parameters: the
    model's ``log_conditionals`` hook if it has one, else σ(F(v̄ⁱ) - F(v)) through free energies of
    the V one-bit flips of each row (v̄ⁱ: v with bit i flipped), in chunks."""
    hook = getattr(model, "log_conditionals", None)
    if hook is not None:
        return hook(v)
    B, V = v.shape
    rows_per_chunk = max(1, _CHUNK_ROWS // V)
    parts = []
    for start in range(0, B, rows_per_chunk):
        chunk = v[start:start + rows_per_chunk]
        repeated = chunk.repeat_interleave(V, 0)  # [b·V, V]
        sites = torch.arange(V, device=v.device).repeat(len(chunk))
        parts.append(_flipped_log_conditionals(model, repeated, sites).view(len(chunk), V))
    return torch.cat(parts) if parts else v.new_zeros(0, V)


def log_pseudo_likelihood(model, v: torch.Tensor, *, stochastic: bool = False,
                          generator: torch.Generator | None = None) -> torch.Tensor:
    """[B] log PL(v) = Σᵢ log p(vᵢ | v₋ᵢ), p(vᵢ | v₋ᵢ) = σ(F(v̄ⁱ) - F(v)) with v̄ⁱ = v with bit i
    flipped (Besag 1975). ``stochastic=True``: the unbiased one-site estimate V·log p(vᵢ | v₋ᵢ)
    with one uniformly random site i per example (Goodfellow et al. 2013), V× cheaper."""
    check_binary_model(model)
    check_generator(generator)
    v = check_visible(model, v, "v", allow_empty=True)
    B, V = v.shape
    if stochastic:
        sites = torch.randint(0, V, (B,), generator=generator).to(v.device)
        return V * _flipped_log_conditionals(model, v, sites)
    return site_log_conditionals(model, v).sum(1)


def check_site_sets(sets, n_visible: int) -> list[torch.Tensor]:
    """The sets of the generalised pseudo-likelihood, grouped by size: a list of int64 tensors
    [m, s], one per size s, each row a set of distinct sites in [0, n_visible). ValueError for
    an empty list or set, a repeated or out-of-range site, or a set of more than MAX_SET_SIZE."""
    if isinstance(sets, torch.Tensor):
        sets = sets.tolist()
    if not isinstance(sets, Sequence) or isinstance(sets, str) or len(sets) == 0:
        raise ValueError("sets must be a non-empty list of sets of site indices")
    groups: dict[int, list[list[int]]] = {}
    for k, s in enumerate(sets):
        s = list(s) if isinstance(s, (Sequence, torch.Tensor)) and not isinstance(s, str) else None
        if not s or any(isinstance(i, bool) or not isinstance(i, int) for i in s):
            raise ValueError(f"sets[{k}] must be a non-empty sequence of ints, got {sets[k]!r}")
        if len(set(s)) != len(s) or min(s) < 0 or max(s) >= n_visible:
            raise ValueError(f"sets[{k}] = {s} must hold distinct sites in [0, {n_visible})")
        if len(s) > MAX_SET_SIZE:
            raise ValueError(f"sets[{k}] has {len(s)} sites; the generalised pseudo-likelihood "
                             f"enumerates 2^|S| states, at most 2^{MAX_SET_SIZE}")
        groups.setdefault(len(s), []).append(s)
    return [torch.tensor(g, dtype=torch.int64) for _, g in sorted(groups.items())]


def log_generalised_pseudo_likelihood(model, v: torch.Tensor, sets) -> torch.Tensor:
    """[B] Σ_S log p(v_S | v₋S) over the given sets S of sites (Huang & Ogata 2002), each term

        log p(v_S | v₋S) = -F(v) - log Σ_{y ∈ {0,1}^|S|} exp(-F(v with v_S = y)),

    by enumerating the 2^|S| joint states of every set: through the model's
    ``set_log_conditionals(v, sets [m, s]) -> [B, m]`` hook where it has one (closed forms of
    the Boltzmann machine and the Ising model), else through free energies of the changed copies.
    Sets of one site each give Besag's pseudo-likelihood; larger sets capture the strong local
    dependences PL misses. ``sets``: a list of index sequences (any sizes up to MAX_SET_SIZE),
    or an int tensor [m, s]."""
    check_binary_model(model, "generalised pseudo-likelihood")
    v = check_visible(model, v, "v", allow_empty=True)
    B, V = v.shape
    total = v.new_zeros(B)
    groups = [group.to(v.device) for group in check_site_sets(sets, V)]
    hook = getattr(model, "set_log_conditionals", None)
    if B == 0:
        return total
    if hook is not None:
        return sum(hook(v, group).sum(1) for group in groups)
    f_data = model.free_energy(v)  # [B]
    for group in groups:
        m, s = group.shape
        bits = torch.arange(s, device=v.device)
        configs = ((torch.arange(2**s, device=v.device)[:, None] >> bits) & 1).to(v.dtype)  # [2^s, s]
        sets_per_chunk = max(1, _CHUNK_ROWS // (B * 2**s))
        for start in range(0, m, sets_per_chunk):
            idx = group[start:start + sets_per_chunk]  # [c, s]
            c = len(idx)
            changed = v[:, None, None, :].expand(B, c, 2**s, V).clone()  # [B, c, 2^s, V]
            changed.scatter_(3, idx[None, :, None, :].expand(B, c, 2**s, s),
                             configs[None, None].expand(B, c, 2**s, s))
            f = model.free_energy(changed.view(-1, V)).view(B, c, 2**s)
            total = total + (-f_data[:, None] - torch.logsumexp(-f, 2)).sum(1)
    return total


class PseudoLikelihood(Objective):
    """Maximum pseudo-likelihood (Besag 1975): descend -mean log PL(v); exact (all V
    conditionals, through the model's ``log_conditionals`` or free-energy differences) or
    ``stochastic`` (one random site). Consistent for fully visible models (Mase 1995)."""

    requires = ("free_energy", "visible_domain")
    model_example = "a BernoulliRBM or an Ising2D"

    def __init__(self, stochastic: bool = False):
        if not isinstance(stochastic, bool):
            raise TypeError(f"stochastic must be a bool, got {stochastic!r}")
        self.stochastic = stochastic

    def compute_grads(self, model, v: torch.Tensor, generator=None) -> dict:
        loss = -log_pseudo_likelihood(model, v, stochastic=self.stochastic,
                                      generator=generator).mean()
        loss.backward()
        return {"pseudo_log_likelihood": -loss.item()}



class GeneralisedPseudoLikelihood(PseudoLikelihood):
    """Maximum generalised pseudo-likelihood: descend -mean Σ_S log p(v_S | v₋S) over the fixed
    sets S (see :func:`log_generalised_pseudo_likelihood`); e.g. :func:`window_sets` for images
    or lattices."""

    def __init__(self, sets):
        super().__init__()
        check_site_sets(sets, sys.maxsize)  # the range is checked against each model's size
        self.sets = sets

    def compute_grads(self, model, v: torch.Tensor, generator=None) -> dict:
        check_generator(generator)
        loss = -log_generalised_pseudo_likelihood(model, v, self.sets).mean()
        loss.backward()
        return {"generalised_pseudo_log_likelihood": -loss.item()}


def window_sets(height: int, width: int, size: int = 2, *, periodic: bool = False) -> list[list[int]]:
    """The size × size windows of a height × width image (row-major sites), one per top-left
    corner: every window that fits, or (``periodic``) one per site, wrapping around the edges
    as on a torus."""
    rows = range(height) if periodic else range(height - size + 1)
    cols = range(width) if periodic else range(width - size + 1)
    return [[((i + di) % height) * width + (j + dj) % width for di in range(size) for dj in range(size)]
            for i in rows for j in cols]
