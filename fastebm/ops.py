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


def rbm_cd_grad(v_data: torch.Tensor, v_chain: torch.Tensor, W: torch.Tensor, b: torch.Tensor,
                c: torch.Tensor, k: int = 1, *, generator: torch.Generator | None = None
                ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Fused CD-k / PCD-k gradient of a Bernoulli RBM's negative average log-likelihood.

    Contrastive divergence (Hinton 2002) when ``v_chain`` is the data batch; stochastic maximum
    likelihood / persistent CD (Younes 1989; Tieleman 2008) when it is the persistent chains.
    k sweeps from v_chain give v_k; with p(v) = σ(vW + c):

        dW = v_kᵀ p(v_k) / N - v_dataᵀ p(v_data) / B,  db = mean(v_k) - mean(v_data),
        dc = mean p(v_k) - mean p(v_data).

    Args:
        v_data: [B, V] data batch, B >= 1. v_chain: [N, V] chain states, N >= 1.
        W: [V, H]; b: [V]; c: [H]. k: sweeps >= 1.

    Returns:
        (dW [V, H], db [V], dc [H], v_k [N, V]): gradients to descend, and the new chain states.
    """
    return torch.ops.fastebm.rbm_cd_grad.default(v_data, v_chain, W, b, c, k, draw_seed(generator))


@torch.library.register_fake("fastebm::rbm_cd_grad")
def _rbm_cd_grad_fake(v_data, v_chain, W, b, c, k, seed):
    return torch.empty_like(W), b.new_empty(W.shape[0]), c.new_empty(W.shape[1]), W.new_empty(
        v_chain.shape[0], W.shape[0])


def rbm_ais(v0: torch.Tensor, W: torch.Tensor, b: torch.Tensor, c: torch.Tensor,
            base_b: torch.Tensor, betas: list[float], *,
            generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Annealed importance sampling weights of a Bernoulli RBM, all steps in one C++ call.

    Path of Salakhutdinov & Murray (2008): p*_β(v) = exp(b_β·v) Πⱼ (1 + exp(β(cⱼ + (vW)ⱼ))),
    b_β = (1-β)·base_b + β·b. For s = 1 .. K-1: log_w += log p*_{β_s}(v) - log p*_{β_{s-1}}(v),
    then one Gibbs sweep at β_s (none after the last step). Forward AIS: betas 0 -> 1 and v0
    drawn from the base-rate model; reverse AIS: betas 1 -> 0 and v0 from the model.

    Args:
        v0: [N, V] start states. W [V, H], b [V], c [H]: the model; base_b: [V] base-rate biases.
        betas: K >= 2 inverse temperatures in [0, 1].

    Returns:
        (log_w [N] float64, v [N, V] final states).
    """
    return torch.ops.fastebm.rbm_ais.default(v0, W, b, c, base_b, list(map(float, betas)),
                                             draw_seed(generator))


@torch.library.register_fake("fastebm::rbm_ais")
def _rbm_ais_fake(v0, W, b, c, base_b, betas, seed):
    return v0.new_empty(v0.shape[0], dtype=torch.float64), W.new_empty(v0.shape[0], W.shape[0])


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
