"""Sohl-Dickstein et al. 2015's binomial diffusion against exact enumeration. With D = 3 bits the
reverse process is a Markov chain on 8 states, so for any network the model's p(x⁰) is exact
(matrix products from p(xᵀ) = B(½)), and so are the laws that inpainting by replacement and
denoising sample: the forward process reaches B(½) at t = T; the bound K lies below the exact
log-likelihood and the trajectory estimate between them; trained by K the model comes close to
the data; the fused sampler, inpainting and denoising draw their exact laws (chi-square); the
entropy bounds of section 2.6 hold and are met where they should be."""

from __future__ import annotations

import math

import pytest
import scipy.stats
import torch
from torch import nn

from fastebm.models import BinomialDiffusion, GaussianDiffusion
from fastebm.objectives import DiffusionBound

from test_nonequilibrium import train_by_bound

T, D = 32, 3
STATES = torch.tensor([[(s >> (D - 1 - i)) & 1 for i in range(D)] for s in range(2 ** D)],
                      dtype=torch.float64)                                   # [8, 3]
DATA_P = torch.tensor([0.4, 0.05, 0.05, 0.1, 0.02, 0.08, 0.1, 0.2], dtype=torch.float64)


def index(x: torch.Tensor) -> torch.Tensor:
    return (x * STATES[1].new_tensor([4.0, 2.0, 1.0])).sum(1).long()


class TableReverse(nn.Module):
    """ℓ = table[k, state of xᵗ]: every reverse flip rate free."""

    def __init__(self, scale: float, generator):
        super().__init__()
        self.table = nn.Parameter(scale * torch.randn(T, 2 ** D, D, generator=generator,
                                                      dtype=torch.float64))

    def forward(self, x, k):
        return self.table[k, index(x)]


def model(scale: float = 1.0, seed: int = 0) -> BinomialDiffusion:
    return BinomialDiffusion(TableReverse(scale, torch.Generator().manual_seed(seed)), D, T).double()


def chain(m: BinomialDiffusion, tilt=None, known=None, power: str = "constant",
          known_at: str = "renoised") -> torch.Tensor:
    """[8] the exact law of the sampler's x⁰: p(xᵀ) = B(½) pushed through each step's [8, 8]
    transition matrix (its logits shifted by ``tilt`` [D], times (T-k)/T at step k with
    ``power="annealed"``), then, with ``known`` (bit 0's value), bit 0 re-drawn from
    q(xᵗ⁻¹ | known) as replacement does (``known_at="fixed"``: set to ``known``)."""
    betas = m.noise_vars().detach()
    alpha_bar = torch.cumprod(1 - betas, 0)
    p = torch.full((2 ** D,), 1 / 2 ** D, dtype=torch.float64)
    for k in range(T - 1, -1, -1):
        with torch.no_grad():
            logits = m.reverse_logits(STATES, torch.full((2 ** D,), k), betas)   # [8 (xᵗ), 3]
        if tilt is not None:
            logits = logits + tilt * (1.0 if power == "constant" else (T - k) / T)
        on = torch.sigmoid(logits)[:, None, :]                                  # [8, 1, 3]
        step = torch.where(STATES[None] == 1, on, 1 - on).prod(2)               # [8 (xᵗ), 8 (xᵗ⁻¹)]
        p = p @ step
        if known is not None:
            one = (known if k == 0 or known_at == "fixed" else
                   known * alpha_bar[k - 1] + (1 - alpha_bar[k - 1]) / 2)
            bit = torch.where(STATES[:, 0] == 1, one, 1 - one).double()         # [8]
            same_rest = (STATES[:, None, 1:] == STATES[None, :, 1:]).all(2)     # [8, 8]
            p = p @ (same_rest * bit[None, :])
    return p


def data(n: int, seed: int) -> torch.Tensor:
    return STATES[torch.multinomial(DATA_P, n, replacement=True,
                                    generator=torch.Generator().manual_seed(seed))]


def chi2_p_value(x: torch.Tensor, p: torch.Tensor) -> float:
    """The chi-square test's p-value of the states of x against the law p (over p's support;
    a draw outside it gives 0)."""
    counts = torch.bincount(index(x), minlength=2 ** D).double()
    support = p > 0
    if counts[~support].sum() > 0:
        return 0.0
    expected = len(x) * p[support]
    stat = float(((counts[support] - expected) ** 2 / expected).sum())
    return float(scipy.stats.chi2.sf(stat, int(support.sum()) - 1))


def paired_mean(diff: torch.Tensor) -> tuple[float, float]:
    return diff.mean().item(), diff.std().item() / math.sqrt(len(diff))


