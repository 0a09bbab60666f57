"""Energy models over continuous x: p(x) ∝ exp(-E(x)), x [B, *event_shape].

The samplers (Langevin, MALA, HMC) and the continuous objectives use only the ``EnergyFunction``
protocol below, so any object with ``event_shape`` and ``energy`` plugs in:

- ``event_shape: tuple[int, ...]``: the shape of one sample.
- ``energy(x) -> [B]``: E(x), differentiable in x and in the model's parameters.
- optional hook ``energy_and_grad(x) -> (E [B], ∇ₓE [B, *event_shape])``, both without a graph
  (an analytic or fused gradient). Default (:func:`energy_and_grad`): autograd on ``energy``.
- optional hook ``langevin_chains(x, step_size, n_steps, *, mala, generator) -> (x', accepted)``:
  whole Langevin / MALA chains in one fused call (LangevinSampler uses it when no box is set and
  it is not adapting), or None where the fused kernel does not cover the model. Default: one
  fused step per call.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Protocol, runtime_checkable

import torch
from torch import nn

from .. import ops
from ..checks import check_count


@runtime_checkable
class EnergyFunction(Protocol):
    event_shape: tuple[int, ...]

    def energy(self, x: torch.Tensor) -> torch.Tensor: ...


def energy_and_grad(model, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(E(x) [B], ∇ₓE(x) [B, ...]), detached: the model's ``energy_and_grad`` hook, else
    autograd on ``model.energy`` (the parameters' ``.grad`` is left untouched)."""
    # The hook is a method of the model's class or an attribute of its own (as
    # EnergyModel(compile=True) sets); looked up there, not by getattr, which on an nn.Module
    # without it raises (slowly) inside Module.__getattr__ at every step.
    if hasattr(type(model), "energy_and_grad") or "energy_and_grad" in getattr(model, "__dict__", ()):
        return model.energy_and_grad(x)
    if not torch.is_grad_enabled():  # entering the context costs 3 µs a step: only when needed
        with torch.enable_grad():
            return energy_and_grad(model, x)
    x = x.detach().requires_grad_(True)
    energy = model.energy(x)
    (grad,) = torch.autograd.grad(energy.sum(), x)
    return energy.detach(), grad


def check_states(model, x, name: str = "x") -> torch.Tensor:
    """x [B, *event_shape]: a finite float tensor of the model's event shape."""
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(x).__name__}")
    shape = tuple(model.event_shape)
    if x.dim() != len(shape) + 1 or tuple(x.shape[1:]) != shape:
        raise ValueError(f"{name} must have shape [B, {', '.join(map(str, shape))}], "
                         f"got {list(x.shape)}")
    if not x.is_floating_point():
        raise TypeError(f"{name} must be a floating-point tensor, got {x.dtype}")
    if not torch.isfinite(x).all():
        raise ValueError(f"{name} contains NaN or Inf")
    return x


