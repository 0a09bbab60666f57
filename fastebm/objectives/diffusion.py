"""Training objectives of diffusion models."""

from __future__ import annotations

import torch

from ..models.diffusion import NoiseSchedule
from ..ops.seeds import randn_like
from .loss_objective import LossObjective


class DenoisingDiffusion(LossObjective):
    """DDPM's ε-prediction objective (Ho et al. 2020, L_simple):

        L(θ) = E_{x₀, t ~ U{0..T-1}, ε ~ N(0, I)} ‖ε - ε̂_θ(√ᾱ_t x₀ + √(1-ᾱ_t) ε, t)‖²

    (mean over the elements): the variational bound's terms with their weights dropped. The
    model is the denoiser ``net(x_t, t)`` (with an ``event_shape``).

    Args:
        schedule: the forward NoiseSchedule.
    """

    requires = ("event_shape",)
    model_example = "an MLPDenoiser"

    def __init__(self, schedule: NoiseSchedule):
        if not isinstance(schedule, NoiseSchedule):
            raise TypeError(f"schedule must be a NoiseSchedule, got {type(schedule).__name__}")
        self.schedule = schedule

    def loss(self, model, x: torch.Tensor, generator=None) -> torch.Tensor:
        device = "cpu" if generator is None else generator.device
        t = torch.randint(0, self.schedule.n_timesteps, (x.shape[0],), generator=generator,
                          device=device).to(x.device)
        noise = randn_like(x, generator)
        return (model(self.schedule.q_sample(x, t, noise), t) - noise).square().mean()


class DiffusionBound(LossObjective):
    """Sohl-Dickstein et al. 2015's training objective: maximise the lower bound K on log p(x⁰)
    (models.nonequilibrium.NonequilibriumDiffusion.bound, eq. 14: Gaussian or binomial), one random step per sample:
    loss = -mean K (nats per sample). With the model's learnt βs, gradient ascent on K also
    shapes the forward schedule (the draws' noise frozen by reparameterisation)."""

    requires = ("bound", "event_shape")
    model_example = "a GaussianDiffusion"

    def loss(self, model, x: torch.Tensor, generator=None) -> torch.Tensor:
        return -model.bound(x, generator).mean()
