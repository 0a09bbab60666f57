"""The reparameterised Gaussian draw: gradients (gradcheck in float64, with drawn and given ε),
the backward formula against autograd of the plain expression, and the law of its draws."""

from __future__ import annotations

import pytest
import torch
from scipy.stats import kstest

from fastebm import ops

from conftest import DEVICES


def gaussian_params(shape, device, dtype=torch.float64, seed=0):
    g = torch.Generator().manual_seed(seed)
    mu = torch.randn(shape, generator=g, dtype=torch.float64)
    log_sigma = torch.rand(shape, generator=g, dtype=torch.float64) * 2 - 1.5
    return mu.to(device, dtype).requires_grad_(), log_sigma.to(device, dtype).requires_grad_()


@pytest.mark.parametrize("device", DEVICES)
def test_gradcheck_with_drawn_and_given_noise(device):
    mu, log_sigma = gaussian_params((4, 3), device)
    noise = torch.randn(4, 3, dtype=torch.float64, device=device, requires_grad=True)
    assert torch.autograd.gradcheck(lambda m, s, e: ops.reparameterize(m, s, noise=e),
                                    (mu, log_sigma, noise))
    fixed = lambda m, s: ops.reparameterize(m, s, generator=torch.Generator().manual_seed(5))  # noqa: E731
    assert torch.autograd.gradcheck(fixed, (mu, log_sigma))
    assert torch.autograd.gradgradcheck(lambda m, s, e: ops.reparameterize(m, s, noise=e),
                                        (mu, log_sigma, noise))


def test_backward_equals_autograd_of_the_plain_expression():
    mu, log_sigma = gaussian_params((50, 7), "cpu", seed=1)
    noise = torch.randn(50, 7, dtype=torch.float64, generator=torch.Generator().manual_seed(2))
    weights = torch.randn(50, 7, dtype=torch.float64)
    fused = torch.autograd.grad((ops.reparameterize(mu, log_sigma, noise=noise) * weights).sum(),
                                (mu, log_sigma))
    plain = torch.autograd.grad(((mu + log_sigma.exp() * noise) * weights).sum(), (mu, log_sigma))
    for a, b in zip(fused, plain):
        torch.testing.assert_close(a, b)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_draws_are_gaussian_with_the_given_mean_and_scale(dtype, device):
    """(z - μ)/σ over 200,000 elements of varied μ and σ: N(0, 1) by a KS test (p > 1e-4); a
    draw scaled by the wrong σ (e.g. σ² for log σ) fails it."""
    mu, log_sigma = (t.detach() for t in gaussian_params((400, 500), device, dtype, seed=3))
    z = ops.reparameterize(mu, log_sigma, generator=torch.Generator().manual_seed(4))
    standard = ((z - mu) / log_sigma.exp()).double().cpu().flatten()
    assert kstest(standard.numpy(), "norm").pvalue > 1e-4
    assert kstest((standard * log_sigma.exp().double().cpu().flatten()).numpy(), "norm").pvalue < 1e-10


def test_same_seed_same_draws_and_noise_is_used_as_given():
    mu, log_sigma = (t.detach() for t in gaussian_params((10, 3), "cpu", seed=6))
    a = ops.reparameterize(mu, log_sigma, generator=torch.Generator().manual_seed(1))
    b = ops.reparameterize(mu, log_sigma, generator=torch.Generator().manual_seed(1))
    assert torch.equal(a, b)
    noise = torch.randn(10, 3, dtype=torch.float64)
    torch.testing.assert_close(ops.reparameterize(mu, log_sigma, noise=noise),
                               mu + log_sigma.exp() * noise)


