"""Energy models trained with SVGD's Stein direction (Liu & Wang 2017, "Learning deep energy
models: contrastive divergence vs. amortized MLE"): Stein CD, whose negatives are SVGD steps from
the data, SteinGAN (Wang & Liu 2016), whose negatives come from a generator trained by
amortized SVGD on the current model, and the two together (SteinCDGAN: both gaps, weighted).

Both work on a continuous model of x [B, D] with p(x) ∝ exp(-U(x)): U is a real-visible Gibbs
model's free energy F (e.g. a GaussianBernoulliRBM) or an energy model's E (EnergyModel,
GaussianEnergy).
"""

from __future__ import annotations

from typing import Callable

import torch

from ..checks import check_count, check_generator, check_real
from ..models.energy import check_states
from ..samplers.amortized_svgd import AmortizedSVGD
from ..samplers.svgd import stein_direction, target_score
from .contrastive import check_batch, energy_gap_grads
from .base import Objective


def stein_energy(model) -> Callable[[torch.Tensor], torch.Tensor]:
    """U: x [B, D] -> [B] of a continuous model (its free energy or energy); TypeError for a
    binary or a non-energy model."""
    if hasattr(model, "free_energy") and hasattr(model, "visible_domain"):
        if model.visible_domain != "real":
            raise TypeError(f"Stein objectives move particles continuously; "
                            f"{type(model).__name__} has {model.visible_domain!r} visibles")
        return model.free_energy
    if hasattr(model, "energy") and hasattr(model, "event_shape"):
        if len(model.event_shape) != 1:
            raise ValueError(f"Stein objectives take flat states [B, D]; the model's event shape "
                             f"is {tuple(model.event_shape)}")
        return model.energy
    raise TypeError(f"{type(model).__name__} is neither a real-visible Gibbs model (free_energy) "
                    f"nor an energy model (energy, event_shape)")


def _check_batch(model, x: torch.Tensor) -> None:
    if hasattr(model, "event_shape"):
        check_states(model, x, "batch")
    else:
        check_batch(model, x)
    if len(x) < 2:
        raise ValueError(f"Stein objectives need batches of at least 2 examples, got {len(x)}")


class SteinCD(Objective):
    """Stein contrastive divergence: CD whose negative phase is n_steps SVGD steps of the batch itself,

        x' = x + ε φ(x),  φᵢ = 1/(n-1) Σ_{j≠i} [k(xⱼ, xᵢ) ∇log p(xⱼ) + ∇_{xⱼ} k(xⱼ, xᵢ)],

    (plain steps on ``ops.svgd_rbf``, the particles being the data batch), then the gradient of
    mean U(x) - mean U(x') with x' fixed. As ε → 0 this descends the kernelized Stein discrepancy
    between the data and the model.

    φ is the leave-one-out form (``samplers.svgd.stein_direction``): for a model equal to the
    data's distribution its mean is 0 at every batch size, so the data's distribution is a
    fixed point. Liu & Wang's φ* (``exclude_self=False``) keeps the j = i term, and then the
    fixed point is a model wider than the data: a batch of n true draws is not a fixed point of
    SVGD, which under-disperses (8% in covariance at n = 200 in 2-D; 2.8× the variance of a
    64-D Gaussian at n = 100, measured).

    Args:
        step_size: ε > 0. n_steps: SVGD steps (>= 1). bandwidth: h (None: the median heuristic).
        exclude_self: the leave-one-out φ (default) or Liu & Wang's φ*.
    """

    def __init__(self, step_size: float = 0.1, n_steps: int = 1, bandwidth: float | None = None,
                 exclude_self: bool = True):
        self.step_size = check_real(step_size, "step_size", low=0.0, low_open=True)
        self.n_steps = check_count(n_steps, "n_steps")
        self.bandwidth = None if bandwidth is None else check_real(bandwidth, "bandwidth", low=0.0,
                                                                   low_open=True)
        self.exclude_self = bool(exclude_self)

    def negatives(self, energy, x: torch.Tensor) -> tuple[torch.Tensor, dict]:
        """(the batch after n_steps SVGD steps under U = ``energy``, {"bandwidth": h})."""
        negatives = x.detach()
        for _ in range(self.n_steps):
            score = target_score(negatives, lambda z: -energy(z))
            phi, h = stein_direction(negatives, score, self.bandwidth, self.exclude_self)
            negatives = negatives + self.step_size * phi
        return negatives, {"bandwidth": h.item()}

    def compute_grads(self, model, x: torch.Tensor, generator=None) -> dict:
        energy = stein_energy(model)
        _check_batch(model, x)
        check_generator(generator)
        negatives, metrics = self.negatives(energy, x)
        return {**energy_gap_grads(energy, x, negatives), **metrics}



