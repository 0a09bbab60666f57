"""Variational inference with diagonal-Gaussian q(z) = N(μ, diag σ²):

    log p(x) = ELBO(q) + KL(q(z) ‖ p(z | x)),   ELBO(q) = E_q[log p(x, z) - log q(z)]
             = E_q[log p(x | z)] - KL(q(z) ‖ p(z)),

the two gradient estimators of an expectation E_q[f(z)] (score function / REINFORCE, with an
optional baseline, and reparameterisation z = μ + σ ⊙ ε through the fused ``ops.reparameterize``),
the importance-weighted bound (Burda, Grosse & Salakhutdinov 2016) and the conjugate linear-Gaussian
model, where the posterior and log p(x) are exact.

Shapes: μ, log σ, z [B, D] (B independent posteriors); log-densities [B]; S Monte-Carlo samples
stack in front: [S, B, D].
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch

from .. import ops
from ..checks import check_count, check_generator

LOG_2PI = math.log(2 * math.pi)


def _check_gaussian(mu: torch.Tensor, log_sigma: torch.Tensor) -> None:
    """One shape [B, D]; the values are checked by the draw that follows (ops.reparameterize
    refuses a NaN or Inf in μ or log σ, naming it)."""
    if mu.shape != log_sigma.shape or mu.dim() < 1:
        raise ValueError(f"mu and log_sigma must have one shape [B, D], got {list(mu.shape)} and "
                         f"{list(log_sigma.shape)}")


def gaussian_log_prob(z: torch.Tensor, mu: torch.Tensor, log_sigma: torch.Tensor) -> torch.Tensor:
    """[..., B] log N(z; μ, diag σ²) = -Σ_d [½((z - μ)/σ)² + log σ + ½ log 2π] over the last dim."""
    return -(0.5 * ((z - mu) / log_sigma.exp()).square() + log_sigma + 0.5 * LOG_2PI).sum(-1)


def gaussian_kl(mu: torch.Tensor, log_sigma: torch.Tensor, prior_mu: torch.Tensor | float = 0.0,
                prior_log_sigma: torch.Tensor | float = 0.0) -> torch.Tensor:
    """[B] KL(N(μ, σ²) ‖ N(μ₀, σ₀²)) in closed form, summed over the last dim:
    Σ_d [log σ₀/σ + (σ² + (μ - μ₀)²)/(2σ₀²) - ½] (the standard normal prior by default:
    Σ_d [½(μ² + σ²) - log σ - ½], its fewer operations)."""
    if isinstance(prior_mu, float) and isinstance(prior_log_sigma, float) and \
            prior_mu == 0.0 and prior_log_sigma == 0.0:
        return (0.5 * (mu.square() + (2 * log_sigma).exp()) - log_sigma - 0.5).sum(-1)
    prior_log_sigma = torch.as_tensor(prior_log_sigma, dtype=mu.dtype, device=mu.device)
    ratio = (log_sigma - prior_log_sigma).exp()
    return (prior_log_sigma - log_sigma + 0.5 * (ratio.square() + ((mu - prior_mu) / prior_log_sigma.exp()).square())
            - 0.5).sum(-1)


def sample_posterior(mu: torch.Tensor, log_sigma: torch.Tensor, n_samples: int = 1, *,
                     generator: torch.Generator | None = None) -> torch.Tensor:
    """[S, B, D] reparameterised draws z = μ + σ ⊙ ε (ops.reparameterize: differentiable in μ, log σ)."""
    check_count(n_samples, "n_samples")
    if n_samples == 1:  # the same draws as the expanded call, without its copies
        return ops.reparameterize(mu, log_sigma, generator=generator).unsqueeze(0)
    shape = (n_samples, *mu.shape)
    return ops.reparameterize(mu.expand(shape), log_sigma.expand(shape), generator=generator)


def elbo(log_likelihood: Callable[[torch.Tensor], torch.Tensor], mu: torch.Tensor,
         log_sigma: torch.Tensor, *, n_samples: int = 1, analytic_kl: bool = True,
         generator: torch.Generator | None = None) -> torch.Tensor:
    """[B] the ELBO of q = N(μ, σ²) under a standard-normal prior p(z) and a likelihood
    ``log_likelihood(z [S, B, D]) -> [S, B]`` = log p(x | z):

        ELBO = (1/S) Σ_s log p(x | z_s) - KL(q ‖ p)           (analytic_kl: KL in closed form)
             = (1/S) Σ_s [log p(x | z_s) + log p(z_s) - log q(z_s)]   (Monte-Carlo KL),

    z_s reparameterised, so the estimate is differentiable in μ, log σ and the likelihood's
    parameters."""
    _check_gaussian(mu, log_sigma)
    check_generator(generator)
    z = sample_posterior(mu, log_sigma, n_samples, generator=generator)
    fit = log_likelihood(z)
    fit = fit[0] if n_samples == 1 else fit.mean(0)
    if analytic_kl:
        return fit - gaussian_kl(mu, log_sigma)
    prior = gaussian_log_prob(z, torch.zeros_like(mu), torch.zeros_like(log_sigma))
    return fit + (prior - gaussian_log_prob(z, mu, log_sigma)).mean(0)


def importance_weighted_bound(log_joint: Callable[[torch.Tensor], torch.Tensor], mu: torch.Tensor,
                              log_sigma: torch.Tensor, n_samples: int, *,
                              generator: torch.Generator | None = None,
                              chunk: int = 1000) -> torch.Tensor:
    """[B] the IWAE bound (Burda et al. 2016) with K = n_samples draws of q:

        L_K = log (1/K) Σ_k p(x, z_k) / q(z_k),   L_1 = ELBO <= L_K <= L_{K+1} -> log p(x),

    ``log_joint(z [S, B, D]) -> [S, B]`` = log p(x, z); in chunks of ``chunk`` draws, combined by
    logsumexp (a log-likelihood estimate for large K)."""
    _check_gaussian(mu, log_sigma)
    check_count(n_samples, "n_samples")
    check_generator(generator)
    parts = []
    for start in range(0, n_samples, chunk):
        z = sample_posterior(mu, log_sigma, min(chunk, n_samples - start), generator=generator)
        parts.append(torch.logsumexp(log_joint(z) - gaussian_log_prob(z, mu, log_sigma), 0))
    return torch.logsumexp(torch.stack(parts), 0) - math.log(n_samples)


def score_function_grads(f: Callable[[torch.Tensor], torch.Tensor], mu: torch.Tensor,
                         log_sigma: torch.Tensor, n_samples: int, *, baseline: bool = False,
                         generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-sample score-function (REINFORCE; Williams 1992) estimates of ∇ E_q[f(z)] with respect to
    μ and log σ, each [S, B, D]:

        ∇ E_q[f] ≈ (f(z_s) - b) ∇ log q(z_s),  ∇_μ log q = (z - μ)/σ²,  ∇_{log σ} log q = ((z - μ)/σ)² - 1,

    z_s ~ q, no derivative of f needed. ``baseline``: b = the mean of the other S - 1 samples' f
    (leave-one-out, so each estimate stays unbiased), which cuts the variance; else b = 0."""
    _check_gaussian(mu, log_sigma)
    check_count(n_samples, "n_samples", 2 if baseline else 1)
    with torch.no_grad():
        z = sample_posterior(mu, log_sigma, n_samples, generator=generator)
        values = f(z)  # [S, B]
        if baseline:
            values = values - (values.sum(0, keepdim=True) - values) / (n_samples - 1)
        standard = (z - mu) / log_sigma.exp()
        weight = values[..., None]
        return weight * standard / log_sigma.exp(), weight * (standard.square() - 1)


