"""The protocols fastebm's generic code speaks to a model through, and the defaults behind them.

Objectives, samplers and estimators use only what is below, never a model's class or field
names, so a user's model that implements the protocol plugs in unchanged.

Required (``GibbsModel``), for a model of p(x) ∝ exp(-F(x)) over x [B, n_visible]:

- ``n_visible: int`` and ``visible_domain``: ``"binary"`` (x ∈ {0,1}^n) or ``"real"`` (x ∈ ℝ^n).
- ``free_energy(x, beta=1.0) -> [B]``: F_β(x) with p_β(x) ∝ exp(-F_β(x)) the model at inverse
  temperature β (for a latent-variable model, F_β(x) = -log Σ_h exp(-β E(x, h))), differentiable
  in the model's parameters.
- ``gibbs(x, k=1, *, beta=1.0, generator=None) -> (x_k, h_k or None)``: k sweeps of a Markov
  chain leaving p_β invariant.
- ``random_visible(n, generator=None) -> [n, n_visible]``: chain starts.
- ``parameters()`` (an ``nn.Module``): their dtype and device are the model's.

Optional hooks, each with a generic default:

- ``cd_grads(v_data, v_chain, k, generator) -> v_k``: a fused CD / PCD gradient that sets the
  parameters' ``.grad`` and returns the chains after k sweeps. Default: autograd on
  mean F(v_data) - mean F(v_k) with v_k from ``gibbs``.
- ``annealing_path(data=None, base_b=None) -> AnnealingPath``: AIS's path. Default:
  ``TemperedPath``, p_β ∝ exp(-F_β) from the uniform β = 0 member of a binary model.
- ``enumeration() -> Enumeration``: log Z = log_const + log Σ_{s ∈ {0,1}^n} exp(log_weight(s)).
  Default: the visible states of a binary model, log_weight = -F.
"""

from __future__ import annotations

import math
from typing import Callable, NamedTuple, Protocol, runtime_checkable

import torch

from ..checks import check_count, check_generator, check_samples, check_tensor_finite
from ..ops.chunking import run_chunked

#: The visible domains a model may declare.
DOMAINS = ("binary", "real")


