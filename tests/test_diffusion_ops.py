"""The diffusion ops beyond the op contract: against the papers' formulas written out here (float64,
1e-12 relative) for every variance choice, clipping, per-sample t, t = 0 and η in {0, 1}; the
drawn noise the same in float32 and float64; and the binomial forward chain against its closed-form
marginals, reaching Bernoulli(½) at t = T."""

from __future__ import annotations

import math

import pytest
import torch

import fastebm
from fastebm import ops

T = 100


def gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def betas() -> torch.Tensor:
    return torch.linspace(1e-4, 0.05, T, dtype=torch.float64)


def ddpm_formula(x, eps, t, noise, variance, clip):
    """Ho et al. 2020, eq. 7 with x̂₀ from ε, written from β and α arrays one sample at a time."""
    beta = betas()
    alpha = 1 - beta
    out = torch.empty_like(x)
    for b in range(x.shape[0]):
        s = int(t[b])
        ab = math.prod(alpha[: s + 1].tolist())
        ab_prev = math.prod(alpha[:s].tolist())
        x0 = (x[b] - math.sqrt(1 - ab) * eps[b]) / math.sqrt(ab)
        if clip is not None:
            x0 = x0.clamp(-clip, clip)
        mean = (math.sqrt(ab_prev) * beta[s] / (1 - ab)) * x0 + \
            (math.sqrt(alpha[s]) * (1 - ab_prev) / (1 - ab)) * x[b]
        var = beta[s] if variance == "fixed_large" else (1 - ab_prev) / (1 - ab) * beta[s]
        out[b] = mean + (0.0 if s == 0 else math.sqrt(var)) * noise[b]
    return out


def ddim_formula(x, eps, t, t_prev, noise, eta):
    """Song et al. 2021, eq. 12, one sample at a time."""
    alpha = 1 - betas()
    out = torch.empty_like(x)
    for b in range(x.shape[0]):
        ab = math.prod(alpha[: int(t[b]) + 1].tolist())
        ab_p = math.prod(alpha[: int(t_prev[b]) + 1].tolist())  # t_prev = -1: the empty product 1
        sigma = eta * math.sqrt((1 - ab_p) / (1 - ab)) * math.sqrt(1 - ab / ab_p)
        x0 = (x[b] - math.sqrt(1 - ab) * eps[b]) / math.sqrt(ab)
        out[b] = math.sqrt(ab_p) * x0 + math.sqrt(1 - ab_p - sigma ** 2) * eps[b] + sigma * noise[b]
    return out


def inputs(seed: int, B: int = 24):
    g = gen(seed)
    x, eps, noise = (torch.randn(B, 3, 4, generator=g, dtype=torch.float64) for _ in range(3))
    t = torch.randint(0, T, (B,), generator=g)
    t[:3] = torch.tensor([0, 1, T - 1])
    return x, eps, noise, t


@pytest.mark.parametrize("variance", ["fixed_small", "fixed_large"])
@pytest.mark.parametrize("clip", [None, 1.0])
def test_ddpm_step_with_noise_is_the_formula(variance, clip):
    x, eps, noise, t = inputs(1)
    ac = torch.cumprod(1 - betas(), 0)
    out = ops.ddpm_step(x, eps, t, ac, variance=variance, clip_sample=clip, noise=noise)
    torch.testing.assert_close(out, ddpm_formula(x, eps, t, noise, variance, clip),
                               rtol=1e-12, atol=1e-12)
    if clip is not None:  # the bound binds on some elements, so the clipped step differs
        assert not torch.allclose(out, ops.ddpm_step(x, eps, t, ac, variance=variance, noise=noise))


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_one_shared_value_is_every_row_at_it_drawn_bits_included(dtype):
    """An int t (t_prev, noise_var) runs x as one row; the bits equal those of the same value
    given for every row, given noise or drawn."""
    x, eps, noise, _ = (v.to(dtype) if v.is_floating_point() else v for v in inputs(2))
    ac = torch.cumprod(1 - betas(), 0).to(dtype)
    rows = lambda v: torch.full((x.shape[0],), v)  # noqa: E731
    for given in ({"noise": noise}, {}):
        assert torch.equal(ops.ddpm_step(x, eps, 7, ac, generator=gen(3), **given),
                           ops.ddpm_step(x, eps, rows(7), ac, generator=gen(3), **given))
    assert torch.equal(ops.ddim_step(x, eps, 9, 4, ac, 0.5, generator=gen(4)),
                       ops.ddim_step(x, eps, rows(9), 4, ac, 0.5, generator=gen(4)))
    assert torch.equal(ops.ddim_step(x, eps, 9, 4, ac, 0.5, generator=gen(4)),
                       ops.ddim_step(x, eps, 9, rows(4), ac, 0.5, generator=gen(4)))
    beta = torch.tensor([0.03], dtype=dtype)
    assert torch.equal(ops.gaussian_diffusion_step(x, eps, noise, beta, generator=gen(5)),
                       ops.gaussian_diffusion_step(x, eps, noise, beta.expand(x.shape[0]),
                                                   generator=gen(5)))


@pytest.mark.parametrize("call", [
    lambda x, ac: ops.ddpm_step(x, x, torch.tensor([1, 2]), ac),
    lambda x, ac: ops.ddim_step(x, x, 5, torch.tensor([1, 2]), ac),
    lambda x, ac: ops.gaussian_diffusion_step(x, x, x, torch.full((2,), 0.1, dtype=x.dtype)),
])
def test_per_row_values_of_another_length_are_refused(call):
    x = torch.randn(5, 3, dtype=torch.float64)
    with pytest.raises(ValueError, match="one value per row of 'x_t' \\(5\\) or one for every row"):
        call(x, torch.cumprod(1 - betas(), 0))


