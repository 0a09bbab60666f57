"""Maximum likelihood for continuous energy models by stochastic approximation (SML / PCD for
continuous x; Younes 1989, Tieleman 2008; with the replay buffer and energy regulariser of Du &
Mordatch 2019): negatives from a Langevin / MALA / HMC sampler of the current model."""

from __future__ import annotations

import torch

from ..checks import check_generator, check_real
from ..models.energy import check_states
from .base import Objective


class MaximumLikelihood(Objective):
    """The likelihood gradient ∇θ log p_θ(x) = -∇θE(x) + E_{p_θ}[∇θE], estimated as

        J(θ) = mean E(x_data) - mean E(x_model) + α (mean E(x_data)² + mean E(x_model)²)

    with x_model = sampler.sample(B) (held fixed) and α the energy-magnitude regulariser.

    Args:
        sampler: a fastebm.samplers ContinuousSampler of the model (e.g. LangevinSampler with a
            replay buffer: persistent chains).
        alpha: >= 0.
    """

    requires = ("energy", "event_shape")
    model_example = "an EnergyModel"

    def __init__(self, sampler, alpha: float = 0.0):
        if not hasattr(sampler, "sample") or not hasattr(sampler, "state_dict"):
            raise TypeError("sampler must be a fastebm sampler (LangevinSampler, HMCSampler)")
        self.sampler = sampler
        self.alpha = check_real(alpha, "alpha", low=0.0)

    def compute_grads(self, model, x: torch.Tensor, generator=None) -> dict:
        check_states(model, x, "batch")
        check_generator(generator)
        if self.sampler.model is not model:
            raise ValueError("the sampler must sample the model being trained")
        negatives = self.sampler.sample(len(x), generator=generator).detach()
        e_data, e_model = model.energy(x), model.energy(negatives)
        gap = e_data.mean() - e_model.mean()
        loss = gap + self.alpha * (e_data.square().mean() + e_model.square().mean())
        loss.backward()
        metrics = {"energy_gap": gap.item()}
        if self.sampler.accept_rate is not None:
            metrics["accept_rate"] = self.sampler.accept_rate
        return metrics

    def state_dict(self) -> dict:
        return {"sampler": self.sampler.state_dict()}

    def load_state_dict(self, state: dict) -> None:
        if "sampler" in state:
            self.sampler.load_state_dict(state["sampler"])
