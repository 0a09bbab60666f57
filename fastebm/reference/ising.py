"""Oracles of the Boltzmann-machine and Ising ops, in plain PyTorch with the kernels' very Philox
bits and rounding steps, and the plain-PyTorch samplers the benchmarks compare against."""

from __future__ import annotations

import torch

from .philox import uniforms

#: Sites per block of a Boltzmann-machine sweep (csrc ising_ops.h kBmBlock).
BM_BLOCK = 64


def _per_chain(beta, x: torch.Tensor) -> torch.Tensor:
    """beta (a float, [] or [B]) as a [B, 1] column of x's dtype and device."""
    return torch.as_tensor(beta, dtype=x.dtype, device=x.device).expand(len(x))[:, None]


def bm_uniforms(seed: int, sweep: int, chains: int, n: int, dtype, device=None) -> torch.Tensor:
    """[B, n] the uniforms of a Boltzmann-machine sweep: chain r's site i takes element
    ((r // 16)·n4 + i)·16 + r % 16 of draw `sweep` (n4 = n rounded up to a multiple of 4), so a
    chain's sites 4m .. 4m+3 take the 4 words of one Philox group."""
    n4 = (n + 3) // 4 * 4
    blocks = (chains + 15) // 16
    u = uniforms(seed, sweep, blocks * n4 * 16, dtype, device).view(blocks, n4, 16)
    return u.permute(0, 2, 1).reshape(blocks * 16, n4)[:chains, :n]


def bm_gibbs(x, J, b, n_steps: int, beta, seed: int, sweep0: int = 0,
             frozen: torch.Tensor | None = None) -> torch.Tensor:
    """Oracle of ``fastebm.ops.bm_gibbs``: per sweep s, u = b + xJ; then for each block of
    BM_BLOCK sites, site i in order takes x_i ~ Bern(σ(β u_i)) (1{U < σ}) unless ``frozen``
    holds it, its change d moves the block's later fields u_j += d J_ij, and after the block
    u[:, later] += Δ J[block, later]."""
    x, n = x.clone(), x.shape[1]
    scale = _per_chain(beta, x)[:, 0]
    for sweep in range(sweep0, sweep0 + n_steps):
        draws = bm_uniforms(seed, sweep, len(x), n, x.dtype, x.device)
        u = torch.addmm(b, x, J)
        for k0 in range(0, n, BM_BLOCK):
            k1 = min(k0 + BM_BLOCK, n)
            changes = torch.empty(len(x), k1 - k0, dtype=x.dtype, device=x.device)
            for i in range(k0, k1):
                new = (draws[:, i] < torch.sigmoid(scale * u[:, i])).to(x.dtype)
                if frozen is not None:
                    new = torch.where(frozen[:, i], x[:, i], new)
                d = new - x[:, i]
                x[:, i] = new
                changes[:, i - k0] = d
                u[:, i + 1:k1] = u[:, i + 1:k1] + d[:, None] * J[i, i + 1:k1]
            if k1 < n:
                u[:, k1:].addmm_(changes, J[k0:k1, k1:])
    return x


def ising_probabilities(beta, s: torch.Tensor, J: float, h: float) -> torch.Tensor:
    """[B, 5] P(s_ij = +1 | neighbours) = σ(2β (J Σ + h)) for the neighbour sums Σ = -4 .. 4 (step
    2), computed as the op tabulates it."""
    sums = torch.arange(-4, 5, 2, dtype=s.dtype, device=s.device)
    return torch.sigmoid(_per_chain(beta, s) * (sums * J + h) * 2)


def neighbour_sum(s: torch.Tensor) -> torch.Tensor:
    """[B, L, L] Σ of the four periodic neighbours of every site."""
    return (s.roll(1, 1) + s.roll(-1, 1)) + (s.roll(1, 2) + s.roll(-1, 2))


def checkerboard(L: int, colour: int, device=None) -> torch.Tensor:
    """[L, L] bool: the sites with (i + j) % 2 == colour."""
    i = torch.arange(L, device=device)
    return (i[:, None] + i[None, :]) % 2 == colour


def ising_gibbs(s, n_steps: int, beta, J: float, h: float, seed: int, sweep0: int = 0,
                frozen: torch.Tensor | None = None):
    """Oracle of ``fastebm.ops.ising_gibbs``: per sweep, colour c = 0 then 1 (sites with
    (i + j) % 2 == c, but those ``frozen`` holds) becomes +1 where U < σ(2β (J Σ + h)); U of site
    (b, i, j) is element (b·L + i)·L/2 + j // 2 of draw 2·sweep + c."""
    s = s.clone()
    B, L, _ = s.shape
    prob = ising_probabilities(beta, s, J, h)  # [B, 5]
    for sweep in range(sweep0, sweep0 + n_steps):
        for colour in range(2):
            u = uniforms(seed, 2 * sweep + colour, B * L * L // 2, s.dtype, s.device)
            u = u.view(B, L, L // 2).repeat_interleave(2, 2)  # site j reads element j // 2
            index = ((neighbour_sum(s) + 4) / 2).long()
            p = prob.gather(1, index.view(B, L * L)).view(B, L, L)
            new = torch.where(u < p, 1.0, -1.0).to(s.dtype)
            updated = checkerboard(L, colour, s.device)
            if frozen is not None:
                updated = updated & ~frozen
            s = torch.where(updated, new, s)
    return s


def bm_gibbs_torch(x, J, b, n_steps: int, beta: float = 1.0, generator=None) -> torch.Tensor:
    """The plain PyTorch way (the benchmark's baseline): a Python loop over sites, each drawing
    x_i ~ Bern(σ(β (b_i + x·J_i))) for all chains with torch.rand."""
    x = x.clone()
    for _ in range(n_steps):
        for i in range(x.shape[1]):
            p = torch.sigmoid(beta * (x @ J[:, i] + b[i]))
            x[:, i] = (torch.rand(len(x), generator=generator, dtype=x.dtype, device=x.device) < p).to(x.dtype)
    return x


def ising_gibbs_torch(s, n_steps: int, beta: float, J: float = 1.0, h: float = 0.0,
                      generator=None) -> torch.Tensor:
    """The plain PyTorch checkerboard (the benchmark's baseline): roll-based neighbour sums and
    torch.rand, one half-sweep per colour."""
    L = s.shape[1]
    masks = [checkerboard(L, c, s.device) for c in range(2)]
    for _ in range(n_steps):
        for mask in masks:
            p = torch.sigmoid(2 * beta * (J * neighbour_sum(s) + h))
            u = torch.rand(s.shape, generator=generator, dtype=s.dtype, device=s.device)
            s = torch.where(mask, torch.where(u < p, 1.0, -1.0).to(s.dtype), s)
    return s
