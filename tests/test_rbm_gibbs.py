"""rbm_gibbs / grbm_gibbs: oracle, exact distributions, determinism, bad input, opcheck."""

import math

import pytest
import torch

import fastebm
from fastebm import reference

from conftest import DEVICES, DTYPES, HAS_CUDA, TOL
from stats import all_states, chi_square_pvalue


def make_rbm(V, H, B, dtype=torch.float64, device="cpu", seed=0, scale=1.0):
    g = torch.Generator().manual_seed(seed)
    W = scale * torch.randn(V, H, generator=g, dtype=dtype)
    b = 0.5 * torch.randn(V, generator=g, dtype=dtype)
    c = 0.5 * torch.randn(H, generator=g, dtype=dtype)
    v = torch.bernoulli(torch.full((B, V), 0.5, dtype=dtype), generator=g)
    sigma = 0.5 + torch.rand(V, generator=g, dtype=dtype)
    return [t.to(device) for t in (v, W, b, c, sigma)]


# ---------------------------------------------------------------- against the oracle

@pytest.mark.parametrize("device", DEVICES)
def test_rbm_matches_reference_float64(device):
    v, W, b, c, _ = make_rbm(37, 29, 53, device=device)
    vk, hk = torch.ops.fastebm.rbm_gibbs(v, W, b, c, 3, 12345)
    rv, rh = reference.rbm_gibbs(v, W, b, c, 3, 12345)
    assert torch.equal(vk, rv) and torch.equal(hk, rh)


@pytest.mark.parametrize("device", DEVICES)
def test_rbm_matches_reference_float32(device):
    """One sweep, each half-sweep compared from the kernel's own input: a sample may differ from
    the oracle's only where the uniform lies within float32 rounding of σ(·)."""
    v, W, b, c, _ = make_rbm(64, 100, 200, dtype=torch.float32, device=device, seed=1)
    seed = 2024
    vk, hk = torch.ops.fastebm.rbm_gibbs(v, W, b, c, 1, seed)
    for pre, sample, offset in ((v @ W + c, hk, 0), (hk @ W.T + b, vk, 1)):
        n = pre.numel()
        u = reference.uniform_open(reference.philox_words(seed, offset, n, device), pre.dtype)
        margin = (u.reshape(pre.shape) - torch.sigmoid(pre)).abs()
        differ = sample != reference.bernoulli_sigmoid(pre, seed, offset)
        assert (margin[differ] < 1e-5).all()
        assert differ.float().mean() < 1e-3


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_grbm_matches_reference(device, dtype):
    v, W, b, c, sigma = make_rbm(23, 17, 41, dtype=dtype, device=device, seed=2, scale=0.3)
    v = v + 0.1 * torch.randn_like(v)
    k = 3 if dtype == torch.float64 else 1
    vk, hk = torch.ops.fastebm.grbm_gibbs(v, W, b, c, sigma, k, 99)
    rv, rh = reference.grbm_gibbs(v, W, b, c, sigma, k, 99)
    assert torch.equal(hk, rh)
    torch.testing.assert_close(vk, rv, **TOL[dtype])


@pytest.mark.parametrize("op", ["rbm", "grbm"])
@pytest.mark.parametrize("device", DEVICES)
def test_non_contiguous_inputs(op, device):
    v, W, b, c, sigma = make_rbm(12, 9, 20, device=device, seed=3)
    Wt = W.T.contiguous().T  # same values, transposed strides
    v2 = torch.stack([v, v], 2)[:, :, 0]
    b2, c2, s2 = (torch.stack([t, t], 1)[:, 0] for t in (b, c, sigma))
    assert not (Wt.is_contiguous() or v2.is_contiguous() or b2.is_contiguous())
    args = (v, W, b, c) if op == "rbm" else (v, W, b, c, sigma)
    args_nc = (v2, Wt, b2, c2) if op == "rbm" else (v2, Wt, b2, c2, s2)
    fn = getattr(torch.ops.fastebm, f"{op}_gibbs")
    for x, y in zip(fn(*args, 2, 5), fn(*args_nc, 2, 5)):
        assert torch.equal(x, y)


# ---------------------------------------------------------------- exact distributions

def rbm_visible_log_probs(W, b, c):
    """log p(v) over all 2^V visible states: b·v + Σⱼ softplus(cⱼ + (vW)ⱼ), normalised."""
    states = all_states(W.shape[0])
    logits = states @ b + torch.nn.functional.softplus(states @ W + c).sum(1)
    return logits - torch.logsumexp(logits, 0)


def test_rbm_chi_square_against_enumeration():
    v, W, b, c, _ = make_rbm(6, 4, 20000, seed=4, scale=0.8)
    g = torch.Generator().manual_seed(11)
    vk, _ = fastebm.rbm_gibbs(v, W, b, c, k=30, generator=g)
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
    vk, hk = fastebm.grbm_gibbs(v0, W, b, c, sigma, k=30, generator=torch.Generator().manual_seed(8))
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


# ---------------------------------------------------------------- determinism