@runtime_checkable
class GibbsModel(Protocol):
    """What every objective, sampler and estimator needs of a model (see the module doc)."""

    n_visible: int
    visible_domain: str

    def free_energy(self, x: torch.Tensor, beta: float = 1.0) -> torch.Tensor: ...

    def gibbs(self, x: torch.Tensor, n_steps: int = 1, *, beta: float = 1.0,
              generator: torch.Generator | None = None) -> tuple: ...

    def random_visible(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor: ...

    def parameters(self): ...


class AnnealingPath(Protocol):
    """AIS's path from a base model with known ``log_z_base`` (β = 0) to the model (β = 1)."""

    log_z_base: float

    def sample_base(self, n: int, generator: torch.Generator | None) -> torch.Tensor:
        """[n, V] exact samples of the base model."""

    def anneal(self, x: torch.Tensor, betas: list[float], generator) -> torch.Tensor:
        """[N] float64 Σ_s log p*_{β_s}(x_s) - log p*_{β_{s-1}}(x_s) along betas, one transition
        leaving p_{β_s} invariant after each step."""


class Enumeration(NamedTuple):
    """log Z = log_const + log Σ over the 2^n_units binary states s of log_weight(s [m, n]) [m]."""

    n_units: int
    log_weight: Callable[[torch.Tensor], torch.Tensor]
    log_const: float


def check_model(model, what: str) -> None:
    """TypeError unless ``model`` implements GibbsModel; ``what`` names the caller."""
    missing = [name for name in ("n_visible", "visible_domain", "free_energy", "gibbs",
                                 "random_visible", "parameters") if not hasattr(model, name)]
    if missing:
        raise TypeError(f"{what} needs a model with {', '.join(missing)} (the GibbsModel protocol "
                        f"of fastebm.models.base); {type(model).__name__} lacks them")
    if model.visible_domain not in DOMAINS:
        raise TypeError(f"{type(model).__name__}.visible_domain must be one of {DOMAINS}, "
                        f"got {model.visible_domain!r}")


def first_parameter(model) -> torch.Tensor:
    """The model's first parameter: its dtype and device are the model's."""
    return next(iter(model.parameters()))


def check_visible(model, x, name: str = "data", *, allow_empty: bool = False) -> torch.Tensor:
    """x [B, n_visible] in the model's domain (binary / finite real), as the model's dtype and
    device; ValueError / TypeError naming ``name`` otherwise."""
    return check_samples(x, name, model.n_visible, binary=model.visible_domain == "binary",
                         allow_empty=allow_empty, like=first_parameter(model))


def chain_start(model, n: int, v0, generator, count_name: str = "n") -> torch.Tensor:
    """[n, V] chain starts: v0 checked (n rows in the model's domain), or random_visible."""
    if v0 is None:
        return model.random_visible(n, generator)
    v = check_visible(model, v0, "v0")
    if len(v) != n:
        raise ValueError(f"v0 must have {count_name} = {n} rows, got {len(v)}")
    return v


def check_clamp(model, n: int, known, mask) -> tuple[torch.Tensor, torch.Tensor]:
    """(known [n, V] in the model's domain, mask [n, V] bool) of a clamped run; a mask [V]
    applies to every row."""
    known = check_visible(model, known, "known")
    if len(known) != n:
        raise ValueError(f"known must have {n} rows, got {len(known)}")
    if not isinstance(mask, torch.Tensor) or mask.dtype != torch.bool:
        raise TypeError(f"mask must be a bool tensor [n, V] or [V], True where known, got "
                        f"{mask.dtype if isinstance(mask, torch.Tensor) else type(mask).__name__}")
    try:
        mask = mask.to(known.device).expand_as(known)
    except RuntimeError:
        raise ValueError(f"mask must have shape [{n}, {known.shape[1]}] or [{known.shape[1]}], "
                         f"got {list(mask.shape)}") from None
    return known, mask


@torch.no_grad()
def sample_clamped(model, n: int, known: torch.Tensor, mask: torch.Tensor, n_steps: int,
                   generator, **gibbs_kwargs) -> torch.Tensor:
    """[n, V] draws of the unknown units from p(v_unknown | v_known) by the model's Gibbs sweeps
    from ``known`` where ``mask``, random states elsewhere. A model whose sweeps hold sites
    themselves (``gibbs_holds_sites``: a fully visible Boltzmann machine, the Ising model, whose
    sequential or checkerboard sweeps let later sites see the earlier ones) runs them with
    ``frozen=mask``; for a two-layer model (an RBM) the visible layer is reset to ``known`` after
    each sweep, which is exact there: a sweep draws the hidden units given the clamped visibles,
    then every visible unit given the hidden ones. Either way the chain's stationary law is the
    conditional."""
    check_count(n, "n")
    check_count(n_steps, "n_steps")
    check_generator(generator)
    known, mask = check_clamp(model, n, known, mask)
    v = torch.where(mask, known, model.random_visible(len(known), generator).to(known))
    if getattr(model, "gibbs_holds_sites", False):
        return model.gibbs(v, n_steps, generator=generator, frozen=mask, **gibbs_kwargs)[0]
    for _ in range(n_steps):
        v = torch.where(mask, known, model.gibbs(v, 1, generator=generator, **gibbs_kwargs)[0])
    return v


def sample_visible(model, n: int, n_steps: int, generator, v0=None, known=None, mask=None,
                   **gibbs_kwargs) -> torch.Tensor:
    """What a binary model's ``sample`` does: n chains of n_steps sweeps from v0
    (:func:`sample_chains`), or with ``known`` and ``mask`` together (and no v0) draws from the
    conditional given the known units (:func:`sample_clamped`)."""
    if known is None and mask is None:
        return sample_chains(model, n, n_steps, generator, v0, **gibbs_kwargs)
    if known is None or mask is None or v0 is not None:
        raise ValueError("clamped sampling takes known and mask together (and no start state)")
    return sample_clamped(model, n, known, mask, n_steps, generator, **gibbs_kwargs)


@torch.no_grad()
def sample_chains(model, n: int, n_steps: int, generator, v0=None, **gibbs_kwargs) -> torch.Tensor:
    """[n, V] states after n_steps of the model's Gibbs sweeps (``gibbs_kwargs``: e.g. beta) from v0
    [n, V] (checked) or the model's random_visible: what every Gibbs model's ``sample`` does."""
    check_count(n, "n")
    check_count(n_steps, "n_steps")
    check_generator(generator)
    return model.gibbs(chain_start(model, n, v0, generator), n_steps, generator=generator,
                       **gibbs_kwargs)[0]


def check_parameters(model) -> None:
    """ValueError when a parameter holds NaN or Inf (an estimate from it would be NaN)."""
    for name, p in model.named_parameters():
        check_tensor_finite(p.detach(), f"model parameter {name!r}")


def annealing_path(model, *, data: torch.Tensor | None = None,
                   base_b: torch.Tensor | None = None) -> AnnealingPath:
    """The model's own AIS path (hook ``annealing_path``), else :class:`TemperedPath`."""
    hook = getattr(model, "annealing_path", None)
    if hook is not None:
        return hook(data=data, base_b=base_b)
    if base_b is not None:
        raise ValueError(f"base_b is for models with their own annealing_path; "
                         f"{type(model).__name__} has none")
    return TemperedPath(model)


def enumeration(model) -> Enumeration:
    """The model's own enumeration (hook ``enumeration``), else its 2^V visible states."""
    hook = getattr(model, "enumeration", None)
    if hook is not None:
        return hook()
    if model.visible_domain != "binary":
        raise TypeError(f"{type(model).__name__} has real visible units and no enumeration(): "
                        "its log Z cannot be enumerated")
    return Enumeration(model.n_visible, lambda x: -model.free_energy(x.to(first_parameter(model))).double(), 0.0)


class TemperedPath:
    """The generic AIS path of a binary model: p*_β(x) = exp(-F_β(x)) for β from 0 to 1, whose
    β = 0 member must be uniform on {0,1}^V (F_0 constant, as when E vanishes at β = 0), so
    log Z_0 = V log 2 - F_0 and the base is sampled exactly. Transitions are ``model.gibbs`` at
    β, one per step in a Python loop (in chunks, so Ctrl-C works)."""

    def __init__(self, model):
        if model.visible_domain != "binary":
            raise TypeError(f"{type(model).__name__} has real visible units: give it an "
                            "annealing_path() (the default path needs a uniform binary base)")
        self.model, self.like = model, first_parameter(model)
        probe = torch.bernoulli(torch.full((16, model.n_visible), 0.5),
                                generator=torch.Generator().manual_seed(0))
        f0 = model.free_energy(probe.to(self.like), 0.0).detach().double()
        if not torch.allclose(f0, f0[0].expand_as(f0), rtol=1e-9, atol=1e-9):
            raise ValueError(f"{type(model).__name__}.free_energy(x, 0) depends on x, so its "
                             "β = 0 member is not uniform: give the model an annealing_path()")
        self.log_z_base = model.n_visible * math.log(2) - float(f0[0])

    def sample_base(self, n: int, generator) -> torch.Tensor:
        p = torch.full((n, self.model.n_visible), 0.5, dtype=torch.float64)
        return torch.bernoulli(p, generator=generator).to(self.like)

    @torch.no_grad()
    def anneal(self, x: torch.Tensor, betas: list[float], generator) -> torch.Tensor:
        model = self.model
        log_w = torch.zeros(len(x), dtype=torch.float64, device=x.device)
        state = [x]

        def run(start: int, n: int) -> None:  # steps start + 1 .. start + n: weight, then sweep
            x = state[0]
            for step in range(start + 1, start + n + 1):
                beta, beta_prev = betas[step], betas[step - 1]
                log_w.add_((model.free_energy(x, beta_prev) - model.free_energy(x, beta)).double())
                x = model.gibbs(x, 1, beta=beta, generator=generator)[0]
            state[0] = x

        run_chunked(len(betas) - 1, 1, run, desc="AIS")
        return log_w
