"""Oracles of the RBM family's ops, in plain PyTorch with the kernels' very Philox bits."""

from __future__ import annotations

import torch

from .philox import normals, uniforms


def bernoulli_sigmoid(logits: torch.Tensor, seed: int, offset: int = 0) -> torch.Tensor:
    """Samples 1{uᵢ < σ(logitsᵢ)} (any shape), uᵢ the kernel's uniform of flat element i for
    draw `offset`: the oracle of ``ops.bernoulli_sigmoid`` (offset 0) and of every Bernoulli
    half-sweep."""
    u = uniforms(seed, offset, logits.numel(), logits.dtype, logits.device).reshape(logits.shape)
    return (u < torch.sigmoid(logits)).to(logits.dtype)


def rbm_gibbs(v, W, b, c, n_steps: int, seed: int, sweep0: int = 0):
    """Oracle of ``fastebm.ops.rbm_gibbs`` for an explicit seed: sweep s draws h with Philox
    offset 2s and v with offset 2s+1 (s = sweep0 .. sweep0 + n_steps - 1). Returns (v_k, h_k)."""
    h = None
    for sweep in range(sweep0, sweep0 + n_steps):
        h = bernoulli_sigmoid(v @ W + c, seed, 2 * sweep)
        v = bernoulli_sigmoid(h @ W.T + b, seed, 2 * sweep + 1)
    return v, h


def grbm_gibbs(v, W, b, c, sigma, n_steps: int, seed: int, sweep0: int = 0):
    """Oracle of ``fastebm.ops.grbm_gibbs``: h ~ Bern(σ(c + (v/σ)W)) (offset 2s), then
    v = b + σ·(hWᵀ + z), z ~ N(0, 1) (offset 2s+1). Returns (v_k, h_k)."""
    h = None
    for sweep in range(sweep0, sweep0 + n_steps):
        h = bernoulli_sigmoid((v / sigma) @ W + c, seed, 2 * sweep)
        z = normals(seed, 2 * sweep + 1, v.shape[0] * W.shape[0], v.dtype, v.device)
        v = b + sigma * (h @ W.T + z.reshape(v.shape[0], W.shape[0]))
    return v, h


def rbm_cd_grad(v_data, v_chain, W, b, c, k: int, seed: int, sweep0: int = 0):
    """Oracle of ``fastebm.ops.rbm_cd_grad``: k sweeps from v_chain, then the Rao-Blackwellised
    gradient of mean F(v_data) - mean F(v_k), F(v) = -v·b - Σ softplus(vW + c)."""
    v_k, _ = rbm_gibbs(v_chain, W, b, c, k, seed, sweep0)
    ph_data, ph_model = torch.sigmoid(v_data @ W + c), torch.sigmoid(v_k @ W + c)
    dW = v_k.T @ ph_model / len(v_k) - v_data.T @ ph_data / len(v_data)
    return dW, v_k.mean(0) - v_data.mean(0), ph_model.mean(0) - ph_data.mean(0), v_k


def grbm_cd_grad(v_data, v_chain, W, b, c, sigma, k: int, seed: int, sweep0: int = 0):
    """Oracle of ``fastebm.ops.grbm_cd_grad``: k sweeps from v_chain, then the Rao-Blackwellised
    gradient of mean F(v_data) - mean F(v_k) in (W, b, c, log σ), each term written out:
    ∂F/∂W = -uᵀP, ∂F/∂b = -(v-b)/σ², ∂F/∂c = -P, ∂F/∂log σ = -(v-b)²/σ² + u ⊙ (P Wᵀ)."""
    v_k, _ = grbm_gibbs(v_chain, W, b, c, sigma, k, seed, sweep0)

    def dF(v):  # the batch means of ∂F/∂θ
        u = v / sigma
        P = torch.sigmoid(u @ W + c)
        return (-(u.T @ P) / len(v), -((v - b) / sigma**2).mean(0), -P.mean(0),
                (-((v - b) / sigma) ** 2 + u * (P @ W.T)).mean(0))

    return (*(d - m for d, m in zip(dF(v_data), dF(v_k))), v_k)


def rbm_ais(v0, W, b, c, base_b, betas, seed: int, step0: int = 0):
    """Oracle of ``fastebm.ops.rbm_ais``: each step s = 1 .. K-1 adds its weight, then sweeps at
    β_s (step step0 + s draws h at Philox offset 2(step0 + s), v at 2(step0 + s) + 1)."""
    def log_p(v, beta):  # log p*_β(v) = b_β·v + Σ softplus(β(vW + c))
        return v @ (base_b + beta * (b - base_b)) + torch.nn.functional.softplus(
            beta * (v @ W + c)).sum(1)

    v, log_w = v0, torch.zeros(len(v0), dtype=torch.float64, device=v0.device)
    for step in range(1, len(betas)):
        beta = betas[step]
        log_w += (log_p(v, beta) - log_p(v, betas[step - 1])).double()
        h = bernoulli_sigmoid(beta * (v @ W + c), seed, 2 * (step0 + step))
        v = bernoulli_sigmoid(beta * (h @ W.T) + (base_b + beta * (b - base_b)), seed,
                              2 * (step0 + step) + 1)
    return log_w, v


def grbm_ais(v0, W, b, c, sigma, betas, seed: int, step0: int = 0):
    """Oracle of ``fastebm.ops.grbm_ais``: step s adds Σ softplus(β_s pre) - softplus(β_{s-1} pre),
    pre = c + (v/σ)W, then sweeps the GRBM with β_s W, b, β_s c, σ: h ~ Bern(σ(β_s pre)) at
    offset 2(step0 + s), v = b + σ·(β_s (hWᵀ) + z) with z at offset 2(step0 + s) + 1."""
    v, log_w = v0, torch.zeros(len(v0), dtype=torch.float64, device=v0.device)
    softplus = torch.nn.functional.softplus
    for step in range(1, len(betas)):
        beta, pre, s = betas[step], (v / sigma) @ W + c, step0 + step
        log_w += (softplus(beta * pre).sum(1) - softplus(betas[step - 1] * pre).sum(1)).double()
        h = bernoulli_sigmoid(beta * pre, seed, 2 * s)
        z = normals(seed, 2 * s + 1, v.numel(), v.dtype, v.device).reshape(v.shape)
        v = b + sigma * (beta * (h @ W.T) + z)
    return log_w, v


def rbm_gibbs_torch(v, W, b, c, k: int, generator=None):
    """The plain PyTorch way (torch.bernoulli per half-sweep): the benchmark baseline."""
    h = None
    for _ in range(k):
        h = torch.bernoulli(torch.sigmoid(v @ W + c), generator=generator)
        v = torch.bernoulli(torch.sigmoid(h @ W.T + b), generator=generator)
    return v, h
