"""Typed wrappers over ``torch.ops.fastebm.*``.

Every stochastic op draws one 64-bit seed from ``generator`` (torch's default CPU generator when
None) and keys the kernel's Philox4x32-10 by (seed, element index, draw offset), so results do
not depend on thread count or device. Fake (meta) implementations make the ops traceable by
``torch.compile``.
"""

from __future__ import annotations

import torch

from . import _C  # noqa: F401  (registers the ops)


def draw_seed(generator: torch.Generator | None = None) -> int:
    """One 64-bit seed (as a non-negative int64) from ``generator``."""
    device = generator.device if generator is not None else "cpu"
    return int(torch.empty((), dtype=torch.int64, device=device).random_(generator=generator))


def rbm_gibbs(v: torch.Tensor, W: torch.Tensor, b: torch.Tensor, c: torch.Tensor, k: int = 1, *,
              generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """k fused block-Gibbs sweeps of a Bernoulli-Bernoulli RBM (Hinton 2002).

    Energy E(v, h) = -v·b - h·c - vᵀWh. Each sweep draws h ~ Bern(σ(vW + c)), then
    v ~ Bern(σ(hWᵀ + b)).

    Args:
        v: [B, V] start states (float32 or float64, usually in {0, 1}).
        W: [V, H] weights; b: [V] visible bias; c: [H] hidden bias (same dtype and device).
        k: number of sweeps, >= 1.
        generator: source of the op's seed.

    Returns:
        (v_k [B, V], h_k [B, H]): the last visible sample and the hidden sample that produced it.
    """
    return torch.ops.fastebm.rbm_gibbs.default(v, W, b, c, k, draw_seed(generator))


def grbm_gibbs(v: torch.Tensor, W: torch.Tensor, b: torch.Tensor, c: torch.Tensor,
               sigma: torch.Tensor, k: int = 1, *,
               generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """k fused block-Gibbs sweeps of a Gaussian-Bernoulli RBM (Hinton & Salakhutdinov 2006).

    Energy E = Σᵢ (vᵢ - bᵢ)²/2σᵢ² - h·c - Σᵢⱼ vᵢ Wᵢⱼ hⱼ / σᵢ. Each sweep draws
    h ~ Bern(σ(c + (v/σ)W)), then v ~ N(b + σ·(Wh), σ²).

    Args:
        v: [B, V] real start states; W: [V, H]; b: [V]; c: [H]; sigma: [V], all > 0.
        k: number of sweeps, >= 1.
        generator: source of the op's seed.

    Returns:
        (v_k [B, V], h_k [B, H]).
    """
    return torch.ops.fastebm.grbm_gibbs.default(v, W, b, c, sigma, k, draw_seed(generator))


@torch.library.register_fake("fastebm::rbm_gibbs")
@torch.library.register_fake("fastebm::grbm_gibbs")
def _rbm_fake(v, W, b, c, *rest):
    return W.new_empty(v.shape[0], W.shape[0]), W.new_empty(v.shape[0], W.shape[1])


def philox4x32(counter: torch.Tensor, seed: int) -> torch.Tensor:
    """Raw Philox4x32-10 blocks (Salmon et al. 2011), the generator behind every fastebm draw.

    Args:
        counter: [N, 4] int64 words in [0, 2^32).
        seed: the 64-bit key (low word first); any int, taken modulo 2^64.

    Returns:
        [N, 4] int64 words in [0, 2^32).
    """
    seed %= 1 << 64
    return torch.ops.fastebm.philox4x32.default(counter, seed - (1 << 64) if seed >> 63 else seed)


@torch.library.register_fake("fastebm::philox4x32")
def _philox_fake(counter, seed):
    return torch.empty_like(counter, memory_format=torch.contiguous_format)
