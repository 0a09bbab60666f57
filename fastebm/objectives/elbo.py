"""The evidence lower bound as a training objective for latent-variable models with a
reparameterisable Gaussian posterior (a VAE's ``elbo``)."""

from __future__ import annotations

import torch

from ..checks import check_count, check_generator
from .base import Objective


class ELBO(Objective):
    """Maximise the ELBO (Kingma & Welling 2014): descend -mean ELBO(x) over the batch, each
    ELBO from ``n_samples`` reparameterised draws of q(z | x), the KL to the prior in closed form
    (``analytic_kl``) or by Monte Carlo. The model gives ``elbo(x, n_samples, analytic_kl=,
    generator=) -> [B]``."""

    requires = ("elbo",)
    model_example = "a VAE"

    def __init__(self, n_samples: int = 1, analytic_kl: bool = True):
        self.n_samples = check_count(n_samples, "n_samples")
        self.analytic_kl = bool(analytic_kl)

    def compute_grads(self, model, x: torch.Tensor, generator=None) -> dict:
        check_generator(generator)
        if not hasattr(model, "elbo"):
            raise TypeError(f"ELBO needs a model with elbo(x, n_samples, ...); "
                            f"{type(model).__name__} has none")
        value = model.elbo(x, self.n_samples, analytic_kl=self.analytic_kl,
                           generator=generator).mean()
        (-value).backward()
        return {"elbo": value.item()}

