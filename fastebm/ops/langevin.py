"""The Langevin family's ops: the fused unadjusted Langevin step, the fused HMC leapfrog update,
and the fused Metropolis accept / reject of a batch of MALA or HMC chains; their fake (meta)
kernels and the Langevin step's autograd formula.

Target p(x) ∝ exp(-E(x)); ε = step_size.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import torch

from ..checks import check_integer
from . import chunking
from .fake_checks import (check_at_least, check_float_tensor, check_scalar, check_same_kind,
                          check_same_shape, check_size, register_out_fake)
from .half import half_precision
from .outputs import into
from .seeds import draw_seed, op_seed


class MetropolisResult(NamedTuple):
    """A Metropolis accept / reject of a batch of chains: the new states ``x`` [B, ...], their
    ``energy`` [B] and ``grad`` [B, ...], and ``accepted`` [B] bool."""

    x: torch.Tensor
    energy: torch.Tensor
    grad: torch.Tensor
    accepted: torch.Tensor


class PhasePoint(NamedTuple):
    """A point of Hamiltonian dynamics: positions ``x`` and momenta ``p``, both [B, ...]."""

    x: torch.Tensor
    p: torch.Tensor


class ChainRun(NamedTuple):
    """Chains after a run: the states ``x`` [B, D] and each chain's ``accepted`` proposals [B]
    int64 (every step for an unadjusted chain)."""

    x: torch.Tensor
    accepted: torch.Tensor


#: The fused mixture kernel's limits (csrc/include/fastebm/gmm_chains.h): dimensions per chain and
#: mixture components.
GMM_MAX_DIM, GMM_MAX_COMPONENTS = 16, 64

@half_precision
def langevin_step(x: torch.Tensor, grad: torch.Tensor, step_size: float, *,
                  generator: torch.Generator | None = None, noise: torch.Tensor | None = None,
                  out: torch.Tensor | None = None, seed: int | None = None) -> torch.Tensor:
    """One unadjusted Langevin step (ULA; Roberts & Tweedie 1996), fused into one pass:

        x' = x - ε·grad + √(2ε)·ξ,  ξ ~ N(0, I),  grad = ∇E(x).

    Args:
        x: any shape, float32 or float64, CPU or CUDA.
        grad: ∇E(x), the shape, dtype and device of x.
        step_size: ε, finite and > 0.
        generator: source of the op's seed (ξᵢ is keyed by (seed, i)); unused with ``noise``.
        noise: ξ given explicitly (the shape of x) instead of drawn.
        out: written instead of a fresh tensor (x's shape, dtype and device, contiguous; may be
            x itself); no gradient flows through it (refused where one is wanted).
        seed: the draws' key in [0, 2⁶³) instead of one drawn from ``generator`` (ops.seeds:
            a loop draws its steps' seeds at once with ``SeedStream``).

    Returns:
        x' (contiguous), differentiable in x, grad and noise (without ``out``). A NaN or Inf in
        the inputs (or an overflow) raises ValueError naming the argument.
    """
    if out is not None and torch.is_grad_enabled():
        for a in (x, grad, noise, out):
            if isinstance(a, torch.Tensor) and a.requires_grad:
                raise ValueError("langevin_step(out=...) has no gradient: call it without out, "
                                 "or under torch.no_grad() with the arguments detached")
    seed, cuda_generator = op_seed(generator, noise=noise, seed=seed)
    return into(torch.ops.fastebm.langevin_step, out, x, grad, float(step_size), noise, seed,
                cuda_generator)


@half_precision
def mala_accept(x: torch.Tensor, x_prop: torch.Tensor, energy: torch.Tensor,
                energy_prop: torch.Tensor, grad: torch.Tensor, grad_prop: torch.Tensor,
                step_size: float, *, generator: torch.Generator | None = None,
                seed: int | None = None) -> MetropolisResult:
    """The Metropolis correction of MALA (Roberts & Tweedie 1996) for a batch of chains, in one
    pass: for proposals x' = x - ε∇E(x) + √(2ε)ξ (e.g. from :func:`langevin_step`),

        log α_b = E(x_b) - E(x'_b) - (‖x_b - x'_b + ε∇E(x'_b)‖² - ‖x'_b - x_b + ε∇E(x_b)‖²) / (4ε)

    and chain b moves to x'_b iff u_b < e^{log α_b}, u_b ~ U(0, 1) keyed by (seed, b).

    Args:
        x, x_prop, grad, grad_prop: [B, ...] current states, proposals and their ∇E.
        energy, energy_prop: [B] E(x), E(x').
        step_size: ε of the proposal, finite and > 0.
        generator: source of the op's seed.
        seed: the draws' key in [0, 2⁶³) instead of one drawn from ``generator``.

    Returns:
        MetropolisResult(x [B, ...], energy [B], grad [B, ...], accepted [B] bool): each chain's
        proposal where accepted, else its current state. The current state must be finite
        (ValueError otherwise); a proposal whose energy or gradient is NaN is rejected.
    """
    return MetropolisResult(*torch.ops.fastebm.mala_accept.default(
        x, x_prop, energy, energy_prop, grad, grad_prop, float(step_size),
        *op_seed(generator, seed=seed)))


@half_precision
def leapfrog_step(x: torch.Tensor, p: torch.Tensor, grad: torch.Tensor, step_size: float, *,
                  inv_mass: torch.Tensor | None = None,
                  momentum_step: float = 1.0) -> PhasePoint:
    """One leapfrog update of Hamiltonian dynamics H(x, p) = E(x) + ½ pᵀM⁻¹p, M diagonal,
    position and momentum in one pass:

        p' = p - a·ε·∇E(x),  x' = x + ε·M⁻¹p'.

    A trajectory of L steps from (x₀, p₀) is a = ½ on its first call and a = 1 on the next L - 1
    (each merging the previous step's closing half kick with the next opening one);
    :func:`hmc_accept` takes the closing half kick of the last.

    Args:
        x, p, grad: [B, ...] positions, momenta and ∇E(x).
        step_size: ε, finite and > 0.
        inv_mass: [D] M⁻¹'s diagonal over a row's D elements, > 0; None: identity.
        momentum_step: a in (0, 1].

    Returns:
        PhasePoint(x' [B, ...], p' [B, ...]). Values are not checked: a diverging trajectory carries its
        Inf / NaN on, and :func:`hmc_accept` rejects that chain.
    """
    return PhasePoint(*torch.ops.fastebm.leapfrog_step.default(x, p, grad, float(step_size),
                                                               inv_mass, float(momentum_step)))


@half_precision
def hmc_accept(x: torch.Tensor, x_prop: torch.Tensor, energy: torch.Tensor,
               energy_prop: torch.Tensor, grad: torch.Tensor, grad_prop: torch.Tensor,
               p0: torch.Tensor, p_half: torch.Tensor, step_size: float, *,
               inv_mass: torch.Tensor | None = None, generator: torch.Generator | None = None
               ) -> MetropolisResult:
    """The Metropolis correction of HMC (Duane et al. 1987; Neal 2011) for a batch of leapfrog
    trajectories, in one pass: with p_end = p_half - (ε/2)∇E(x') (the closing half kick) and
    K(p) = ½ Σ M⁻¹p²,

        log α_b = E(x_b) + K(p0_b) - E(x'_b) - K(p_end_b),

    and chain b moves to x'_b iff u_b < e^{log α_b}, u_b ~ U(0, 1) keyed by (seed, b).

    Args:
        x, grad, energy: the trajectories' starts [B, ...], ∇E there, E there [B].
        x_prop, grad_prop, energy_prop: their ends.
        p0: [B, ...] the starting momenta; p_half: the momenta the last leapfrog_step returned.
        step_size: ε of the leapfrog steps. inv_mass: as in :func:`leapfrog_step`.
        generator: source of the op's seed.

    Returns:
        MetropolisResult(x, energy, grad, accepted [B] bool), as :func:`mala_accept`.
    """
    return MetropolisResult(*torch.ops.fastebm.hmc_accept.default(
        x, x_prop, energy, energy_prop, grad, grad_prop, p0, p_half, inv_mass, float(step_size),
        *op_seed(generator)))


#: Chain-steps × components × dimensions below which a gmm_langevin call runs whole.
GMM_SINGLE_CALL_WORK = 1 << 24


@half_precision
def gmm_langevin(x: torch.Tensor, log_weights: torch.Tensor, means: torch.Tensor,
                 stds: torch.Tensor, step_size: float, n_steps: int, *, mala: bool = False,
                 generator: torch.Generator | None = None,
                 desc: str | None = None) -> ChainRun:
    """Whole Langevin (ULA) or MALA chains on a mixture of K diagonal Gaussians, every step of a
    chain inside one kernel (the energy and gradient analytic):

        E(x) = -log Σₖ wₖ N(x; mₖ, diag sₖ²),  x' = x - ε∇E(x) + √(2ε)ξ  (MALA: then accepted
        with the probability of :func:`mala_accept`).

    Long runs are split into calls of about ``chunking.CHUNK_SECONDS`` (bit for bit one call;
    Ctrl-C is honoured between them).

    Args:
        x: [B, D] chain starts, D <= GMM_MAX_DIM (16). log_weights: [K] log wₖ (normalised),
            K <= GMM_MAX_COMPONENTS (64).
        means, stds: [K, D], stds > 0. step_size: ε > 0. n_steps: >= 1.
        mala: Metropolis-adjust each step.
        generator: source of the op's seed. desc: a progress-bar label for long runs.

    Returns:
        ChainRun(x [B, D], accepted [B] int64: each chain's accepted proposals; n_steps for
        ULA).
    """
    seed = draw_seed(generator)
    out = [x, None]
    work = max(1, x.shape[0] * means.numel()) if x.dim() == 2 else 1

    def run(start: int, n: int) -> None:
        x_n, acc = torch.ops.fastebm.gmm_langevin.default(out[0], log_weights, means, stds,
                                                          float(step_size), n, bool(mala), seed,
                                                          start)
        out[:] = [x_n, acc if out[1] is None else out[1] + acc]

    check_at_least(check_integer(n_steps, "n_steps"), "n_steps", 1)
    chunking.run_chunked(n_steps, max(1, GMM_SINGLE_CALL_WORK // work), run, desc=desc)
    return ChainRun(out[0], out[1])


# ---------------------------------------------------------------- autograd

def _langevin_setup_context(ctx, inputs, output):
    ctx.step_size = inputs[2]
    ctx.has_noise = inputs[3] is not None


def _langevin_backward(ctx, grad_out):
    """∂x'/∂x = I, ∂x'/∂grad = -ε I, ∂x'/∂noise = √(2ε) I."""
    noise_grad = math.sqrt(2 * ctx.step_size) * grad_out if ctx.has_noise else None
    return grad_out, -ctx.step_size * grad_out, None, noise_grad, None, None


torch.library.register_autograd("fastebm::langevin_step", _langevin_backward,
                                setup_context=_langevin_setup_context)


# ---------------------------------------------------------------- fake kernels

@torch.library.register_fake("fastebm::langevin_step")
def _langevin_step_fake(x, grad, step_size, noise, seed, generator=None):
    check_float_tensor(x, "x", x.dim())
    check_same_shape(grad, "grad", x, "x")
    if noise is not None:
        check_same_shape(noise, "noise", x, "x")
    check_scalar(step_size, "step_size", x.dtype, positive=True)
    return torch.empty_like(x, memory_format=torch.contiguous_format)


register_out_fake("langevin_step", _langevin_step_fake, "x")


def _metropolis_fake(x, x_prop, energy, energy_prop, grad, grad_prop, step_size):
    """Mirror of metropolis_tensors in csrc/langevin.cpp (values aside); the outputs."""
    _check_batched(x, "x")
    check_same_shape(x_prop, "x_prop", x, "x")
    check_same_shape(grad, "grad", x, "x")
    check_same_shape(grad_prop, "grad_prop", x, "x")
    for t, name in ((energy, "energy"), (energy_prop, "energy_prop")):
        check_float_tensor(t, name, 1)
        check_same_kind(t, name, x, "x")
        check_size(t, name, 0, x.shape[0], "batch = x.size(0)")
    check_scalar(step_size, "step_size", x.dtype, positive=True)
    contiguous = torch.contiguous_format
    return (torch.empty_like(x, memory_format=contiguous), energy.new_empty(x.shape[0]),
            torch.empty_like(x, memory_format=contiguous),
            torch.empty(x.shape[0], dtype=torch.bool, device=x.device))


def _check_batched(x, name):
    check_float_tensor(x, name, x.dim())
    if x.dim() < 1:
        raise ValueError(f"fastebm: argument '{name}' must have a batch dimension, got a scalar")


def _check_inv_mass(inv_mass, x):
    if inv_mass is not None:
        check_float_tensor(inv_mass, "inv_mass", 1)
        check_same_kind(inv_mass, "inv_mass", x, "x")
        check_size(inv_mass, "inv_mass", 0, math.prod(x.shape[1:]), "the elements of one row of x")


@torch.library.register_fake("fastebm::mala_accept")
def _mala_accept_fake(x, x_prop, energy, energy_prop, grad, grad_prop, step_size, seed,
                      generator=None):
    return _metropolis_fake(x, x_prop, energy, energy_prop, grad, grad_prop, step_size)


@torch.library.register_fake("fastebm::leapfrog_step")
def _leapfrog_step_fake(x, p, grad, step_size, inv_mass, momentum_step):
    _check_batched(x, "x")
    check_same_shape(p, "p", x, "x")
    check_same_shape(grad, "grad", x, "x")
    check_scalar(step_size, "step_size", x.dtype, positive=True)
    if not 0 < momentum_step <= 1:
        raise ValueError(f"fastebm: argument 'momentum_step' must be in (0, 1], got {momentum_step:g}")
    _check_inv_mass(inv_mass, x)
    contiguous = torch.contiguous_format
    return torch.empty_like(x, memory_format=contiguous), torch.empty_like(x, memory_format=contiguous)


@torch.library.register_fake("fastebm::hmc_accept")
def _hmc_accept_fake(x, x_prop, energy, energy_prop, grad, grad_prop, p0, p_half, inv_mass,
                     step_size, seed, generator=None):
    out = _metropolis_fake(x, x_prop, energy, energy_prop, grad, grad_prop, step_size)
    check_same_shape(p0, "p0", x, "x")
    check_same_shape(p_half, "p_half", x, "x")
    _check_inv_mass(inv_mass, x)
    return out


@torch.library.register_fake("fastebm::gmm_langevin")
def _gmm_langevin_fake(x, log_weights, means, stds, step_size, n_steps, mala, seed, step0=0,
                       generator=None):
    check_float_tensor(x, "x", 2)
    check_float_tensor(means, "means", 2)
    check_same_kind(means, "means", x, "x")
    check_size(means, "means", 1, x.shape[1], "D = x.size(1)")
    check_same_shape(stds, "stds", means, "means")
    check_float_tensor(log_weights, "log_weights", 1)
    check_same_kind(log_weights, "log_weights", x, "x")
    check_size(log_weights, "log_weights", 0, means.shape[0], "K = means.size(0)")
    if not 1 <= x.shape[1] <= GMM_MAX_DIM:
        raise ValueError(f"fastebm: argument 'x' must have 1 to {GMM_MAX_DIM} dimensions per "
                         f"chain for the mixture kernel, got {x.shape[1]}")
    if not 1 <= means.shape[0] <= GMM_MAX_COMPONENTS:
        raise ValueError(f"fastebm: argument 'means' must hold 1 to {GMM_MAX_COMPONENTS} "
                         f"components, got {means.shape[0]}")
    check_scalar(step_size, "step_size", x.dtype, positive=True)
    check_at_least(n_steps, "n_steps", 1)
    check_at_least(step0, "step0", 0)
    return (torch.empty_like(x, memory_format=torch.contiguous_format),
            x.new_empty(x.shape[0], dtype=torch.int64))