@pytest.mark.parametrize("eta", [0.0, 1.0])
def test_ddim_step_with_noise_is_the_formula(eta):
    x, eps, noise, t = inputs(3)
    t = t.clamp(min=1)
    t_prev = (t - 1 - torch.randint(0, 10, t.shape, generator=gen(4))).clamp(min=-1)
    ac = torch.cumprod(1 - betas(), 0)
    out = ops.ddim_step(x, eps, t, t_prev, ac, eta, noise=noise)
    torch.testing.assert_close(out, ddim_formula(x, eps, t, t_prev, noise, eta), rtol=1e-12,
                               atol=1e-12)


def test_ddim_with_eta_one_and_consecutive_steps_is_ddpm_fixed_small():
    x, eps, noise, t = inputs(5)
    ac = torch.cumprod(1 - betas(), 0)
    torch.testing.assert_close(ops.ddim_step(x, eps, t, t - 1, ac, 1.0, noise=noise),
                               ops.ddpm_step(x, eps, t, ac, noise=noise), rtol=1e-12, atol=1e-12)


def test_gaussian_diffusion_step_with_noise_is_the_formula():
    g = gen(6)
    x, m, b, noise = (torch.randn(16, 5, generator=g, dtype=torch.float64) for _ in range(4))
    beta = 0.02 + 0.5 * torch.rand(16, generator=g, dtype=torch.float64)
    out = ops.gaussian_diffusion_step(x, m, b, beta, noise=noise)
    var = 1 / (1 + torch.exp(-(b + torch.log(beta[:, None] / (1 - beta[:, None])))))
    expected = x * (1 - beta[:, None]).sqrt() + m * beta[:, None].sqrt() + var.sqrt() * noise
    torch.testing.assert_close(out, expected, rtol=1e-12, atol=1e-12)


def test_drawn_noise_does_not_depend_on_dtype():
    """With ε chosen so that x̂₀ = 0 and t = 1 the step is c·x_t + σ·z: float32 and float64 calls
    draw the same z, up to the float32 uniform's 23 of the word's 32 bits (Box-Muller's radius
    amplifies that near u = 1: up to ~1e-4)."""
    ac = torch.cumprod(1 - betas(), 0)
    x = torch.randn(64, 33, generator=gen(7), dtype=torch.float64)
    eps = x / math.sqrt(1 - ac[1])
    out = {dtype: ops.ddpm_step(x.to(dtype), eps.to(dtype), 1, ac, generator=gen(8))
           for dtype in (torch.float32, torch.float64)}
    torch.testing.assert_close(out[torch.float32].double(), out[torch.float64], rtol=1e-3, atol=2e-4)
    assert out[torch.float64].std() > 0


def test_binomial_forward_diffusion_marginals_and_bernoulli_half_at_T():
    """q(xᵗ|xᵗ⁻¹) = B(xᵗ⁻¹(1-βₜ) + ½βₜ), βₜ = 1/(T-t+1): P(xᵗ = 1) = ½ + (P(x⁰ = 1) - ½)Πₛ(1-βₛ)
    by induction, and βₜ = 1 makes x^T ~ B(½) whatever x⁰. Each checked by a z-test on 200,000
    bits from x⁰ = 1; a chain with βₜ = 1/(T-t+2) (never reaching 1) fails the last."""
    steps, n = 10, 200_000
    x = torch.ones(n, dtype=torch.float64)
    keep = 1.0
    g = gen(9)
    for t in range(1, steps + 1):
        beta = 1 / (steps - t + 1)
        x = ops.binomial_diffusion_step(x * (1 - beta) + 0.5 * beta, generator=g)
        keep *= 1 - beta
        p = 0.5 + 0.5 * keep
        z = (x.mean().item() - p) / math.sqrt(max(p * (1 - p), 1e-12) / n)
        assert abs(z) < 4.5, (t, x.mean().item(), p)
    assert keep == 0.0
    wrong = torch.ones(n, dtype=torch.float64)
    for t in range(1, steps + 1):
        beta = 1 / (steps - t + 2)
        wrong = ops.binomial_diffusion_step(wrong * (1 - beta) + 0.5 * beta, generator=g)
    assert abs(wrong.mean().item() - 0.5) / math.sqrt(0.25 / n) > 10


@pytest.mark.parametrize("isa", ["baseline", "avx2", "avx512"])
def test_ddim_with_eta_zero_draws_nothing(isa):
    """η = 0 runs the pass without draws (z = 0): the same as any given noise, on every path."""
    if isa not in ops_isas():
        pytest.skip(f"CPU lacks {isa}")
    x, eps, noise, t = inputs(8, B=300)
    t = t.clamp(min=1)
    ac = torch.cumprod(1 - betas(), 0)
    with fastebm.cpu_isa(isa):
        drawn = ops.ddim_step(x, eps, t, t - 1, ac, 0.0, generator=gen(9))
    assert torch.equal(drawn, ops.ddim_step(x, eps, t, t - 1, ac, 0.0, noise=noise))


def ops_isas() -> list[str]:
    names = ["baseline", "avx2", "avx512"]
    return names[: names.index(fastebm.build_info()["cpu_isa_best"]) + 1]