@pytest.mark.parametrize("op", ["rbm", "grbm"])
def test_same_seed_same_result_any_thread_count(op):
    v, W, b, c, sigma = make_rbm(96, 700, 64, dtype=torch.float32, seed=6, scale=0.1)
    fn = fastebm.rbm_gibbs if op == "rbm" else (lambda *a, **k: fastebm.grbm_gibbs(*a[:4], sigma, **k))
    threads = torch.get_num_threads()
    outs = []
    try:
        for n in (1, 2, 1):
            torch.set_num_threads(n)
            outs.append(fn(v, W, b, c, k=3, generator=torch.Generator().manual_seed(42)))
    finally:
        torch.set_num_threads(threads)
    for out in outs[1:]:
        assert all(torch.equal(x, y) for x, y in zip(outs[0], out))
    other = fn(v, W, b, c, k=3, generator=torch.Generator().manual_seed(43))
    assert not torch.equal(other[1], outs[0][1])


@pytest.mark.skipif(not HAS_CUDA, reason="no GPU")
def test_cpu_and_cuda_agree():
    v, W, b, c, _ = make_rbm(50, 40, 300, seed=7)
    cpu = torch.ops.fastebm.rbm_gibbs(v, W, b, c, 1, 3)
    gpu = torch.ops.fastebm.rbm_gibbs(v.cuda(), W.cuda(), b.cuda(), c.cuda(), 1, 3)
    # Same Philox bits: float64 draws differ only where u is within rounding of σ(·).
    assert (cpu[1] != gpu[1].cpu()).float().mean() < 1e-6


# ---------------------------------------------------------------- bad input

def bad_cases():
    v, W, b, c, sigma = make_rbm(5, 4, 3)
    nan = lambda t: t.clone().index_fill_(0, torch.tensor([0]), float("nan"))  # noqa: E731
    inf = lambda t: t.clone().index_fill_(0, torch.tensor([0]), float("inf"))  # noqa: E731
    base = dict(v=v, W=W, b=b, c=c, sigma=sigma, k=1)
    return [
        (dict(W=W[0]), "W"), (dict(v=v[0]), "v"), (dict(v=v[:, :3]), "v"),
        (dict(b=b[:3]), "b"), (dict(c=c[:2]), "c"), (dict(b=b[None]), "b"),
        (dict(W=W.float()), "v"), (dict(c=c.float()), "c"), (dict(v=v.long()), "v"),
        (dict(W=nan(W)), "W"), (dict(b=inf(b)), "b"), (dict(c=nan(c)), "c"), (dict(v=nan(v)), "v"),
        (dict(k=0), "k"), (dict(k=-2), "k"),
    ], base, (dict(sigma=sigma[:2]), dict(sigma=-sigma), dict(sigma=torch.zeros_like(sigma)),
              dict(sigma=nan(sigma)), dict(sigma=sigma.float()))


CASES, BASE, SIGMA_CASES = bad_cases()


@pytest.mark.parametrize("op", ["rbm", "grbm"])
@pytest.mark.parametrize("change,name", CASES)
def test_bad_input_names_the_argument(op, change, name):
    a = {**BASE, **change}
    with pytest.raises(ValueError, match=f"'{name}'"):
        if op == "rbm":
            fastebm.rbm_gibbs(a["v"], a["W"], a["b"], a["c"], a["k"])
        else:
            fastebm.grbm_gibbs(a["v"], a["W"], a["b"], a["c"], a["sigma"], a["k"])


@pytest.mark.parametrize("change", SIGMA_CASES)
def test_bad_sigma(change):
    a = {**BASE, **change}
    with pytest.raises(ValueError, match="'sigma'"):
        fastebm.grbm_gibbs(a["v"], a["W"], a["b"], a["c"], a["sigma"], 1)


@pytest.mark.skipif(not HAS_CUDA, reason="no GPU")
def test_mixed_devices_rejected():
    v, W, b, c, _ = make_rbm(5, 4, 3)
    with pytest.raises(ValueError, match="'v'"):
        fastebm.rbm_gibbs(v, W.cuda(), b.cuda(), c.cuda())


@pytest.mark.parametrize("device", DEVICES)
def test_empty_batch(device):
    v, W, b, c, sigma = make_rbm(5, 4, 0, device=device)
    vk, hk = fastebm.rbm_gibbs(v, W, b, c, k=2)
    assert vk.shape == (0, 5) and hk.shape == (0, 4)
    vk, hk = fastebm.grbm_gibbs(v, W, b, c, sigma, k=2)
    assert vk.shape == (0, 5) and hk.shape == (0, 4)


# ---------------------------------------------------------------- op registration

@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_opcheck(device, dtype):
    v, W, b, c, sigma = make_rbm(6, 5, 4, dtype=dtype, device=device)
    torch.library.opcheck(torch.ops.fastebm.rbm_gibbs.default, (v, W, b, c, 2, 123))
    torch.library.opcheck(torch.ops.fastebm.grbm_gibbs.default, (v, W, b, c, sigma, 2, 123))


def test_torch_compile_fullgraph():
    v, W, b, c, _ = make_rbm(6, 5, 4)

    @torch.compile(fullgraph=True, backend="aot_eager")
    def two_calls(v):
        v1, _ = torch.ops.fastebm.rbm_gibbs(v, W, b, c, 1, 1)
        return torch.ops.fastebm.rbm_gibbs(v1, W, b, c, 1, 2)

    expected = torch.ops.fastebm.rbm_gibbs(torch.ops.fastebm.rbm_gibbs(v, W, b, c, 1, 1)[0], W, b, c, 1, 2)
    assert all(torch.equal(x, y) for x, y in zip(two_calls(v), expected))