def test_one_posterior_draw_has_the_bits_of_the_expanded_call():
    """sample_posterior with S = 1 skips the [S, B, D] expansion; its draws are the same bits."""
    from fastebm.models.variational import sample_posterior
    mu, log_sigma = gaussian_params((10, 3), "cpu", seed=8)
    one = sample_posterior(mu, log_sigma, 1, generator=torch.Generator().manual_seed(3))
    expanded = ops.reparameterize(mu.expand(1, 10, 3), log_sigma.expand(1, 10, 3),
                                  generator=torch.Generator().manual_seed(3))
    assert one.shape == (1, 10, 3) and torch.equal(one, expanded)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_a_draw_without_gradient_has_the_bits_of_one_with_it(dtype):
    """No gradient wanted: the op skips σ ⊙ ε (its second output is empty), z is unchanged;
    asking that form for a gradient is refused."""
    mu, log_sigma = (t.detach().to(dtype) for t in gaussian_params((10, 3), "cpu", seed=7))
    with torch.no_grad():
        plain = ops.reparameterize(mu, log_sigma, generator=torch.Generator().manual_seed(2))
    tracked = ops.reparameterize(mu.requires_grad_(), log_sigma,
                                 generator=torch.Generator().manual_seed(2))
    assert tracked.requires_grad and torch.equal(plain, tracked.detach())
    seed = ops.seeds.draw_seed(torch.Generator().manual_seed(2))
    z, scaled = torch.ops.fastebm.reparameterize.default(mu.detach(), log_sigma, None, seed, False)
    assert scaled.numel() == 0 and torch.equal(z, plain)
    with pytest.raises(RuntimeError, match="keep_scaled=False has no backward"):
        torch.ops.fastebm.reparameterize.default(mu, log_sigma, None, 2, False)


# ---------------------------------------------------------------- fastebm.models.variational on the conjugate toy

from fastebm.models import variational as vi  # noqa: E402


def toy(orthogonal: bool = False, seed: int = 0):
    """A 3-D latent, 5-D observation linear-Gaussian model and 4 observations drawn from it.
    ``orthogonal``: W's columns orthogonal, so the exact posterior covariance is diagonal and a
    diagonal q can match it."""
    g = torch.Generator().manual_seed(seed)
    W = torch.randn(5, 3, generator=g, dtype=torch.float64)
    if orthogonal:
        W = torch.linalg.qr(W)[0] * torch.tensor([2.0, 1.0, 0.5], dtype=torch.float64)
    model = vi.LinearGaussian(W, 0.3 * torch.randn(5, generator=g, dtype=torch.float64), 0.7)
    z = torch.randn(4, 3, generator=g, dtype=torch.float64)
    x = z @ W.T + model.b + 0.7 * torch.randn(4, 5, generator=g, dtype=torch.float64)
    return model, x


def test_elbo_is_log_evidence_minus_kl_to_the_posterior():
    """For any q: ELBO = log p(x) − KL(q ‖ p(z|x)). Monte-Carlo ELBO (100,000 draws, analytic and
    Monte-Carlo KL) within 4 standard errors of the exact right-hand side."""
    model, x = toy()
    g = torch.Generator().manual_seed(1)
    mu, log_sigma = 0.5 * torch.randn(4, 3, generator=g, dtype=torch.float64), \
        -0.5 + 0.2 * torch.randn(4, 3, generator=g, dtype=torch.float64)
    exact = model.log_evidence(x) - model.kl_to_posterior(x, mu, log_sigma)
    for analytic in (True, False):
        z = vi.sample_posterior(mu, log_sigma, 100_000, generator=g)
        terms = model.log_likelihood(x, z)
        if not analytic:
            terms = terms + vi.gaussian_log_prob(z, torch.zeros_like(mu), torch.zeros_like(mu)) \
                - vi.gaussian_log_prob(z, mu, log_sigma)
        estimate = terms.mean(0) - (vi.gaussian_kl(mu, log_sigma) if analytic else 0)
        se = terms.std(0) / 100_000**0.5
        assert ((estimate - exact).abs() < 4 * se).all(), (estimate, exact, se)
        same = vi.elbo(lambda z: model.log_likelihood(x, z), mu, log_sigma, n_samples=100_000,
                       analytic_kl=analytic, generator=torch.Generator().manual_seed(2))
        assert ((same - exact).abs() < 4 * se).all()


def test_maximising_the_elbo_recovers_the_exact_posterior():
    """Adam on the reparameterised ELBO (64 draws a step) from q = N(0, I): μ within 0.02 and σ
    within 3% of the exact posterior (diagonal here), and the final KL to it below 1e-3."""
    model, x = toy(orthogonal=True)
    m, cov = model.posterior(x)
    mu = torch.zeros(4, 3, dtype=torch.float64, requires_grad=True)
    log_sigma = torch.zeros(4, 3, dtype=torch.float64, requires_grad=True)
    optimizer = torch.optim.Adam([mu, log_sigma], lr=0.03)
    g = torch.Generator().manual_seed(3)
    for step in range(1500):
        optimizer.zero_grad()
        for group in optimizer.param_groups:
            group["lr"] = 0.03 if step < 1000 else 0.003
        (-vi.elbo(lambda z: model.log_likelihood(x, z), mu, log_sigma, n_samples=64,
                  generator=g).sum()).backward()
        optimizer.step()
    with torch.no_grad():
        assert (mu - m).abs().max() < 0.02
        assert ((log_sigma.exp() / cov.diagonal().sqrt()) - 1).abs().max() < 0.03
        assert model.kl_to_posterior(x, mu, log_sigma).max() < 1e-3