def test_forward_diffusion_reaches_a_fair_coin_at_T():
    """ᾱₜ = 1 - t/T: after t steps a bit keeps its value with probability 1 - t/(2T), and at
    t = T it is a fair coin whatever x⁰ was."""
    m, g = model(), torch.Generator().manual_seed(1)
    x = torch.ones(40_000, D, dtype=torch.float64)
    betas = m.noise_vars()
    assert betas[-1] == 1
    for k in range(T):
        x = m._marginal(x, 1 - betas[k], g)
        kept = 1 - (k + 1) / (2 * T)
        assert abs(x.mean() - kept) < 4 * math.sqrt(kept * (1 - kept) / x.numel()), (k, x.mean())
    assert torch.equal(torch.cumprod(1 - betas, 0)[-1], torch.zeros((), dtype=betas.dtype))


def test_bound_below_the_exact_log_likelihood_and_trajectory_estimate_between():
    m, x0, g = model(), data(4000, 2), torch.Generator().manual_seed(3)
    with torch.no_grad():
        K = m.bound(x0, g, every_step=True)
    log_p = chain(m).log()[index(x0)]
    trajectory = m.trajectory_log_likelihood(x0, 50, g)
    gap, se = paired_mean(log_p - K)
    assert gap > 5 * se, (gap, se)
    above_k, se_k = paired_mean(trajectory - K)
    assert above_k > 3 * se_k, (above_k, se_k)
    below_p, se_p = paired_mean(log_p - trajectory)
    assert below_p > -3 * se_p and below_p < 0.2 * gap, (below_p, gap)
    one_step = m.bound(x0, g).detach()
    assert abs(one_step.mean() - K.mean()) < 4 * one_step.std() / math.sqrt(len(x0))


@pytest.fixture(scope="module")
def trained() -> BinomialDiffusion:
    return train_by_bound(model(0.0), data(20_000, 4), 5e-2, 5)


def test_training_by_the_bound_comes_close_to_the_data(trained):
    """From no network (every step the forward flip rate: p(x⁰) uniform, KL to the data 0.35
    nats), training by K brings the model's exact law within 0.03 nats of the data's (0.016 at
    T = 32; the factorised reverse steps need small steps: 0.10 at T = 8, 0.04 at 16, 0.006 at
    64), and K within 0.15 nats of the exact log-likelihood."""
    p = chain(trained)
    kl = float((DATA_P * (DATA_P / p).log()).sum())
    assert kl < 0.03, (kl, p)
    x0, g = data(4000, 7), torch.Generator().manual_seed(8)
    with torch.no_grad():
        gap = chain(trained).log()[index(x0)].mean() - trained.bound(x0, g, every_step=True).mean()
    assert 0 < gap < 0.15, gap


def test_samples_inpainting_and_denoising_draw_their_exact_laws(trained):
    """Chi-square of 20,000 fused-sampler draws against the enumerated law: plain sampling,
    inpainting bit 0 = 1 by replacement, and denoising an observation (1, 0, 1) seen through
    bit flips of probability 0.2 (each step's logits + (2y-1)·logit 0.8); each law also differs
    from the others by far more than the test's resolution."""
    n, g = 20_000, torch.Generator().manual_seed(6)
    plain = trained.sample(n, generator=g)
    assert chi2_p_value(plain, chain(trained)) > 1e-3
    known = torch.zeros(n, D, dtype=torch.float64)
    known[:, 0] = 1
    mask = torch.zeros(n, D, dtype=torch.bool)
    mask[:, 0] = True
    filled = trained.sample(n, generator=g, known=known, mask=mask)
    assert (filled[:, 0] == 1).all()
    assert chi2_p_value(filled, chain(trained, known=1.0)) > 1e-3
    y = torch.tensor([1.0, 0.0, 1.0], dtype=torch.float64)
    denoised = trained.sample(n, generator=g, observation=y.expand(n, D), observation_noise=0.2)
    tilted = chain(trained, tilt=(2 * y - 1) * math.log(4))
    assert chi2_p_value(denoised, tilted) > 1e-3
    assert chi2_p_value(denoised, chain(trained)) < 1e-12
    assert chi2_p_value(filled, chain(trained)) < 1e-12


