"""Philox4x32-10 and the draws of csrc/include/fastebm/philox.h and draws.h, in plain PyTorch:
the very bits the kernels draw."""

from __future__ import annotations

import math

import torch

_MASK32 = 0xFFFFFFFF
_PHILOX_MUL = (0xD2511F53, 0xCD9E8D57)
_PHILOX_WEYL = (0x9E3779B9, 0xBB67AE85)


def _mulhilo32(a: int, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(hi, lo) 32-bit halves of a * x for a 32-bit constant a and int64 x in [0, 2^32),
    computed in 16-bit pieces so nothing overflows int64."""
    partial_lo = a * (x & 0xFFFF)  # < 2^48
    partial_hi = a * (x >> 16)  # < 2^48
    middle = partial_lo + ((partial_hi & 0xFFFF) << 16)
    return (partial_hi >> 16) + (middle >> 32), middle & _MASK32


def philox4x32(counter: torch.Tensor, key: tuple[int, int]) -> torch.Tensor:
    """Philox4x32-10 (Salmon et al. 2011). counter: [..., 4] int64 words in [0, 2^32);
    key: two 32-bit ints. Returns [..., 4] int64 words."""
    c0, c1, c2, c3 = counter.unbind(-1)
    k0, k1 = key
    for _ in range(10):
        hi0, lo0 = _mulhilo32(_PHILOX_MUL[0], c0)
        hi1, lo1 = _mulhilo32(_PHILOX_MUL[1], c2)
        c0, c1, c2, c3 = hi1 ^ c1 ^ k0, lo1, hi0 ^ c3 ^ k1, lo0
        k0 = (k0 + _PHILOX_WEYL[0]) & _MASK32
        k1 = (k1 + _PHILOX_WEYL[1]) & _MASK32
    return torch.stack([c0, c1, c2, c3], dim=-1)


def philox_words(seed: int, offset: int, n: int, device=None) -> torch.Tensor:
    """[n] int64 words of elements 0..n-1 for draw `offset` under key = seed, in csrc philox.h's
    tile layout: element i = 64t + 16j + l takes word j of group 16t + l; the counter of group
    g is (g, offset), 64 bits each, low word first."""
    seed %= 1 << 64
    n_groups = (n + 63) // 64 * 16
    groups = torch.arange(n_groups, dtype=torch.int64, device=device)
    counter = torch.stack([groups & _MASK32, groups >> 32,
                           torch.full_like(groups, offset & _MASK32),
                           torch.full_like(groups, offset >> 32)], dim=-1)
    words = philox4x32(counter, (seed & _MASK32, seed >> 32))  # [groups, 4]
    # [tiles, 16 groups, 4 words] -> [tiles, 4 words, 16 groups] -> element order
    return words.view(-1, 16, 4).transpose(1, 2).reshape(-1)[:n]


def uniform_open(words: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """Uniforms in (0, 1), exact in dtype: float32 (2(w >> 9) + 1)·2⁻²⁴, float64 (2w + 1)·2⁻³³."""
    if dtype == torch.float32:
        return (2 * (words >> 9) + 1).to(torch.float32) * 2.0**-24
    return (2 * words + 1).to(torch.float64) * 2.0**-33


def normal_from_words(words: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """[n] N(0, 1) draws by Box-Muller on the word pairs of the tile layout: element i pairs
    with i ^ 16 (words 0-1 and 2-3 of one group); with u₀ the word of i & ~16 and u₁ that of
    i | 16, element i takes √(-2 ln u₀)·cos(2πu₁) if i & 16 == 0, else √(-2 ln u₀)·sin(2πu₁).
    words: whole tiles (n a multiple of 64). (The kernels' log and sincos are polynomials of
    about 1 ulp, math.h; torch's differ from them by rounding only.)"""
    u = uniform_open(words, dtype).view(-1, 2, 2, 16)  # [tile, pair, member, lane]
    radius = torch.sqrt(-2 * torch.log(u[:, :, 0]))
    angle = 2 * math.pi * u[:, :, 1]
    return torch.stack([radius * torch.cos(angle), radius * torch.sin(angle)], dim=2).reshape(-1)


def uniforms(seed: int, offset: int, n: int, dtype, device=None) -> torch.Tensor:
    """[n] the uniforms of elements 0..n-1 for draw `offset` (draws.h's kUniform)."""
    return uniform_open(philox_words(seed, offset, n, device), dtype)


def normals(seed: int, offset: int, n: int, dtype, device=None) -> torch.Tensor:
    """[n] the N(0, 1) draws of elements 0..n-1 for draw `offset` (draws.h's kNormal)."""
    words = philox_words(seed, offset, (n + 63) // 64 * 64, device)
    return normal_from_words(words, dtype)[:n]
