"""rbm_gibbs / grbm_gibbs against exact distributions, and traced by torch.compile. (Oracle,
determinism, bad input, layouts and opcheck: tests/test_op_contract.py.)"""

import math

import torch

import fastebm
from fastebm import reference

from stats import all_states, chi_square_pvalue


def make_rbm(V, H, B, dtype=torch.float64, seed=0, scale=1.0):
    g = torch.Generator().manual_seed(seed)
    W = scale * torch.randn(V, H, generator=g, dtype=dtype)
    b = 0.5 * torch.randn(V, generator=g, dtype=dtype)
    c = 0.5 * torch.randn(H, generator=g, dtype=dtype)
    v = torch.bernoulli(torch.full((B, V), 0.5, dtype=dtype), generator=g)
    sigma = 0.5 + torch.rand(V, generator=g, dtype=dtype)
    return v, W, b, c, sigma


# ---------------------------------------------------------------- exact distributions

def rbm_visible_log_probs(W, b, c):
    """log p(v) over all 2^V visible states: b·v + Σⱼ softplus(cⱼ + (vW)ⱼ), normalised."""
    states = all_states(W.shape[0])
    logits = states @ b + torch.nn.functional.softplus(states @ W + c).sum(1)
    return logits - torch.logsumexp(logits, 0)


def test_rbm_chi_square_against_enumeration():
    v, W, b, c, _ = make_rbm(6, 4, 20000, seed=4, scale=0.8)
    g = torch.Generator().manual_seed(11)
    vk, _ = fastebm.rbm_gibbs(v, W, b, c, n_steps=30, generator=g)
    p = rbm_visible_log_probs(W, b, c).exp()
    assert chi_square_pvalue(vk, p) > 1e-3
    # The same test rejects a sampler whose conditional is off by a small bias shift.
    wrong, _ = reference.rbm_gibbs(v, W, b + 0.25, c, 30, 11)
    assert chi_square_pvalue(wrong, p) < 1e-6


def grbm_hidden_log_probs(W, b, c, sigma):
    """log p(h) of a Gaussian-Bernoulli RBM: c·h + Σᵢ [bᵢ(Wh)ᵢ/σᵢ + (Wh)ᵢ²/2] (v integrated out)."""
    states = all_states(W.shape[1])
    Wh = states @ W.T
    logits = states @ c + (b / sigma * Wh + Wh**2 / 2).sum(1)
    return logits - torch.logsumexp(logits, 0)


def test_grbm_against_enumeration():
    _, W, b, c, sigma = make_rbm(3, 4, 1, seed=5, scale=0.6)
    n = 20000
    v0 = torch.randn(n, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    vk, hk = fastebm.grbm_gibbs(v0, W, b, c, sigma, n_steps=30, generator=torch.Generator().manual_seed(8))
    log_ph = grbm_hidden_log_probs(W, b, c, sigma)
    assert chi_square_pvalue(hk, log_ph.exp()) > 1e-3
    # v | h ~ N(b + σ (W h), σ²): the mixture's mean and variance per coordinate.
    means = b + sigma * (all_states(4) @ W.T)  # [16, V]
    p = log_ph.exp()[:, None]
    mean = (p * means).sum(0)
    var = (p * (sigma**2 + means**2)).sum(0) - mean**2
    z_mean = (vk.mean(0) - mean) / (var / n).sqrt()
    assert z_mean.abs().max() < 5
    z_var = (vk.var(0) - var) / (var * math.sqrt(2 / n))
    assert z_var.abs().max() < 6
    # Wrong noise scale (σ²·1.2) is rejected by the same variance check.
    wrong = reference.grbm_gibbs(v0, W, b, c, sigma * 1.1, 30, 8)[0]
    assert ((wrong.var(0) - var) / (var * math.sqrt(2 / n))).abs().max() > 6


# ---------------------------------------------------------------- tracing

def test_torch_compile_fullgraph():
    v, W, b, c, _ = make_rbm(6, 5, 4)

    @torch.compile(fullgraph=True, backend="aot_eager")
    def two_calls(v):
        v1, _ = torch.ops.fastebm.rbm_gibbs(v, W, b, c, 1, 1)
        return torch.ops.fastebm.rbm_gibbs(v1, W, b, c, 1, 2)

    expected = torch.ops.fastebm.rbm_gibbs(torch.ops.fastebm.rbm_gibbs(v, W, b, c, 1, 1)[0], W, b, c, 1, 2)
    assert all(torch.equal(x, y) for x, y in zip(two_calls(v), expected))