class EnergyModel(nn.Module):
    """Any network x [B, *event_shape] -> E(x) ([B] or [B, 1]) as an energy model,
    p(x) ∝ exp(-E(x)).

    Args:
        net: the energy network.
        event_shape: the shape of one sample, e.g. (2,) for points in the plane.
        learn_log_normalizer: add a learnable log normaliser c (``log_normalizer``), log p(x) =
            -E(x) - c, for objectives that need one (NCE).
        compile: give the model an ``energy_and_grad`` hook that is the network's energy and
            input gradient (torch.func.grad_and_value) compiled by ``torch.compile``: one fused
            kernel for element-wise energies, so samplers spend their time sampling (the first
            call compiles, ~10 s; each new batch shape or dtype compiles again). Needs a C++
            compiler at run time (inductor's CPU backend).
    """

    def __init__(self, net: nn.Module, event_shape: Sequence[int], *,
                 learn_log_normalizer: bool = False, compile: bool = False):
        super().__init__()
        if not isinstance(net, nn.Module):
            raise TypeError(f"net must be a torch.nn.Module, got {type(net).__name__}")
        self.net = net
        self.event_shape = tuple(check_count(d, "event_shape entries") for d in event_shape)
        if learn_log_normalizer:
            self.log_normalizer = nn.Parameter(torch.zeros(()))
        if compile:
            self.energy_and_grad = torch.compile(self._energy_and_grad_functional, fullgraph=True)

    def _energy_and_grad_functional(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(E(x) [B], ∇ₓE(x)) by torch.func (the sum's gradient is every row's own: rows are
        independent), detached from the parameters."""
        def total(z):
            energy = self.energy(z)
            return energy.sum(), energy

        grad, (_, energy) = torch.func.grad_and_value(total, has_aux=True)(x.detach())
        return energy.detach(), grad.detach()

    def energy(self, x: torch.Tensor) -> torch.Tensor:
        """[B] E(x) for x [B, *event_shape] (the network's dtype)."""
        shape = self.event_shape
        if not isinstance(x, torch.Tensor) or x.dim() != len(shape) + 1 or x.shape[1:] != shape:
            raise ValueError(f"x must be a tensor [B, {', '.join(map(str, shape))}] (the model's "
                             f"event shape), got "
                             f"{list(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__}")
        # The weights' dtype is looked up only where the call failed or changed dtype (a
        # sampler calls this once per step, and that look-up walks the network's modules).
        try:
            out = self.net(x)
        except RuntimeError:
            self._check_dtype(x)
            raise
        if out.dtype != x.dtype:
            self._check_dtype(x)
        if out.dim() == 1 and out.shape[0] == x.shape[0]:
            return out
        if out.shape != (x.shape[0], 1):
            raise ValueError(f"the energy network must map [B, ...] to [B] or [B, 1], got "
                             f"{list(out.shape)} for input {list(x.shape)}")
        return out.reshape(x.shape[0])

    def _check_dtype(self, x: torch.Tensor) -> None:
        weight = next(self.net.parameters(), None)
        if weight is not None and x.dtype != weight.dtype:
            raise TypeError(f"x is {x.dtype} but the energy network's weights are {weight.dtype}: "
                            f"convert one (x.to({weight.dtype}) or model.to({x.dtype}))")

    forward = energy


class GaussianEnergy(nn.Module):
    """E(x) = ½ (x - μ)ᵀ P (x - μ), P = L Lᵀ (L lower triangular): a Gaussian N(μ, P⁻¹) as an
    energy model with learnable μ [D] and L [D, D], and log Z = (D/2) log 2π - ½ log det P.

    Args:
        mean: μ [D]. precision: P [D, D], symmetric positive definite (its Cholesky factor is
        the parameter).
        learn_log_normalizer: add a learnable log normaliser c (``log_normalizer``) as
            :class:`EnergyModel`.
    """

    def __init__(self, mean: torch.Tensor, precision: torch.Tensor, *,
                 learn_log_normalizer: bool = False):
        super().__init__()
        D = mean.shape[0]
        if mean.dim() != 1 or precision.shape != (D, D):
            raise ValueError(f"mean must be [D] and precision [D, D], got {list(mean.shape)} "
                             f"and {list(precision.shape)}")
        factor, info = torch.linalg.cholesky_ex(precision)
        if info.item() != 0 or not torch.allclose(precision, precision.T):
            raise ValueError("precision must be symmetric positive definite")
        self.mean = nn.Parameter(mean.clone())
        self.factor = nn.Parameter(factor)
        self.event_shape = (D,)
        if learn_log_normalizer:
            self.log_normalizer = nn.Parameter(torch.zeros((), dtype=mean.dtype))

    @property
    def precision(self) -> torch.Tensor:
        L = self.factor.tril()
        return L @ L.T

    def energy(self, x: torch.Tensor) -> torch.Tensor:
        z = (x - self.mean) @ self.factor.tril()  # [B, D]: (x - μ)ᵀ L
        return 0.5 * z.square().sum(1)

    forward = energy

    def energy_and_grad(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Protocol hook: ∇E = P (x - μ), analytic."""
        with torch.no_grad():
            d = x - self.mean
            grad = d @ self.precision
            return 0.5 * (d * grad).sum(1), grad

    def log_z(self) -> torch.Tensor:
        D = self.mean.shape[0]
        return 0.5 * D * math.log(2 * math.pi) - self.factor.diagonal().abs().log().sum()


class GaussianMixtureEnergy(nn.Module):
    """E(x) = -log Σₖ wₖ N(x; mₖ, diag sₖ²): a mixture of K diagonal Gaussians in D dimensions
    (normalised: log Z = 0).

    Args:
        weights: [K], positive (normalised here). means: [K, D]. stds: [K, D], positive.
    """

    def __init__(self, weights: torch.Tensor, means: torch.Tensor, stds: torch.Tensor):
        super().__init__()
        if means.dim() != 2 or weights.shape != means.shape[:1] or stds.shape != means.shape:
            raise ValueError(f"weights must be [K], means and stds [K, D], got "
                             f"{list(weights.shape)}, {list(means.shape)}, {list(stds.shape)}")
        if not ((weights > 0).all() and (stds > 0).all()):
            raise ValueError("weights and stds must be positive")
        self.register_buffer("log_weights", (weights / weights.sum()).log())
        self.register_buffer("means", means.clone())
        self.register_buffer("stds", stds.clone())
        self.event_shape = (means.shape[1],)

    def _log_components(self, x: torch.Tensor) -> torch.Tensor:
        """[B, K] log wₖ + log N(x; mₖ, diag sₖ²)."""
        z = (x[:, None, :] - self.means) / self.stds  # [B, K, D]
        log_norm = self.stds.log().sum(1) + 0.5 * self.means.shape[1] * math.log(2 * math.pi)
        return self.log_weights - 0.5 * z.square().sum(2) - log_norm

    def energy(self, x: torch.Tensor) -> torch.Tensor:
        return -torch.logsumexp(self._log_components(x), dim=1)

    forward = energy

    def energy_and_grad(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Protocol hook: ∇E = Σₖ rₖ (x - mₖ)/sₖ², r the components' responsibilities."""
        with torch.no_grad():
            log_c = self._log_components(x)
            energy = -torch.logsumexp(log_c, dim=1)
            resp = (log_c + energy[:, None]).exp()  # [B, K]
            grad = (resp[:, :, None] * (x[:, None, :] - self.means) / self.stds.square()).sum(1)
            return energy, grad

    def langevin_chains(self, x: torch.Tensor, step_size: float, n_steps: int, *,
                        mala: bool = False, generator: torch.Generator | None = None
                        ) -> tuple[torch.Tensor, torch.Tensor]:
        """Protocol hook: whole ULA / MALA chains from x [B, D] by the fused mixture kernel
        (ops.gmm_langevin). Returns (x', accepted proposals per chain [B]), or None beyond the
        kernel's limits (D > 16 or K > 64: the sampler then steps with ``energy_and_grad``)."""
        D, K = self.means.shape[1], self.means.shape[0]
        if D > ops.langevin.GMM_MAX_DIM or K > ops.langevin.GMM_MAX_COMPONENTS:
            return None
        return ops.gmm_langevin(x, self.log_weights.to(x), self.means.to(x), self.stds.to(x),
                                step_size, n_steps, mala=mala, generator=generator,
                                desc="langevin chains")