def score_function_elbo(log_joint: Callable[[torch.Tensor], torch.Tensor], mu: torch.Tensor,
                        log_sigma: torch.Tensor, n_samples: int, *, baseline: bool = True,
                        generator: torch.Generator | None = None
                        ) -> tuple[torch.Tensor, torch.Tensor]:
    """([B] surrogate, [B] ELBO estimate) for training by the score-function (REINFORCE)
    estimator of the ELBO's gradient, from S = n_samples draws z_s ~ q taken without a pathwise
    gradient: the surrogate's gradient is

        ∇_φ ELBO ≈ (1/S) Σ_s (f(z_s) - b_s) ∇_φ log q(z_s),   f = log p(x, z) - log q(z),
        ∇_θ ELBO ≈ (1/S) Σ_s ∇_θ log p(x, z_s)

    (∇_φ f's own term, -∇_φ log q(z), has mean zero under q and is left out), b_s the mean of
    the other draws' f (leave-one-out: each term stays unbiased; S >= 2) with ``baseline``,
    else 0. ``log_joint(z [S, B, D]) -> [S, B]`` = log p(x, z), differentiable in θ."""
    _check_gaussian(mu, log_sigma)
    check_count(n_samples, "n_samples", 2 if baseline else 1)
    with torch.no_grad():
        z = sample_posterior(mu, log_sigma, n_samples, generator=generator)     # [S, B, D]
    log_q = gaussian_log_prob(z, mu, log_sigma)                                  # [S, B]
    joint = log_joint(z)                                                         # [S, B]
    f = (joint - log_q).detach()
    b = (f.sum(0, keepdim=True) - f) / (n_samples - 1) if baseline else 0.0
    return ((f - b) * log_q + joint).mean(0), f.mean(0)