def test_multiplying_by_r_as_the_paper_states_it(trained):
    """r^((T-t)/T) denoising and inpainting with the known bit held fixed draw their exact
    laws (chi-square), and each form's bias is measured against the exact conditional by total
    variation: denoising against p(x⁰ | y) ∝ p(x⁰) r(x⁰): constant r 0.335, annealed 0.079 (r
    at every step counts the observation many times); inpainting bit 0 = 1 against
    p(x⁰ | bit 0 = 1): re-noised replacement 0.120, the delta held fixed 0.082."""
    n, g = 20_000, torch.Generator().manual_seed(7)
    y = torch.tensor([1.0, 0.0, 1.0], dtype=torch.float64)
    tilt = (2 * y - 1) * math.log(4)
    annealed = trained.sample(n, generator=g, observation=y.expand(n, D), observation_noise=0.2,
                              r_power="annealed")
    assert chi2_p_value(annealed, chain(trained, tilt=tilt, power="annealed")) > 1e-3
    r = torch.where(STATES == y, 0.8, 0.2).prod(1)                      # [8] r(x⁰)
    exact = chain(trained) * r / (chain(trained) * r).sum()
    tv = {power: 0.5 * float((chain(trained, tilt=tilt, power=power) - exact).abs().sum())
          for power in ("constant", "annealed")}
    assert tv["annealed"] < tv["constant"], tv
    known = torch.zeros(n, D, dtype=torch.float64)
    known[:, 0] = 1
    mask = torch.zeros(n, D, dtype=torch.bool)
    mask[:, 0] = True
    fixed = trained.sample(n, generator=g, known=known, mask=mask, known_at="fixed")
    assert (fixed[:, 0] == 1).all()
    assert chi2_p_value(fixed, chain(trained, known=1.0, known_at="fixed")) > 1e-3
    conditional = chain(trained) * (STATES[:, 0] == 1)
    conditional = conditional / conditional.sum()
    tv = {at: 0.5 * float((chain(trained, known=1.0, known_at=at) - conditional).abs().sum())
          for at in ("renoised", "fixed")}
    assert tv["fixed"] < tv["renoised"], tv


@pytest.mark.parametrize("family", ["gaussian", "binomial"])
def test_entropy_bounds_hold_and_are_met(family):
    """H_q(Xᵗ⁻¹ | Xᵗ) = H_q(Xᵗ | Xᵗ⁻¹) + H_q(Xᵗ⁻¹) - H_q(Xᵗ) for 1-D data whose marginals are
    known in closed form: a point (the lower bound, met), data from π (the upper, met), and
    data in between (strictly inside), from t = 2 (at t = 1 a point's Gaussian lower bound is
    -∞)."""
    if family == "gaussian":
        m = GaussianDiffusion(nn.Identity(), 1, 10, noise_var_1=1e-3, noise_var_T=0.3, learn_noise_vars=False).double()
        spreads = {"lower": 0.0, "upper": 1.0, "inside": 0.5}  # data N(0, s²)
        entropy = lambda ab, s: 0.5 * torch.log(2 * math.pi * math.e * (ab * s ** 2 + 1 - ab))  # noqa: E731
    else:
        m = BinomialDiffusion(nn.Identity(), 1, 10).double()
        spreads = {"lower": 1.0, "upper": 0.5, "inside": 0.8}  # data B(ρ)
        entropy = lambda ab, rho: -(lambda q: q * q.log() + (1 - q) * (1 - q).log())(  # noqa: E731
            rho * ab + (1 - ab) / 2)
    lower, upper = m.reverse_entropy_bounds()
    betas = m.noise_vars().detach()
    alpha_bar = torch.cumprod(1 - betas, 0)[1:]
    previous = torch.cumprod(1 - betas, 0)[:-1]
    for where, spread in spreads.items():
        h = upper[1:] + entropy(previous, spread) - entropy(alpha_bar, spread)
        if where == "lower":
            torch.testing.assert_close(h, lower[1:])
        elif where == "upper":
            torch.testing.assert_close(h, upper[1:])
        else:
            assert ((h > lower[1:] + 1e-6) & (h < upper[1:] - 1e-6)).all(), (h, lower, upper)


def test_bad_inputs():
    m = model()
    with pytest.raises(ValueError, match="binary"):
        m.bound(torch.full((4, D), 0.5, dtype=torch.float64))
    with pytest.raises(ValueError, match="binary"):
        DiffusionBound().compute_grads(m, torch.full((4, D), 2.0, dtype=torch.float64))
    with pytest.raises(ValueError, match="shape"):
        m.trajectory_log_likelihood(torch.ones(4, D + 1, dtype=torch.float64))
    with pytest.raises(ValueError, match="observation_noise"):
        m.sample(4, observation=torch.ones(4, D, dtype=torch.float64), observation_noise=0.5)
    with pytest.raises(ValueError, match="rows"):
        m.sample(4, observation=torch.ones(3, D, dtype=torch.float64), observation_noise=0.1)
    with pytest.raises(ValueError, match="steps"):
        BinomialDiffusion(TableReverse(1.0, torch.Generator()), D, 1)
    class Doubled(nn.Module):  # [B, 2D], not the flip logits [B, D]
        def forward(self, x, k):
            return torch.cat([x, x], 1)

    with pytest.raises(ValueError, match="reverse network"):
        BinomialDiffusion(Doubled(), D, T).bound(data(8, 0))
