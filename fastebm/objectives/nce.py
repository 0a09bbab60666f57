"""Noise-contrastive estimation (Gutmann & Hyvärinen 2010) for continuous energy models: the
model log p_θ(x) = -E(x) - c with a learnable log normaliser c (the model's ``log_normalizer``
parameter), told apart from a Gaussian noise distribution fitted to the data, ν noise samples per
data sample."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from ..checks import check_real, check_tensor_finite
from .loss_objective import LossObjective


class NCE(LossObjective):
    """NCE: with G(x) = log p_θ(x) - log(ν p_n(x)), minimise

        J(θ) = -E_data[log σ(G(x))] - ν E_noise[log(1 - σ(G(y)))],

    whose minimiser is the data density with c its log normaliser (Gutmann & Hyvärinen 2010).

    Args:
        nu: noise samples per data sample, > 0.
        noise: a torch.distributions distribution over one sample (``sample``, ``log_prob``),
            or None: a Gaussian fitted to the data by :meth:`fit_noise` (at the latest on the
            first batch).
    """

    requires = ("energy", "event_shape")
    model_example = "an EnergyModel"

    def __init__(self, nu: float = 1.0, noise: torch.distributions.Distribution | None = None):
        self.nu = check_real(nu, "nu", low=0.0, low_open=True)
        if noise is not None and not (hasattr(noise, "sample") and hasattr(noise, "log_prob")):
            raise TypeError("noise must be a torch.distributions distribution or None")
        self.noise = noise
        self._fitted: dict | None = None

    def fit_noise(self, x: torch.Tensor) -> None:
        """The noise N(mean, cov) of x [N, ...] (flattened; the covariance ridged by 1e-4 of its
        mean variance so that it is positive definite)."""
        if not isinstance(x, torch.Tensor) or x.dim() < 2 or len(x) < 2:
            raise ValueError("fit_noise needs a tensor of at least 2 samples [N, ...]")
        check_tensor_finite(x, "x")
        flat = x.detach().flatten(1).double()
        cov = torch.cov(flat.T).reshape(flat.shape[1], flat.shape[1])
        cov = cov + 1e-4 * cov.diagonal().mean().clamp_min(1e-12) * torch.eye(len(cov), dtype=cov.dtype)
        self._set_noise({"mean": flat.mean(0), "cov": cov})

    def _set_noise(self, fitted: dict) -> None:
        self._fitted = fitted
        self.noise = torch.distributions.MultivariateNormal(fitted["mean"], fitted["cov"])

    def loss(self, model, x: torch.Tensor, generator=None) -> torch.Tensor:
        log_c = getattr(model, "log_normalizer", None)
        if not isinstance(log_c, torch.nn.Parameter):
            raise TypeError("NCE needs a model with a learnable log normaliser: "
                            "EnergyModel(..., learn_log_normalizer=True)")
        if self.noise is None:
            self.fit_noise(x)
        n_noise = max(1, round(self.nu * len(x)))
        with torch.random.fork_rng(devices=[]):
            if generator is not None:
                torch.manual_seed(int(torch.randint(2**62, (), generator=generator)))
            y = self.noise.sample((n_noise,))
        y = y.to(x).reshape(n_noise, *x.shape[1:])
        log_nu = math.log(self.nu)

        def g(z):  # G(z) = -E(z) - c - log ν - log p_n(z)
            log_noise = self.noise.log_prob(z.detach().flatten(1).to(self.noise.mean)).to(z)
            return -model.energy(z) - log_c - log_nu - log_noise

        # -log σ(G) = softplus(-G); -log(1 - σ(G)) = softplus(G).
        return F.softplus(-g(x)).mean() + self.nu * F.softplus(g(y)).mean()

    def state_dict(self) -> dict:
        return {} if self._fitted is None else {"noise": self._fitted}

    def load_state_dict(self, state: dict) -> None:
        if "noise" in state:
            self._set_noise(state["noise"])
