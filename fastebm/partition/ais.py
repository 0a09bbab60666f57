"""Annealed importance sampling (Neal 2001; Salakhutdinov & Murray 2008) and reverse AIS (Burda,
Grosse & Salakhutdinov 2015) for any model with an AIS path (fastebm.models.base): a Bernoulli
RBM's whole annealing run is one fused call."""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.distributed as dist

from ..checks import check_beta, check_count, check_generator
from ..training.distributed import process_group
from ..models.base import annealing_path, check_model, check_parameters, check_visible
from ..ops.seeds import draw_seeds


@dataclass
class LogZ:
    """An estimate of log Z: ``log_z`` ± ``stderr`` (delta method on the importance weights),
    with the per-chain ``log_weights`` [N] (float64) and the base model's exact ``log_z_base``."""

    log_z: float
    stderr: float
    log_weights: torch.Tensor
    log_z_base: float

    def __float__(self) -> float:
        return self.log_z


def sm_betas(n_betas: int = 14500) -> list[float]:
    """The β schedule of Salakhutdinov & Murray (2008), scaled to n_betas values from 0 to 1:
    500/14500 of them evenly in [0, 0.5), 4000/14500 in [0.5, 0.9), the rest in [0.9, 1]."""
    check_count(n_betas, "n_betas", 3)
    n1 = max(1, round(n_betas * 500 / 14500))
    n2 = max(1, round(n_betas * 4000 / 14500))
    n3 = n_betas - n1 - n2
    parts = [torch.linspace(0, 0.5, n1 + 1, dtype=torch.float64)[:-1],
             torch.linspace(0.5, 0.9, n2 + 1, dtype=torch.float64)[:-1],
             torch.linspace(0.9, 1.0, n3, dtype=torch.float64)]
    return torch.cat(parts).tolist()


def _check_betas(betas, start: float, end: float) -> list[float]:
    betas = [check_beta(b, "betas[]") for b in betas]
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


def _blocked(run, n: int, blocks: int | None, distributed: bool, generator) -> torch.Tensor:
    """log-weights [n] of ``n`` chains run as ``blocks`` contiguous blocks (sizes as even as
    tensor_split makes them): block j runs ``run(lo, hi, g_j)`` on chains lo..hi-1 with its own
    generator g_j, seeded by the j-th of ``blocks`` seeds drawn from ``generator`` (rank 0's
    under torch.distributed). With ``distributed``, rank r runs the blocks j ≡ r (mod world)
    and the blocks' log-weights are all-gathered in block order, so every rank returns the
    log-weights one process gets with the same ``blocks``: the estimate does not depend on the
    number of processes. One block (the default without ``distributed``) runs on ``generator``
    itself."""
    rank, world = process_group(distributed)
    blocks = world if blocks is None else check_count(blocks, "blocks")
    if blocks > n:
        raise ValueError(f"blocks ({blocks}) must not exceed the number of chains ({n})")
    if blocks == 1 and world == 1:
        return run(0, n, generator)
    seeds = [draw_seeds(blocks, generator)]
    if world > 1:
        dist.broadcast_object_list(seeds, 0)
    device = "cpu" if generator is None else generator.device
    edges = torch.linspace(0, n, blocks + 1).round().long().tolist()
    mine = {j: run(edges[j], edges[j + 1],
                   torch.Generator(device=device).manual_seed(seeds[0][j]))
            for j in range(rank, blocks, world)}
    if world > 1:  # the blocks' log-weights [hi - lo] each, gathered on the CPU
        gathered = [None] * world
        dist.all_gather_object(gathered, {j: w.cpu() for j, w in mine.items()})
        mine = {j: w for part in gathered for j, w in part.items()}
    return torch.cat([mine[j] for j in range(blocks)])