def test_iwae_rises_with_k_toward_log_evidence():
    """q = the prior (a poor proposal): L_1 < L_10 < L_100 < L_10000 <= log p(x) + noise, and
    L_10000 within 0.05 nats of log p(x)."""
    model, x = toy()
    g = torch.Generator().manual_seed(4)
    zeros = torch.zeros(4, 3, dtype=torch.float64)
    bounds = [vi.importance_weighted_bound(lambda z: model.log_joint(x, z), zeros, zeros, k,
                                           generator=g).mean() for k in (1, 10, 100, 10_000)]
    assert all(a < b for a, b in zip(bounds, bounds[1:])), bounds
    assert abs(float(bounds[-1] - model.log_evidence(x).mean())) < 0.05


def test_both_gradient_estimators_are_unbiased_and_reparameterisation_has_less_variance():
    """f(z) = Σ (z - c)² has E_q f = Σ (μ - c)² + σ², so ∇_μ = 2(μ - c), ∇_{log σ} = 2σ². Over
    20,000 samples each estimator's mean is within 4 standard errors of the exact gradient; the
    reparameterisation estimator's variance is at least 10× lower than the score function's with
    a baseline, which is lower than without one."""
    c = torch.tensor([1.0, -2.0, 0.5], dtype=torch.float64)
    mu = torch.tensor([[0.3, 0.1, -0.4]], dtype=torch.float64)
    log_sigma = torch.tensor([[-0.2, 0.1, -0.7]], dtype=torch.float64)

    def f(z):
        return (z - c).square().sum(-1)

    exact = (2 * (mu - c), 2 * (2 * log_sigma).exp())
    g = torch.Generator().manual_seed(5)
    runs = {"sf": vi.score_function_grads(f, mu, log_sigma, 20_000, generator=g),
            "sf_baseline": vi.score_function_grads(f, mu, log_sigma, 20_000, baseline=True, generator=g),
            "reparam": vi.reparameterization_grads(f, mu, log_sigma, 20_000, generator=g)}
    variance = {}
    for name, grads in runs.items():
        for grad, truth in zip(grads, exact):
            se = grad.std(0) / 20_000**0.5
            assert ((grad.mean(0) - truth).abs() < 4 * se + 1e-12).all(), (name, grad.mean(0), truth)
        variance[name] = sum(float(grad.var(0).sum()) for grad in grads)
    assert variance["reparam"] * 10 < variance["sf_baseline"] < variance["sf"], variance


def test_the_general_two_gaussian_kl_is_torch_distributions():
    """KL(N(μ, σ²) ‖ N(μ₀, σ₀²)) with tensor priors (and the standard prior's short form)
    against torch.distributions' closed form, to float64 rounding."""
    g = torch.Generator().manual_seed(8)
    mu, log_sigma, mu0, log_sigma0 = (torch.randn(6, 4, generator=g, dtype=torch.float64)
                                      for _ in range(4))
    exact = lambda m, s, m0, s0: torch.distributions.kl_divergence(  # noqa: E731
        torch.distributions.Normal(m, s.exp()), torch.distributions.Normal(m0, s0.exp())).sum(-1)
    torch.testing.assert_close(vi.gaussian_kl(mu, log_sigma, mu0, log_sigma0),
                               exact(mu, log_sigma, mu0, log_sigma0), rtol=1e-12, atol=1e-12)
    zero = torch.zeros_like(mu)
    torch.testing.assert_close(vi.gaussian_kl(mu, log_sigma), exact(mu, log_sigma, zero, zero),
                               rtol=1e-12, atol=1e-12)


