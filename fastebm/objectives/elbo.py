"""The evidence lower bound as a training objective for latent-variable models with a
reparameterisable Gaussian posterior (a VAE's ``elbo``)."""

from __future__ import annotations

import torch

from ..checks import check_choice, check_count, check_generator
from .base import Objective


#: The ELBO's gradient estimators (Kingma & Welling 2014's reparameterisation; the score
#: function, REINFORCE, with a leave-one-out baseline).
ESTIMATORS = ("reparameterization", "score_function")


class ELBO(Objective):
    """Maximise the ELBO (Kingma & Welling 2014): descend -mean ELBO(x) over the batch, each
    ELBO from ``n_samples`` draws of q(z | x). ``estimator``: "reparameterization" (pathwise
    draws; the KL to the prior in closed form with ``analytic_kl``, else by Monte Carlo; the
    model gives ``elbo(x, n_samples, analytic_kl=, generator=) -> [B]``) or "score_function"
    (REINFORCE with a leave-one-out baseline, n_samples >= 2; the model gives
    ``score_function_elbo(x, n_samples, generator=) -> ([B] surrogate, [B] ELBO)``)."""

    model_example = "a VAE"

    def __init__(self, n_samples: int = 1, analytic_kl: bool = True,
                 estimator: str = "reparameterization"):
        self.estimator = check_choice(estimator, ESTIMATORS, "estimator")
        self.n_samples = check_count(n_samples, "n_samples", 2 if estimator == "score_function" else 1)
        self.analytic_kl = bool(analytic_kl)
        self.requires = ("score_function_elbo",) if estimator == "score_function" else ("elbo",)

    def compute_grads(self, model, x: torch.Tensor, generator=None) -> dict:
        check_generator(generator)
        missing = [name for name in self.requires if not hasattr(model, name)]
        if missing:
            raise TypeError(f"ELBO({self.estimator!r}) needs a model with {missing[0]}(x, "
                            f"n_samples, ...); {type(model).__name__} has none")
        if self.estimator == "score_function":
            surrogate, value = model.score_function_elbo(x, self.n_samples, generator=generator)
            (-surrogate.mean()).backward()
            return {"elbo": float(value.mean())}
        value = model.elbo(x, self.n_samples, analytic_kl=self.analytic_kl,
                           generator=generator).mean()
        (-value).backward()
        return {"elbo": value.item()}
