"""The variational autoencoder (Kingma & Welling 2014; Rezende, Mohamed & Wierstra 2014) as an
``nn.Module``: a Gaussian encoder q(z | x) = N(μ(x), diag σ(x)²), a standard-normal prior and a
Bernoulli or Gaussian decoder p(x | z)."""

from __future__ import annotations

import math

import torch
from torch import nn

from ..checks import check_count, check_generator
from . import variational
from .base import check_visible, first_parameter

LIKELIHOODS = ("bernoulli", "gaussian")


def mlp(sizes: list[int]) -> nn.Sequential:
    """Linear layers of the given widths with SiLU between them."""
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(zip(sizes, sizes[1:])):
        layers.append(nn.Linear(a, b))
        if i < len(sizes) - 2:
            layers.append(nn.SiLU())
    return nn.Sequential(*layers)


class VAE(nn.Module):
    """A VAE on x [B, V]: ``encoder(x) -> [B, 2D]`` gives (μ, log σ) of q(z | x); ``decoder(z
    [..., D]) -> [..., V]`` gives the Bernoulli logits of p(x | z) (``likelihood="bernoulli"``,
    x ∈ {0,1}^V) or the Gaussian means, with a learnt per-pixel log scale (``"gaussian"``).
    Defaults: MLPs V → hidden → hidden → 2D and D → hidden → hidden → V; any ``nn.Module`` of
    those shapes may be given instead.

    log p(x) >= ELBO(x) = E_q[log p(x | z)] - KL(q(z | x) ‖ N(0, I)) (``elbo``), and the
    importance-weighted bound L_K (``iwae``) tightens it to log p(x) as K grows."""

    def __init__(self, n_visible: int, n_latent: int, hidden: int = 256, *,
                 likelihood: str = "bernoulli", encoder: nn.Module | None = None,
                 decoder: nn.Module | None = None):
        super().__init__()
        for value, name in ((n_visible, "n_visible"), (n_latent, "n_latent"), (hidden, "hidden")):
            check_count(value, name)
        if likelihood not in LIKELIHOODS:
            raise ValueError(f"likelihood must be one of {LIKELIHOODS}, got {likelihood!r}")
        self.n_visible, self.n_latent, self.likelihood = n_visible, n_latent, likelihood
        self.visible_domain = "binary" if likelihood == "bernoulli" else "real"
        self.encoder = encoder or mlp([n_visible, hidden, hidden, 2 * n_latent])
        self.decoder = decoder or mlp([n_latent, hidden, hidden, n_visible])
        if likelihood == "gaussian":
            self.log_scale = nn.Parameter(torch.zeros(n_visible))

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(μ [B, D], log σ [B, D]) of q(z | x)."""
        out = self.encoder(x)
        if out.shape != (len(x), 2 * self.n_latent):
            raise ValueError(f"the encoder must give [B, {2 * self.n_latent}], got {list(out.shape)}")
        return out[:, :self.n_latent], out[:, self.n_latent:]

    def log_likelihood(self, x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        """[..., B] log p(x | z) for x [B, V], z [..., B, D] (the decoder sees z as rows [N, D])."""
        out = self.decoder(z.reshape(-1, z.shape[-1])).reshape(*z.shape[:-1], -1)
        if self.likelihood == "bernoulli":
            return -nn.functional.binary_cross_entropy_with_logits(
                out, x.expand_as(out), reduction="none").sum(-1)
        return variational.gaussian_log_prob(x, out, self.log_scale.expand_as(out))

    def log_joint(self, x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        """[..., B] log p(x, z) = log p(x | z) + log N(z; 0, I)."""
        return self.log_likelihood(x, z) - 0.5 * (z.square() + variational.LOG_2PI).sum(-1)

    def elbo(self, x: torch.Tensor, n_samples: int = 1, *, analytic_kl: bool = True,
             generator: torch.Generator | None = None) -> torch.Tensor:
        """[B] the ELBO (fastebm.models.variational.elbo), reparameterised: differentiable in every parameter."""
        x = check_visible(self, x, "x")
        mu, log_sigma = self.encode(x)
        return variational.elbo(lambda z: self.log_likelihood(x, z), mu, log_sigma, n_samples=n_samples,
                       analytic_kl=analytic_kl, generator=generator)

    def score_function_elbo(self, x: torch.Tensor, n_samples: int = 16, *,
                            generator: torch.Generator | None = None
                            ) -> tuple[torch.Tensor, torch.Tensor]:
        """([B] surrogate, [B] ELBO estimate): training by the score-function estimator with a
        leave-one-out baseline (fastebm.models.variational.score_function_elbo), n_samples >= 2
        draws of q(z | x) per image."""
        x = check_visible(self, x, "x")
        mu, log_sigma = self.encode(x)
        return variational.score_function_elbo(lambda z: self.log_joint(x, z), mu, log_sigma,
                                               n_samples, generator=generator)

    @torch.no_grad()
    def iwae(self, x: torch.Tensor, n_samples: int = 5000, *,
             generator: torch.Generator | None = None) -> torch.Tensor:
        """[B] the importance-weighted bound L_K with K = n_samples (a log p(x) estimate)."""
        x = check_visible(self, x, "x")
        mu, log_sigma = self.encode(x)
        return variational.importance_weighted_bound(lambda z: self.log_joint(x, z), mu, log_sigma,
                                            n_samples, generator=generator)

    @torch.no_grad()
    def sample(self, n: int, *, generator: torch.Generator | None = None) -> torch.Tensor:
        """[n, V] the decoder's mean E[x | z] (Bernoulli probabilities or Gaussian means) for
        z ~ N(0, I)."""
        check_count(n, "n")
        check_generator(generator)
        first = first_parameter(self)
        z = torch.randn(n, self.n_latent, generator=generator, dtype=first.dtype).to(first.device)
        out = self.decoder(z)
        return torch.sigmoid(out) if self.likelihood == "bernoulli" else out

    @torch.no_grad()
    def reconstruct(self, x: torch.Tensor) -> torch.Tensor:
        """[B, V] the decoder's mean at z = μ(x)."""
        out = self.decoder(self.encode(check_visible(self, x, "x"))[0])
        return torch.sigmoid(out) if self.likelihood == "bernoulli" else out

    def gradient_variances(self, x: torch.Tensor, n_samples: int = 100, *,
                           generator: torch.Generator | None = None) -> dict:
        """The variance over ``n_samples`` one-sample estimates of ∇_{μ, log σ} E_q[log p(x | z)]
        on the batch x, summed over the batch's latent coordinates, by each estimator: score
        function, score function with a leave-one-out baseline, reparameterisation (the gradient
        that reaches the encoder's outputs)."""
        x = check_visible(self, x, "x")
        with torch.no_grad():
            mu, log_sigma = self.encode(x)

        def fit(z):
            return self.log_likelihood(x, z)

        runs = {"score_function": variational.score_function_grads(fit, mu, log_sigma, n_samples, generator=generator),
                "score_function_baseline": variational.score_function_grads(fit, mu, log_sigma, n_samples,
                                                                   baseline=True, generator=generator),
                "reparameterization": variational.reparameterization_grads(fit, mu, log_sigma, n_samples,
                                                                  generator=generator)}
        return {name: float(sum(g.var(0).sum() for g in grads)) / math.prod(mu.shape)
                for name, grads in runs.items()}