def reparameterization_grads(f: Callable[[torch.Tensor], torch.Tensor], mu: torch.Tensor,
                             log_sigma: torch.Tensor, n_samples: int, *,
                             generator: torch.Generator | None = None
                             ) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-sample reparameterisation (pathwise) estimates of ∇ E_q[f(z)] with respect to μ and
    log σ, each [S, B, D]: z = μ + σ ⊙ ε, ∇_μ = ∇f(z), ∇_{log σ} = ∇f(z) ⊙ σ ⊙ ε (f differentiable;
    Kingma & Welling 2014)."""
    _check_gaussian(mu, log_sigma)
    check_count(n_samples, "n_samples")
    mu_s = mu.detach().expand(n_samples, *mu.shape).clone().requires_grad_()
    log_sigma_s = log_sigma.detach().expand(n_samples, *mu.shape).clone().requires_grad_()
    z = ops.reparameterize(mu_s, log_sigma_s, generator=generator)
    return torch.autograd.grad(f(z).sum(), (mu_s, log_sigma_s))


class LinearGaussian:
    """The conjugate model p(z) = N(0, I), p(x | z) = N(Wz + b, s² I), z ∈ ℝᴰ, x ∈ ℝᴺ, where
    everything is exact:

        p(z | x) = N(m, Σ),  Σ = (I + WᵀW/s²)⁻¹,  m = Σ Wᵀ(x - b)/s²,
        p(x) = N(b, WWᵀ + s² I).

    Args: W [N, D], b [N], noise_std s > 0 (float64 recommended)."""

    def __init__(self, W: torch.Tensor, b: torch.Tensor, noise_std: float):
        if W.dim() != 2 or b.shape != W.shape[:1]:
            raise ValueError(f"W must be [N, D] and b [N], got {list(W.shape)} and {list(b.shape)}")
        if not noise_std > 0 or not math.isfinite(noise_std):
            raise ValueError(f"noise_std must be finite and > 0, got {noise_std}")
        self.W, self.b, self.noise_std = W, b, float(noise_std)

    def log_likelihood(self, x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        """[..., B] log p(x | z) for x [B, N], z [..., B, D]."""
        mean = z @ self.W.T + self.b
        log_s = torch.full_like(mean, math.log(self.noise_std))
        return gaussian_log_prob(x, mean, log_s)

    def log_joint(self, x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        """[..., B] log p(x, z) = log p(x | z) + log N(z; 0, I)."""
        return self.log_likelihood(x, z) - 0.5 * (z.square() + LOG_2PI).sum(-1)

    def posterior(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(m [B, D], Σ [D, D]) of the exact posterior p(z | x)."""
        D = self.W.shape[1]
        precision = torch.eye(D, dtype=self.W.dtype, device=self.W.device) + self.W.T @ self.W / self.noise_std**2
        cov = torch.linalg.inv(precision)
        return (x - self.b) @ self.W @ cov / self.noise_std**2, cov

    def log_evidence(self, x: torch.Tensor) -> torch.Tensor:
        """[B] log p(x) = log N(x; b, WWᵀ + s² I)."""
        N = self.W.shape[0]
        cov = self.W @ self.W.T + self.noise_std**2 * torch.eye(N, dtype=self.W.dtype, device=self.W.device)
        return torch.distributions.MultivariateNormal(self.b, cov).log_prob(x)

    def kl_to_posterior(self, x: torch.Tensor, mu: torch.Tensor, log_sigma: torch.Tensor) -> torch.Tensor:
        """[B] KL(N(μ, diag σ²) ‖ p(z | x)) exactly (Gaussians in closed form)."""
        m, cov = self.posterior(x)
        q = torch.distributions.MultivariateNormal(mu, torch.diag_embed((2 * log_sigma).exp()))
        return torch.distributions.kl_divergence(q, torch.distributions.MultivariateNormal(m, cov))
