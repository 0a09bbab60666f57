"""Pure-PyTorch oracles for every fastebm op, drawing the very same Philox bits as the kernels.

Tests compare kernels against these; benchmarks use them as the "plain PyTorch" baseline for
correctness. Nothing here is fast: it is written to be obviously right.
"""

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
    words: whole tiles (n a multiple of 64)."""
    u = uniform_open(words, dtype).view(-1, 2, 2, 16)  # [tile, pair, member, lane]
    radius = torch.sqrt(-2 * torch.log(u[:, :, 0]))
    angle = 2 * math.pi * u[:, :, 1]
    return torch.stack([radius * torch.cos(angle), radius * torch.sin(angle)], dim=2).reshape(-1)


def _draws(seed: int, offset: int, shape: tuple[int, int], device) -> torch.Tensor:
    n = shape[0] * shape[1]
    return philox_words(seed, offset, n, device).reshape(shape)


def bernoulli_sigmoid(pre: torch.Tensor, seed: int, offset: int) -> torch.Tensor:
    """[R, C] samples 1{u < σ(pre)} with the kernel's Philox words for draw `offset`."""
    u = uniform_open(_draws(seed, offset, tuple(pre.shape), pre.device), pre.dtype)
    return (u < torch.sigmoid(pre)).to(pre.dtype)


def gaussian_noise(shape: tuple[int, int], seed: int, offset: int, dtype, device=None):
    """[R, C] N(0, 1) draws with the kernel's Philox words for draw `offset`."""
    n = shape[0] * shape[1]
    words = philox_words(seed, offset, (n + 63) // 64 * 64, device)
    return normal_from_words(words, dtype)[:n].reshape(shape)


def rbm_gibbs(v, W, b, c, k: int, seed: int):
    """Oracle of ``fastebm.ops.rbm_gibbs`` for an explicit seed: sweep s draws h with Philox
    offset 2s and v with offset 2s+1. Returns (v_k, h_k)."""
    h = None
    for sweep in range(k):
        h = bernoulli_sigmoid(v @ W + c, seed, 2 * sweep)
        v = bernoulli_sigmoid(h @ W.T + b, seed, 2 * sweep + 1)
    return v, h


def grbm_gibbs(v, W, b, c, sigma, k: int, seed: int):
    """Oracle of ``fastebm.ops.grbm_gibbs``: h ~ Bern(σ(c + (v/σ)W)) (offset 2s), then
    v = b + σ·(hWᵀ + z), z ~ N(0, 1) (offset 2s+1). Returns (v_k, h_k)."""
    h = None
    for sweep in range(k):
        h = bernoulli_sigmoid((v / sigma) @ W + c, seed, 2 * sweep)
        z = gaussian_noise((v.shape[0], W.shape[0]), seed, 2 * sweep + 1, v.dtype, v.device)
        v = b + sigma * (h @ W.T + z)
    return v, h


def rbm_cd_grad(v_data, v_chain, W, b, c, k: int, seed: int):
    """Oracle of ``fastebm.ops.rbm_cd_grad``: k sweeps from v_chain, then the Rao-Blackwellised
    gradient of mean F(v_data) - mean F(v_k), F(v) = -v·b - Σ softplus(vW + c)."""
    v_k, _ = rbm_gibbs(v_chain, W, b, c, k, seed)
    ph_data, ph_model = torch.sigmoid(v_data @ W + c), torch.sigmoid(v_k @ W + c)
    dW = v_k.T @ ph_model / len(v_k) - v_data.T @ ph_data / len(v_data)
    return dW, v_k.mean(0) - v_data.mean(0), ph_model.mean(0) - ph_data.mean(0), v_k


def rbm_ais(v0, W, b, c, base_b, betas, seed: int):
    """Oracle of ``fastebm.ops.rbm_ais`` (step s draws h at Philox offset 2s, v at 2s + 1)."""
    def log_p(v, beta):  # log p*_β(v) = b_β·v + Σ softplus(β(vW + c))
        return v @ (base_b + beta * (b - base_b)) + torch.nn.functional.softplus(
            beta * (v @ W + c)).sum(1)

    v, log_w = v0, torch.zeros(len(v0), dtype=torch.float64, device=v0.device)
    for step in range(1, len(betas)):
        beta = betas[step]
        log_w += (log_p(v, beta) - log_p(v, betas[step - 1])).double()
        if step < len(betas) - 1:
            h = bernoulli_sigmoid(beta * (v @ W + c), seed, 2 * step)
            v = bernoulli_sigmoid(beta * (h @ W.T) + (base_b + beta * (b - base_b)), seed,
                                  2 * step + 1)
    return log_w, v


def rbm_gibbs_torch(v, W, b, c, k: int, generator=None):
    """The plain PyTorch way (torch.bernoulli per half-sweep): the benchmark baseline."""
    h = None
    for _ in range(k):
        h = torch.bernoulli(torch.sigmoid(v @ W + c), generator=generator)
        v = torch.bernoulli(torch.sigmoid(h @ W.T + b), generator=generator)
    return v, h