def test_the_score_function_surrogate_gives_the_exact_elbo_gradient_on_average():
    """The surrogate's gradient, averaged over 400 calls of 50 draws, is the exact ELBO gradient
    (ELBO = log p(x) - KL(q ‖ p(z | x)) in closed form) with respect to μ, log σ (the score-function
    part) and the model's W (the pathwise part), within 4 standard errors; its value is the
    ELBO estimate."""
    model, x = toy()
    W = model.W.clone().requires_grad_()
    model.W = W
    g = torch.Generator().manual_seed(9)
    mu = (0.5 * torch.randn(4, 3, generator=g, dtype=torch.float64)).requires_grad_()
    log_sigma = (-0.5 + 0.2 * torch.randn(4, 3, generator=g, dtype=torch.float64)).requires_grad_()
    exact = torch.autograd.grad((model.log_evidence(x) - model.kl_to_posterior(x, mu, log_sigma)).sum(),
                                (mu, log_sigma, W))
    runs = []
    for _ in range(400):
        surrogate, value = vi.score_function_elbo(lambda z: model.log_joint(x, z), mu, log_sigma, 50,
                                                  generator=g)
        runs.append(torch.autograd.grad(surrogate.sum(), (mu, log_sigma, W)))
    for k, truth in enumerate(exact):
        grads = torch.stack([r[k] for r in runs])
        se = grads.std(0) / len(runs) ** 0.5
        assert ((grads.mean(0) - truth).abs() < 4 * se + 1e-9).all(), (k, grads.mean(0), truth)


def test_a_vae_trains_by_the_score_function_estimator():
    """Twenty epochs of the score-function ELBO (16 draws, leave-one-out baseline) raise a
    VAE's test ELBO on the digits by more than 10 nats; the estimator needs two draws."""
    from fastebm import data as datasets
    from fastebm.models import VAE
    from fastebm.objectives import ELBO
    from fastebm.training import Trainer

    split = datasets.digits()
    torch.manual_seed(0)
    model = VAE(64, 4, 64)
    g = torch.Generator().manual_seed(1)
    before = float(model.elbo(split.test, 10, generator=g).mean())
    Trainer(model, ELBO(16, estimator="score_function"), split.train, lr=3e-3, batch_size=100,
            progress=False).fit(20)
    with torch.no_grad():
        after = float(model.elbo(split.test, 10, generator=g).mean())
    assert after > before + 10, (before, after)
    with pytest.raises(ValueError, match="n_samples"):
        ELBO(1, estimator="score_function")
    with pytest.raises(ValueError, match="estimator"):
        ELBO(estimator="pathwise")


def test_bad_inputs():
    model, x = toy()
    zeros = torch.zeros(4, 3, dtype=torch.float64)
    with pytest.raises(ValueError, match="one shape"):
        vi.elbo(lambda z: model.log_likelihood(x, z), zeros, zeros[:, :2])
    with pytest.raises(ValueError, match="'log_sigma' contains NaN or Inf"):
        vi.elbo(lambda z: model.log_likelihood(x, z), zeros, torch.full_like(zeros, -float("inf")))
    with pytest.raises(ValueError, match="n_samples"):
        vi.importance_weighted_bound(lambda z: model.log_joint(x, z), zeros, zeros, 0)
    with pytest.raises(ValueError, match="noise_std"):
        vi.LinearGaussian(model.W, model.b, 0.0)


# ---------------------------------------------------------------- the VAE model

def test_vae_gaussian_decoder_custom_modules_and_bounds():
    """A Gaussian-decoder VAE with user modules: the ELBO is differentiable in every parameter,
    the IWAE bound with K = 200 is above the ELBO, and bad shapes are refused."""
    from torch import nn

    from fastebm.models import VAE

    torch.manual_seed(0)
    model = VAE(6, 2, likelihood="gaussian", encoder=nn.Linear(6, 4), decoder=nn.Linear(2, 6)).double()
    x = torch.randn(30, 6, dtype=torch.float64)
    g = torch.Generator().manual_seed(1)
    model.elbo(x, 4, generator=g).mean().backward()
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in model.parameters())
    assert model.iwae(x, 200, generator=g).mean() > model.elbo(x, 200, generator=g).mean()
    with pytest.raises(ValueError, match="x"):
        model.elbo(torch.randn(30, 5, dtype=torch.float64))
    with pytest.raises(ValueError, match="encoder"):
        VAE(6, 3, encoder=nn.Linear(6, 4)).elbo(torch.zeros(2, 6))
    with pytest.raises(ValueError, match="likelihood"):
        VAE(6, 2, likelihood="poisson")