def _setup(model, what: str, data, base_b, generator, betas, n_betas, start, end):
    """Check what ais / reverse_ais share; returns (path, betas)."""
    check_model(model, what)
    check_parameters(model)
    check_generator(generator)
    if data is not None:
        data = check_visible(model, data, "data")
    betas = _check_betas(sm_betas(n_betas) if betas is None else betas, start, end)
    return annealing_path(model, data=data, base_b=base_b), betas


@torch.no_grad()
def ais(model, n_chains: int = 100, n_betas: int = 14500, *,
        betas: list[float] | None = None, data: torch.Tensor | None = None,
        base_b: torch.Tensor | None = None, generator: torch.Generator | None = None,
        blocks: int | None = None, distributed: bool = False) -> LogZ:
    """AIS estimate of log Z (Neal 2001; Salakhutdinov & Murray 2008), a stochastic lower bound
    on average: from exact samples of a base model p_A with known Z_A, one transition per β,
    log Ẑ = log Z_A + log mean_chains exp(Σ_s log p*_{β_s}(v_s) - log p*_{β_{s-1}}(v_s)).

    The path is the model's (protocol hook ``annealing_path``). BernoulliRBM: base-rate model
    p_A(v) ∝ exp(base_b·v) (base_b from ``data``'s pixel means), all steps in one fused call.
    GaussianBernoulliRBM: base N(b, σ²), p*_β scales W and c by β. Other binary models: p*_β ∝
    exp(-F_β) from the uniform β = 0 member.

    Args:
        model: a GibbsModel. n_chains: independent annealing runs (>= 1).
        n_betas: length of the default schedule ``sm_betas(n_betas)``; or ``betas`` (0 -> 1).
        data: [N, V] training data for the base-rate model (or pass ``base_b``; Bernoulli only).
        blocks: run the chains in this many blocks, each with its own generator (default 1, or
            the world size with ``distributed``); the same ``blocks`` and generator give the
            same log-weights on any number of processes.
        distributed: split the blocks across the ranks of the torch.distributed process group
            and combine their log-weights exactly (every rank makes the call and gets the
            estimate over all chains).
    """
    check_count(n_chains, "n_chains")
    path, betas = _setup(model, "ais", data, base_b, generator, betas, n_betas, 0.0, 1.0)
    log_w = _blocked(lambda lo, hi, g: path.anneal(path.sample_base(hi - lo, g), betas, g),
                     n_chains, blocks, distributed, generator)
    return _estimate(log_w, path.log_z_base, +1)


@torch.no_grad()
def reverse_ais(model, v_init: torch.Tensor, n_betas: int = 14500, *,
                burn_in: int = 100, betas: list[float] | None = None,
                data: torch.Tensor | None = None, base_b: torch.Tensor | None = None,
                generator: torch.Generator | None = None, blocks: int | None = None,
                distributed: bool = False) -> LogZ:
    """Reverse AIS (Burda, Grosse & Salakhutdinov 2015): anneal from the model back to the base
    model of :func:`ais`, starting from chains initialised at ``v_init`` [N, V] (e.g. data) and
    run ``burn_in`` Gibbs sweeps; log Ẑ = log Z_A - log mean exp(Σ_s log p*_{β_{s-1}} -
    log p*_{β_s}), a stochastic upper bound on average when the chains start from the model.
    ``blocks`` and ``distributed`` split the chains (rows of ``v_init``) as in :func:`ais`."""
    check_count(burn_in, "burn_in", 0)
    path, betas = _setup(model, "reverse_ais", data, base_b, generator, betas, n_betas, 0.0, 1.0)
    v = check_visible(model, v_init, "v_init")

    def run(lo: int, hi: int, g) -> torch.Tensor:
        chains = v[lo:hi]
        if burn_in > 0:
            chains = model.gibbs(chains, burn_in, generator=g)[0]
        return path.anneal(chains, betas[::-1], g)

    return _estimate(_blocked(run, len(v), blocks, distributed, generator), path.log_z_base, -1)
