"""The Boltzmann-machine and Ising family's ops: sequential-scan heat-bath sweeps of a fully
visible Boltzmann machine and checkerboard heat-bath sweeps of the periodic 2-D Ising model;
their fake (meta) kernels.

Long runs are split into calls of about ``chunking.CHUNK_SECONDS`` each, every call starting at
its first sweep (``sweep0``), so the result is bit for bit that of one call and Ctrl-C is
honoured between calls.
"""

from __future__ import annotations

import torch

from ..checks import check_integer, check_real
from . import chunking
from .fake_checks import (check_at_least, check_float_tensor, check_same_device, check_same_kind,
                          check_scalar, check_shape_as, check_size)
from .half import half_precision
from .seeds import draw_seed, op_seed

#: Site updates per call below which a run is one call (~10 ms of work here).
SINGLE_CALL_SITES = 1 << 23


def _beta_tensor(beta, like: torch.Tensor) -> torch.Tensor:
    """A float β (checked: finite, >= 0) as a 0-dim tensor on like's device (made there by a fill,
    so no host-to-device copy); a tensor goes to the op as it is."""
    if isinstance(beta, torch.Tensor):
        return beta
    dtype = like.dtype if like.is_floating_point() else None
    return torch.full((), check_real(beta, "beta", low=0.0, dtype=dtype), dtype=like.dtype,
                      device=like.device)