class SteinGAN(Objective):
    """Amortized MLE (SteinGAN): each step

    1. the generator G moves toward the current model p ∝ exp(-U) by one amortized-SVGD step
       (:class:`fastebm.samplers.AmortizedSVGD`: η ← η + ε Σᵢ ∂η G(ξᵢ) φ*(G(ξᵢ)));
    2. the model gets the likelihood gradient with those generator samples as negatives:
       ∇θ [mean U(x_data) - mean U(G(ξ))].

    The generator (its weights and Adam state) is part of the objective's state, so checkpoints
    hold it and a resumed run continues it.

    Args:
        sampler: the AmortizedSVGD whose generator draws the negatives (its n_particles
            negatives per step).
    """

    def __init__(self, sampler: AmortizedSVGD):
        if not isinstance(sampler, AmortizedSVGD):
            raise TypeError(f"sampler must be a fastebm.samplers.AmortizedSVGD, got "
                            f"{type(sampler).__name__}")
        self.sampler = sampler

    def negatives(self, energy, x: torch.Tensor, generator) -> tuple[torch.Tensor, dict]:
        """(the generator's samples after its amortized-SVGD step toward U = ``energy``, the
        step's metrics)."""
        def score(y):  # [n, D] -> ∇log p [n, D], once the generator's shape is checked
            if y.shape[1:] != x.shape[1:]:
                raise ValueError(f"the generator's samples {list(y.shape)} do not match the "
                                 f"data's shape {list(x.shape)}")
            return target_score(y, lambda z: -energy(z))

        return self.sampler.update(score, generator=generator)

    def compute_grads(self, model, x: torch.Tensor, generator=None) -> dict:
        energy = stein_energy(model)
        _check_batch(model, x)
        check_generator(generator)
        negatives, metrics = self.negatives(energy, x, generator)
        return {**energy_gap_grads(energy, x, negatives), **metrics}

    def state_dict(self) -> dict:
        return {"sampler": self.sampler.state_dict()}

    def load_state_dict(self, state: dict) -> None:
        if "sampler" in state:
            self.sampler.load_state_dict(state["sampler"])


class SteinCDGAN(Objective):
    """Stein CD and SteinGAN together: each step the generator moves as SteinGAN's, and the
    model descends the weighted sum of both energy gaps,

        ∇θ [mean U(x) - w · mean U(x'_SVGD) - (1 - w) · mean U(G(ξ))],

    x'_SVGD the batch after Stein CD's SVGD steps (a local, data-anchored negative phase) and
    G(ξ) the generator's samples (a global one, which can reach modes far from the batch).

    Args:
        sampler: the AmortizedSVGD of SteinGAN. step_size, n_steps, bandwidth: Stein CD's.
        weight: w in [0, 1], Stein CD's share.
    """

    def __init__(self, sampler: AmortizedSVGD, step_size: float = 0.1, n_steps: int = 1,
                 bandwidth: float | None = None, weight: float = 0.5):
        self.cd = SteinCD(step_size, n_steps, bandwidth)
        self.gan = SteinGAN(sampler)
        self.weight = check_real(weight, "weight", low=0.0, high=1.0)

    @property
    def sampler(self) -> AmortizedSVGD:
        return self.gan.sampler

    def compute_grads(self, model, x: torch.Tensor, generator=None) -> dict:
        energy = stein_energy(model)
        _check_batch(model, x)
        check_generator(generator)
        local, cd_metrics = self.cd.negatives(energy, x)
        far, gan_metrics = self.gan.negatives(energy, x, generator)
        return {**energy_gap_grads(energy, x, local, "energy_gap_cd", self.weight),
                **energy_gap_grads(energy, x, far, "energy_gap_gan", 1 - self.weight),
                **cd_metrics, **gan_metrics}

    def state_dict(self) -> dict:
        return self.gan.state_dict()

    def load_state_dict(self, state: dict) -> None:
        self.gan.load_state_dict(state)
