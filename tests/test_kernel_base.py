"""The kernel base: chunked long calls (same bits as one call, Ctrl-C honoured), the CPU ISA
switch, and the shared draws (uniform -> Bernoulli, normal) against their exact distributions."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest
import torch
from scipy import stats

import fastebm
from fastebm.ops import chunking, draw_seed, draw_seeds

from conftest import HAS_CUDA

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def rbm(V=30, H=20, B=16, seed=0):
    g = torch.Generator().manual_seed(seed)
    W = 0.5 * torch.randn(V, H, generator=g, dtype=torch.float64)
    b, c = 0.3 * torch.randn(V, generator=g, dtype=torch.float64), torch.zeros(H, dtype=torch.float64)
    v = torch.bernoulli(torch.full((B, V), 0.5, dtype=torch.float64), generator=g)
    return v, W, b, c


# ---------------------------------------------------------------- chunked long calls

CHUNKED_CALLS = {
    "rbm_gibbs": (lambda v, W, b, c, g: fastebm.rbm_gibbs(v, W, b, c, 7, generator=g),
                  lambda v, W, b, c, s: torch.ops.fastebm.rbm_gibbs(v, W, b, c, 7, s)),
    "grbm_gibbs": (lambda v, W, b, c, g: fastebm.grbm_gibbs(v, W, b, c, b.abs() + 0.5, 7, generator=g),
                   lambda v, W, b, c, s: torch.ops.fastebm.grbm_gibbs(v, W, b, c, b.abs() + 0.5, 7, s)),
    "rbm_cd_grad": (lambda v, W, b, c, g: fastebm.ops.rbm_cd_grad(v[:5], v, W, b, c, 7, generator=g),
                    lambda v, W, b, c, s: torch.ops.fastebm.rbm_cd_grad(v[:5], v, W, b, c, 7, s)),
    "rbm_ais": (lambda v, W, b, c, g: fastebm.ops.rbm_ais(v, W, b, c, -b, [i / 8 for i in range(9)],
                                                          generator=g),
                lambda v, W, b, c, s: torch.ops.fastebm.rbm_ais(v, W, b, c, -b,
                                                                [i / 8 for i in range(9)], s)),
}


@pytest.mark.parametrize("name", CHUNKED_CALLS)
def test_chunked_call_draws_the_bits_of_one_call(name, monkeypatch):
    wrapper, op = CHUNKED_CALLS[name]
    chunks = []
    real = chunking.run_chunked

    def recording(total, first, run, **kw):
        return real(total, first, lambda start, n: (chunks.append(n), run(start, n)), **kw)

    monkeypatch.setattr(fastebm.ops.rbm, "SINGLE_CALL_WORK", 1)  # chunk everything
    monkeypatch.setattr(chunking, "CHUNK_SECONDS", 0.0)             # one step per call
    monkeypatch.setattr(chunking, "run_chunked", recording)
    v, W, b, c = rbm()
    chunked = wrapper(v, W, b, c, torch.Generator().manual_seed(3))
    whole = op(v, W, b, c, draw_seed(torch.Generator().manual_seed(3)))
    assert len(chunks) >= 6 and set(chunks) == {1}
    assert all(torch.equal(x, y) for x, y in zip(chunked, whole))


def test_ctrl_c_interrupts_a_long_ais_run_within_seconds():
    """A one-minute AIS run (784-500 RBM, 500 chains x 5,000 β) gets SIGINT a second in and
    stops with KeyboardInterrupt soon after, not when the whole C++ run would end."""
    script = (
        "import torch, fastebm\n"
        "W = 0.05 * torch.randn(784, 500); b = torch.zeros(784); c = torch.zeros(500)\n"
        "v = torch.bernoulli(torch.full((500, 784), 0.5))\n"
        "print('ready', flush=True)\n"
        "fastebm.ops.rbm_ais(v, W, b, c, b, [i / 4999 for i in range(5000)])\n"
        "print('finished', flush=True)\n")
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, cwd=ROOT)
    assert proc.stdout.readline().strip() == "ready"
    time.sleep(1.0)
    proc.send_signal(signal.SIGINT)
    sent = time.monotonic()
    try:
        out, err = proc.communicate(timeout=20)
    finally:
        proc.kill()
    assert "KeyboardInterrupt" in err and "finished" not in out
    assert time.monotonic() - sent < 20


# ---------------------------------------------------------------- CPU ISA switch

def import_with(env_value: str) -> subprocess.CompletedProcess:
    code = "import fastebm; print(fastebm.build_info()['cpu_isa'])"
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                          env={**os.environ, "FASTEBM_CPU_ISA": env_value})


def test_cpu_isa_env_forces_a_path():
    result = import_with("baseline")
    assert result.returncode == 0 and result.stdout.strip() == "baseline"


def test_cpu_isa_env_refuses_an_unknown_or_missing_path():
    result = import_with("avx9")
    assert result.returncode != 0 and "unknown CPU ISA path 'avx9'" in result.stderr
    if fastebm.build_info()["cpu_isa_best"] != "avx512":
        result = import_with("avx512")
        assert result.returncode != 0 and "needs instructions this CPU lacks" in result.stderr
    with pytest.raises(ValueError, match="unknown CPU ISA"):
        fastebm.set_cpu_isa("sse9")


# ---------------------------------------------------------------- the shared draws

@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_bernoulli_sigmoid_frequencies(dtype):
    """Each of 7 logits drawn 200,000 times: the frequency of ones is σ(x) within 5 standard
    errors; a sampler off by 0.05 in the logit fails the same check."""
    logits = torch.tensor([-4.0, -1.5, -0.3, 0.0, 0.7, 2.0, 5.0], dtype=dtype)
    n = 200_000

    def worst_z(samples, p):
        return ((samples.double().mean(0) - p) / (p * (1 - p) / n).sqrt()).abs().max()

    p = torch.sigmoid(logits.double())
    x = logits.expand(n, -1)
    assert worst_z(fastebm.bernoulli_sigmoid(x, generator=torch.Generator().manual_seed(1)), p) < 5
    assert worst_z(fastebm.bernoulli_sigmoid(x + 0.05, generator=torch.Generator().manual_seed(1)), p) > 5


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_normal_draws_are_standard_normal(dtype):
    """The kernels' N(0, 1) draws (Box-Muller on math.h's log and sincos polynomials), read out
    through a GRBM with W = 0, b = 0, σ = 1 (v = z): Kolmogorov-Smirnov against N(0, 1), mean and
    variance within 5 standard errors, and the Box-Muller partners (z_i, z_i^16) uncorrelated; a
    1% scale error fails the variance check."""
    V, n = 64, 16000  # a million draws
    W, c = torch.zeros(V, 3, dtype=dtype), torch.zeros(3, dtype=dtype)
    b, sigma = torch.zeros(V, dtype=dtype), torch.ones(V, dtype=dtype)
    z = fastebm.grbm_gibbs(torch.zeros(n, V, dtype=dtype), W, b, c, sigma,
                           generator=torch.Generator().manual_seed(2))[0].double()
    flat = z.flatten()
    assert stats.kstest(flat.numpy(), "norm").pvalue > 1e-3
    m = flat.numel()
    assert abs(flat.mean()) < 5 / m**0.5

    def var_z(x):
        return abs(x.var() - 1) / (2 / m) ** 0.5

    assert var_z(flat) < 5 and var_z(flat * 1.01) > 5
    pairs = z.view(n, V // 64, 4, 16)  # tile layout: element i pairs with i ^ 16
    r = torch.corrcoef(torch.stack([pairs[:, :, 0].flatten(), pairs[:, :, 1].flatten()]))[0, 1]
    assert abs(r) < 5 / (pairs[:, :, 0].numel() ** 0.5)


@pytest.mark.parametrize("device", ["cpu", pytest.param("cuda", marks=pytest.mark.skipif(
    not HAS_CUDA, reason="no GPU"))])
def test_generator_seeds_are_deterministic_advance_and_batch(device):
    g1, g2 = torch.Generator(device).manual_seed(5), torch.Generator(device).manual_seed(5)
    first = [draw_seed(g1) for _ in range(3)]
    assert first == draw_seeds(3, g2) and len(set(first)) == 3
    assert draw_seed(g1) == draw_seeds(1, g2)[0]