def _run(op, state: torch.Tensor, n_steps: int, sweep_work: int, generator, *args):
    """op(state, n_steps, *args, seed, sweep0) in chunks of about SINGLE_CALL_SITES site updates
    (one call when short, or when the arguments are invalid: the op raises its own error; only
    that call takes a CUDA generator itself, as ops.seeds.op_seed, the chunks sharing one key)."""
    n_steps = check_integer(n_steps, "n_steps")
    if n_steps <= 1 or sweep_work == 0 or n_steps * sweep_work <= SINGLE_CALL_SITES:
        seed, cuda_generator = op_seed(generator)
        return op(state, n_steps, *args, seed, generator=cuda_generator)
    seed = draw_seed(generator)
    out = [state]

    def run(start: int, n: int) -> None:
        out[0] = op(out[0], n, *args, seed, start)

    chunking.run_chunked(n_steps, max(1, SINGLE_CALL_SITES // sweep_work), run)
    return out[0]


@half_precision(exempt=("beta",))
def bm_gibbs(x: torch.Tensor, J: torch.Tensor, b: torch.Tensor, n_steps: int = 1, *,
             beta: float | torch.Tensor = 1.0, generator: torch.Generator | None = None,
             frozen: torch.Tensor | None = None) -> torch.Tensor:
    """Sequential-scan heat-bath (Gibbs) sweeps of a fully visible Boltzmann machine.

    Energy E(x) = -½ xᵀJx - b·x on x ∈ {0,1}ⁿ, p_β(x) ∝ exp(-β E(x)). Each sweep visits sites
    0 .. n-1 in order and draws xᵢ ~ Bern(σ(β (bᵢ + Σⱼ Jᵢⱼ xⱼ))) from the current state; the
    local fields are kept up to date incrementally as sites change. Chains run in parallel.

    Args:
        x: [B, n] start states in {0, 1} (float32 or float64).
        J: [n, n] couplings, symmetric with a zero diagonal; b: [n] biases (x's dtype, device).
        n_steps: sweeps, >= 1.
        beta: inverse temperature >= 0: a float, or a tensor [] or [B] (one per chain, for
            parallel tempering in one call).
        generator: source of the op's seed.
        frozen: [B, n] bool, True where a site is held at its value in x: the other sites are
            then sampled from their conditional given the held ones (each held site still
            takes its Philox word, so the free sites' draws are the unclamped sweep's).

    Returns:
        [B, n] the states after n_steps sweeps.
    """
    op = torch.ops.fastebm.bm_gibbs.default
    work = x.shape[0] * x.shape[1] * x.shape[1] if x.dim() == 2 else 0
    return _run(lambda s, k, *rest, **kw: op(s, J, b, k, *rest, frozen=frozen, **kw), x, n_steps,
                work, generator, _beta_tensor(beta, x))


@half_precision(exempt=("beta",))
def ising_gibbs(s: torch.Tensor, n_steps: int = 1, *, beta: float | torch.Tensor,
                J: float = 1.0, h: float = 0.0, generator: torch.Generator | None = None,
                frozen: torch.Tensor | None = None) -> torch.Tensor:
    """Checkerboard heat-bath sweeps of the 2-D Ising model on a periodic L × L lattice.

    Energy E(s) = -J Σ_⟨ij⟩ sᵢsⱼ - h Σᵢ sᵢ over nearest-neighbour pairs, p_β(s) ∝ exp(-β E(s)).
    Each sweep updates the sites with i + j even, then those with i + j odd (each colour's sites
    are independent given the other's), every site to +1 with probability
    σ(2β (J Σ_neighbours + h)). Site (b, i, j) draws Philox element (b·L + i)·L/2 + j // 2 of
    draw 2·sweep + colour, so the result does not depend on threads, ISA path or device.

    Args:
        s: [B, L, L] spins in {-1, +1} (float32 or float64), L even.
        n_steps: sweeps, >= 1.
        beta: inverse temperature >= 0: a float, or a tensor [] or [B] (one per replica).
        J: coupling; h: external field (finite floats).
        generator: source of the op's seed.
        frozen: [B, L, L] bool, True where a spin is held at its value in s (the others are
            sampled given them; held sites' draws are taken and discarded).

    Returns:
        [B, L, L] the spins after n_steps sweeps.
    """
    op = torch.ops.fastebm.ising_gibbs.default
    work = s.numel() if s.dim() == 3 else 0
    return _run(lambda x, k, *rest, **kw: op(x, k, *rest, frozen=frozen, **kw), s, n_steps, work,
                generator, _beta_tensor(beta, s), float(J), float(h))


def _check_beta(beta: torch.Tensor, x: torch.Tensor, x_name: str) -> None:
    check_float_tensor(beta, "beta", beta.dim())
    check_same_kind(beta, "beta", x, x_name)
    if not (beta.dim() == 0 or (beta.dim() == 1 and beta.shape[0] == x.shape[0])):
        raise ValueError(f"fastebm: argument 'beta' must be a scalar or one value per chain "
                         f"[{x.shape[0]}], got shape {list(beta.shape)}")


def _check_frozen(frozen, state: torch.Tensor, state_name: str) -> None:
    if frozen is None:
        return
    if frozen.dtype != torch.bool:
        raise ValueError(f"fastebm: argument 'frozen' must be a bool tensor (True: the site is "
                         f"held), got {frozen.dtype}")
    check_same_device(frozen, "frozen", state, state_name)
    check_shape_as(frozen, "frozen", state, state_name)


@torch.library.register_fake("fastebm::bm_gibbs")
def _bm_gibbs_fake(x, J, b, n_steps, beta, seed, sweep0=0, frozen=None, generator=None):
    check_float_tensor(x, "x", 2)
    check_float_tensor(J, "J", 2)
    check_float_tensor(b, "b", 1)
    check_same_kind(J, "J", x, "x")
    check_same_kind(b, "b", x, "x")
    n = x.shape[1]
    check_size(J, "J", 0, n, "n = x.size(1)")
    check_size(J, "J", 1, n, "n = x.size(1)")
    check_size(b, "b", 0, n, "n = x.size(1)")
    check_at_least(n_steps, "n_steps", 1)
    check_at_least(sweep0, "sweep0", 0)
    _check_beta(beta, x, "x")
    _check_frozen(frozen, x, "x")
    return torch.empty_like(x, memory_format=torch.contiguous_format)


@torch.library.register_fake("fastebm::ising_gibbs")
def _ising_gibbs_fake(s, n_steps, beta, J, h, seed, sweep0=0, frozen=None, generator=None):
    check_float_tensor(s, "s", 3)
    L = s.shape[1]
    if not (s.shape[2] == L and L >= 2 and L % 2 == 0):
        raise ValueError(f"fastebm: argument 's' must be [B, L, L] with L even and >= 2 (a "
                         f"checkerboard on a periodic lattice), got shape {list(s.shape)}")
    check_at_least(n_steps, "n_steps", 1)
    check_at_least(sweep0, "sweep0", 0)
    _check_beta(beta, s, "s")
    check_scalar(J, "J", s.dtype)
    check_scalar(h, "h", s.dtype)
    _check_frozen(frozen, s, "s")
    return torch.empty_like(s, memory_format=torch.contiguous_format)
