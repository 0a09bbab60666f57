"""The RBM family's ops: fused block-Gibbs sweeps, CD / PCD gradients and AIS (Bernoulli and
Gaussian-Bernoulli), and Bernoulli(σ(x)) draws; their fake (meta) kernels.

Long runs (many sweeps of a big model, AIS over thousands of β) are split into calls of about
``chunking.CHUNK_SECONDS`` each, starting each call at its first sweep / step (``sweep0`` /
``step0``), so the result is bit for bit that of one call and Ctrl-C is honoured between calls.
"""

from __future__ import annotations

from typing import NamedTuple

import torch

from ..checks import check_integer
from . import chunking
from .fake_checks import check_at_least, check_float_tensor, check_same_kind, check_size
from .half import half_precision
from .seeds import draw_seed, op_seed

#: Multiply-adds (B·V·H per sweep) below which a call runs whole: ~10 ms of GEMM here.
SINGLE_CALL_WORK = 1 << 27


class GibbsState(NamedTuple):
    """The state of a two-layer chain: ``v`` [B, V] visible and ``h`` [B, H] hidden units."""

    v: torch.Tensor
    h: torch.Tensor


class CDGrad(NamedTuple):
    """A CD-k / PCD-k gradient to descend: ``dW`` [V, H], ``db`` [V], ``dc`` [H], and the
    ``chains`` [N, V] after the k sweeps."""

    dW: torch.Tensor
    db: torch.Tensor
    dc: torch.Tensor
    chains: torch.Tensor


class GaussianCDGrad(NamedTuple):
    """A Gaussian-Bernoulli RBM's CD-k / PCD-k gradient: :class:`CDGrad`'s fields plus
    ``dlog_sigma`` [V] (before ``chains``)."""

    dW: torch.Tensor
    db: torch.Tensor
    dc: torch.Tensor
    dlog_sigma: torch.Tensor
    chains: torch.Tensor


class AISRun(NamedTuple):
    """One AIS run: ``log_weights`` [N] float64 and the chains' final states ``v`` [N, V]."""

    log_weights: torch.Tensor
    v: torch.Tensor


def _chunked(n_steps: int, v: torch.Tensor, W: torch.Tensor) -> int | None:
    """The first chunk's sweep count when an n_steps-sweep call is long enough to split, else
    None (invalid shapes go to one call, which raises the op's own error)."""
    if n_steps <= 1 or v.dim() != 2 or W.dim() != 2 or v.shape[0] == 0:
        return None
    work = v.shape[0] * W.numel()
    return max(1, SINGLE_CALL_WORK // work) if n_steps * work > SINGLE_CALL_WORK else None


@half_precision
def bernoulli_sigmoid(logits: torch.Tensor, *,
                      generator: torch.Generator | None = None) -> torch.Tensor:
    """Bernoulli draws with success probability σ(logits), fused: 1{uᵢ < σ(xᵢ)}.

    Args:
        logits: any shape, float32 or float64, CPU or CUDA.
        generator: source of the op's seed (element i's uniform is keyed by (seed, i)).

    Returns:
        0/1 samples, the shape and dtype of ``logits`` (contiguous).
    """
    return torch.ops.fastebm.bernoulli_sigmoid.default(logits, *op_seed(generator))


@half_precision
def rbm_gibbs(v: torch.Tensor, W: torch.Tensor, b: torch.Tensor, c: torch.Tensor,
              n_steps: int = 1, *, generator: torch.Generator | None = None) -> GibbsState:
    """n_steps fused block-Gibbs sweeps of a Bernoulli-Bernoulli RBM (Hinton 2002).

    Energy E(v, h) = -v·b - h·c - vᵀWh. Each sweep draws h ~ Bern(σ(vW + c)), then
    v ~ Bern(σ(hWᵀ + b)).

    Args:
        v: [B, V] start states (float32 or float64, usually in {0, 1}).
        W: [V, H] weights; b: [V] visible bias; c: [H] hidden bias (same dtype and device).
        n_steps: number of sweeps, >= 1.
        generator: source of the op's seed.

    Returns:
        GibbsState(v [B, V], h [B, H]): the last visible sample and the hidden sample that
        produced it.
    """
    return _sweeps(torch.ops.fastebm.rbm_gibbs.default, v, (W, b, c), n_steps, generator)


@half_precision
def grbm_gibbs(v: torch.Tensor, W: torch.Tensor, b: torch.Tensor, c: torch.Tensor,
               sigma: torch.Tensor, n_steps: int = 1, *,
               generator: torch.Generator | None = None) -> GibbsState:
    """n_steps fused block-Gibbs sweeps of a Gaussian-Bernoulli RBM (Hinton & Salakhutdinov 2006).

    Energy E = Σᵢ (vᵢ - bᵢ)²/2σᵢ² - h·c - Σᵢⱼ vᵢ Wᵢⱼ hⱼ / σᵢ. Each sweep draws
    h ~ Bern(σ(c + (v/σ)W)), then v ~ N(b + σ·(Wh), σ²).

    Args:
        v: [B, V] real start states; W: [V, H]; b: [V]; c: [H]; sigma: [V], all > 0.
        n_steps: number of sweeps, >= 1.
        generator: source of the op's seed.

    Returns:
        GibbsState(v [B, V], h [B, H]).
    """
    return _sweeps(torch.ops.fastebm.grbm_gibbs.default, v, (W, b, c, sigma), n_steps, generator)


def _sweeps(op, v, params, n_steps, generator) -> GibbsState:
    n_steps = check_integer(n_steps, "n_steps")
    first = _chunked(n_steps, v, params[0])
    if first is None:  # one call: a CUDA generator goes to the op (ops.seeds.op_seed)
        seed, cuda_generator = op_seed(generator)
        return GibbsState(*op(v, *params, n_steps, seed, generator=cuda_generator))
    seed = draw_seed(generator)  # one key for every chunk
    out = [v, None]

    def run(start: int, n: int) -> None:
        out[:] = op(out[0], *params, n, seed, start)

    chunking.run_chunked(n_steps, first, run)
    return GibbsState(out[0], out[1])


@half_precision
def rbm_cd_grad(v_data: torch.Tensor, v_chain: torch.Tensor, W: torch.Tensor, b: torch.Tensor,
                c: torch.Tensor, k: int = 1, *, generator: torch.Generator | None = None
                ) -> CDGrad:
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
        CDGrad(dW [V, H], db [V], dc [H], chains [N, V]): gradients to descend, and the new
        chain states.
    """
    return CDGrad(*_cd_grad(torch.ops.fastebm.rbm_cd_grad.default,
                            torch.ops.fastebm.rbm_gibbs.default, v_data, v_chain, (W, b, c), k,
                            generator))


@half_precision
def grbm_cd_grad(v_data: torch.Tensor, v_chain: torch.Tensor, W: torch.Tensor, b: torch.Tensor,
                 c: torch.Tensor, sigma: torch.Tensor, k: int = 1, *,
                 generator: torch.Generator | None = None) -> GaussianCDGrad:
    """Fused CD-k / PCD-k gradient of a Gaussian-Bernoulli RBM's negative average
    log-likelihood, σ learnt as log σ (Cho, Ilin & Raiko 2011). With F(v) = Σᵢ (vᵢ-bᵢ)²/2σᵢ²
    - Σⱼ softplus(cⱼ + ((v/σ)W)ⱼ), u = v/σ, P = σ(uW + c), and means over data (B rows) and the
    chains after k sweeps (N rows), the gradient mean_data ∂F - mean_chains ∂F is

        dW = mean_k uᵀP - mean_data uᵀP,  db = (mean_k u - mean_data u)/σ,
        dc = mean_k P - mean_data P,
        dlog σ = (mean_k (v-b)² - mean_data (v-b)²)/σ² - Σⱼ dWᵢⱼ Wᵢⱼ.

    Args:
        v_data: [B, V] data batch, B >= 1. v_chain: [N, V] chain states, N >= 1.
        W: [V, H]; b: [V]; c: [H]; sigma: [V] > 0. k: sweeps >= 1.

    Returns:
        GaussianCDGrad(dW [V, H], db [V], dc [H], dlog_sigma [V], chains [N, V]).
    """
    return GaussianCDGrad(*_cd_grad(torch.ops.fastebm.grbm_cd_grad.default,
                                    torch.ops.fastebm.grbm_gibbs.default, v_data, v_chain,
                                    (W, b, c, sigma), k, generator))


def _cd_grad(op, gibbs_op, v_data, v_chain, params, k, generator):
    """A fused gradient op; a long run makes its first k - 1 sweeps by ``gibbs_op`` in chunks,
    then the last sweep with the statistics (sweep0 = k - 1): the bits of one call."""
    k = check_integer(k, "k")
    first = _chunked(k, v_chain, params[0])
    if first is None:
        seed, cuda_generator = op_seed(generator)
        return op(v_data, v_chain, *params, k, seed, generator=cuda_generator)
    seed = draw_seed(generator)
    chain = [v_chain]

    def run(start: int, n: int) -> None:
        chain[0] = gibbs_op(chain[0], *params, n, seed, start)[0]

    chunking.run_chunked(k - 1, first, run)
    return op(v_data, chain[0], *params, 1, seed, k - 1)


def rbm_pcd_sgd_(W: torch.Tensor, b: torch.Tensor, c: torch.Tensor, chains: torch.Tensor,
                 momentum_buffers: list[torch.Tensor], data: torch.Tensor, *, batch_size: int,
                 seeds: list[int], k: int, lr: float, momentum: float, weight_decay: float,
                 first_step: bool) -> None:
    """Several PCD-k training steps of a Bernoulli RBM with SGD in one C++ call (in place).

    For each batch of ``batch_size`` rows of ``data`` [M, V] (the last may be shorter), step s
    takes the :func:`rbm_cd_grad` gradient from ``chains`` [N, V] with seed ``seeds[s]``, then
    the SGD update of :class:`fastebm.training.SGD` on (W, b, c) with ``momentum_buffers`` (the
    first step of the call initialises them when ``first_step``), and chains <- v_k: the very
    bits of the per-step calls, without Python between steps.

    Args:
        W [V, H], b [V], c [H], chains [N, V]: contiguous, updated in place.
        momentum_buffers: [W, b, c]-shaped buffers, updated in place.
        seeds: one per step, ceil(M / batch_size) of them.
    """
    torch.ops.fastebm.rbm_pcd_sgd_.default(W, b, c, chains, momentum_buffers, data, batch_size,
                                           seeds, k, lr, momentum, weight_decay, first_step)


@half_precision
def rbm_ais(v0: torch.Tensor, W: torch.Tensor, b: torch.Tensor, c: torch.Tensor,
            base_b: torch.Tensor, betas: list[float], *,
            generator: torch.Generator | None = None,
            desc: str | None = None) -> AISRun:
    """Annealed importance sampling weights of a Bernoulli RBM, fused (Neal 2001).

    Path of Salakhutdinov & Murray (2008): p*_β(v) = exp(b_β·v) Πⱼ (1 + exp(β(cⱼ + (vW)ⱼ))),
    b_β = (1-β)·base_b + β·b. For s = 1 .. K-1: log_w += log p*_{β_s}(v) - log p*_{β_{s-1}}(v),
    then one Gibbs sweep at β_s. Forward AIS: betas 0 -> 1 and v0 drawn from the base-rate model;
    reverse AIS: betas 1 -> 0 and v0 from the model. Long schedules run in chunks (Ctrl-C works
    between them; ``desc`` names a tqdm bar shown once a run passes 2 seconds).

    Args:
        v0: [N, V] start states. W [V, H], b [V], c [H]: the model; base_b: [V] base-rate biases.
        betas: K >= 2 inverse temperatures in [0, 1].

    Returns:
        AISRun(log_weights [N] float64, v [N, V] final states).
    """
    return _ais(torch.ops.fastebm.rbm_ais.default, v0, (W, b, c, base_b), betas, generator, desc)


@half_precision
def grbm_ais(v0: torch.Tensor, W: torch.Tensor, b: torch.Tensor, c: torch.Tensor,
             sigma: torch.Tensor, betas: list[float], *,
             generator: torch.Generator | None = None,
             desc: str | None = None) -> AISRun:
    """AIS weights of a Gaussian-Bernoulli RBM, fused: base model W = 0, c = 0 (p_A = N(b, σ²)),
    p*_β(v) = exp(-Σᵢ(vᵢ-bᵢ)²/2σᵢ²) Πⱼ (1 + exp(β(cⱼ + ((v/σ)W)ⱼ))); for s = 1 .. K-1,
    log_w += Σⱼ softplus(β_s preⱼ) - softplus(β_{s-1} preⱼ), then one sweep of the GRBM with
    β_s W, b, β_s c, σ. Chunked like :func:`rbm_ais`.

    Args:
        v0: [N, V] start states. W [V, H], b [V], c [H], sigma [V] > 0: the model.
        betas: K >= 2 inverse temperatures in [0, 1].

    Returns:
        AISRun(log_weights [N] float64, v [N, V] final states).
    """
    return _ais(torch.ops.fastebm.grbm_ais.default, v0, (W, b, c, sigma), betas, generator, desc)


def _ais(op, v0, params, betas, generator, desc):
    betas = [float(beta) for beta in betas]
    first = _chunked(len(betas) - 1, v0, params[0])
    if first is None:
        seed, cuda_generator = op_seed(generator)
        return AISRun(*op(v0, *params, betas, seed, generator=cuda_generator))
    seed = draw_seed(generator)
    out = [None, v0]

    def run(start: int, n: int) -> None:
        log_w, v = op(out[1], *params, betas[start:start + n + 1], seed, start)
        out[:] = [log_w if out[0] is None else out[0] + log_w, v]

    chunking.run_chunked(len(betas) - 1, first, run, desc=desc)
    return AISRun(out[0], out[1])


# ---------------------------------------------------------------- fake kernels

def _check_rbm_args(v, W, b, c, first, first_name="sweep0", v_name="v"):
    """Mirror of check_rbm_args in csrc/rbm_sweeps.cpp (declared in rbm_layers.h) (values aside)."""
    check_float_tensor(W, "W", 2)
    check_float_tensor(v, v_name, 2)
    check_float_tensor(b, "b", 1)
    check_float_tensor(c, "c", 1)
    check_same_kind(v, v_name, W, "W")
    check_same_kind(b, "b", W, "W")
    check_same_kind(c, "c", W, "W")
    check_size(v, v_name, 1, W.shape[0], "n_visible = W.size(0)")
    check_size(b, "b", 0, W.shape[0], "n_visible = W.size(0)")
    check_size(c, "c", 0, W.shape[1], "n_hidden = W.size(1)")
    check_at_least(first, first_name, 0)


@torch.library.register_fake("fastebm::bernoulli_sigmoid")
def _bernoulli_sigmoid_fake(logits, seed, generator=None):
    check_float_tensor(logits, "logits", logits.dim())
    return torch.empty_like(logits, memory_format=torch.contiguous_format)


@torch.library.register_fake("fastebm::rbm_gibbs")
def _rbm_gibbs_fake(v, W, b, c, n_steps, seed, sweep0=0, generator=None):
    _check_rbm_args(v, W, b, c, sweep0)
    check_at_least(n_steps, "n_steps", 1)
    return W.new_empty(v.shape[0], W.shape[0]), W.new_empty(v.shape[0], W.shape[1])


def _check_sigma(sigma, W):
    check_float_tensor(sigma, "sigma", 1)
    check_same_kind(sigma, "sigma", W, "W")
    check_size(sigma, "sigma", 0, W.shape[0], "n_visible = W.size(0)")


@torch.library.register_fake("fastebm::grbm_gibbs")
def _grbm_gibbs_fake(v, W, b, c, sigma, n_steps, seed, sweep0=0, generator=None):
    _check_rbm_args(v, W, b, c, sweep0)
    check_at_least(n_steps, "n_steps", 1)
    _check_sigma(sigma, W)
    return W.new_empty(v.shape[0], W.shape[0]), W.new_empty(v.shape[0], W.shape[1])


def _cd_grad_outputs(v_data, v_chain, W, b, c, k, sweep0, sigma=None):
    """Mirror of check_rbm_args / check_grbm_args on the chains, then check_cd_data; the
    outputs (dW, db, dc[, dlog_sigma], v_k)."""
    _check_rbm_args(v_chain, W, b, c, sweep0, "sweep0", "v_chain")
    check_at_least(k, "k", 1)
    if sigma is not None:
        _check_sigma(sigma, W)
    check_float_tensor(v_data, "v_data", 2)
    check_same_kind(v_data, "v_data", W, "W")
    check_size(v_data, "v_data", 1, W.shape[0], "n_visible = W.size(0)")
    for t, name in ((v_data, "v_data"), (v_chain, "v_chain")):
        if t.shape[0] == 0:
            raise ValueError(f"fastebm: argument '{name}' is an empty batch")
    grads = (torch.empty_like(W, memory_format=torch.contiguous_format), b.new_empty(W.shape[0]),
             c.new_empty(W.shape[1]))
    if sigma is not None:
        grads += (sigma.new_empty(W.shape[0]),)
    return (*grads, W.new_empty(v_chain.shape[0], W.shape[0]))


@torch.library.register_fake("fastebm::rbm_cd_grad")
def _rbm_cd_grad_fake(v_data, v_chain, W, b, c, k, seed, sweep0=0, generator=None):
    return _cd_grad_outputs(v_data, v_chain, W, b, c, k, sweep0)


@torch.library.register_fake("fastebm::grbm_cd_grad")
def _grbm_cd_grad_fake(v_data, v_chain, W, b, c, sigma, k, seed, sweep0=0,
                       generator=None):
    return _cd_grad_outputs(v_data, v_chain, W, b, c, k, sweep0, sigma)


@torch.library.register_fake("fastebm::rbm_pcd_sgd_")
def _rbm_pcd_sgd_fake(W, b, c, chains, momentum_buffers, data, batch_size, seeds, k, lr,
                      momentum, weight_decay, first_step):
    check_float_tensor(data, "data", 2)
    check_at_least(batch_size, "batch_size", 1)
    steps = -(-data.shape[0] // batch_size)
    if len(seeds) != steps:
        raise ValueError(f"fastebm: argument 'seeds' has {len(seeds)} entries for {steps} steps "
                         f"of {batch_size} rows")


@torch.library.register_fake("fastebm::rbm_ais")
def _rbm_ais_fake(v0, W, b, c, base_b, betas, seed, step0=0, generator=None):
    _check_rbm_args(v0, W, b, c, step0, "step0", "v0")
    check_float_tensor(base_b, "base_b", 1)
    check_same_kind(base_b, "base_b", W, "W")
    check_size(base_b, "base_b", 0, W.shape[0], "n_visible = W.size(0)")
    return _ais_outputs(v0, W, betas)


@torch.library.register_fake("fastebm::grbm_ais")
def _grbm_ais_fake(v0, W, b, c, sigma, betas, seed, step0=0, generator=None):
    _check_rbm_args(v0, W, b, c, step0, "step0", "v0")
    _check_sigma(sigma, W)
    return _ais_outputs(v0, W, betas)


def _ais_outputs(v0, W, betas):
    """Mirror of check_betas; the outputs (log_w [N] float64, v [N, V])."""
    if len(betas) < 2:
        raise ValueError("fastebm: argument 'betas' needs at least 2 values")
    for beta in betas:
        if not 0.0 <= beta <= 1.0:
            raise ValueError(f"fastebm: argument 'betas' must lie in [0, 1], got {beta:g}")
    return v0.new_empty(v0.shape[0], dtype=torch.float64), W.new_empty(v0.shape[0], W.shape[0])
