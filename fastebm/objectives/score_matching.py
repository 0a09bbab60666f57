"""Score matching for continuous energy models p(x) ∝ exp(-E(x)), model score s(x) = -∇ₓE(x),
without the normaliser: exact (Hyvärinen 2005), sliced (Song, Garg, Shi & Ermon 2019) and
denoising (Vincent 2011; several noise levels as Song & Ermon 2019).

Each objective's ``loss(model, x, generator)`` is the batch estimate (differentiable in the
parameters); ``compute_grads`` backpropagates it and returns ``{"loss": value}``.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from ..checks import check_count, check_real
from ..ops.seeds import randn_like
from .loss_objective import LossObjective


def _energy_grad_with_graph(model, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(x with requires_grad, ∇ₓE(x) [B, ...]) with the graph kept for second derivatives and the
    parameters' gradients."""
    x = x.detach().requires_grad_(True)
    (grad,) = torch.autograd.grad(model.energy(x).sum(), x, create_graph=True)
    return x, grad


class ScoreMatching(LossObjective):
    """Exact score matching (Hyvärinen 2005):

        J(θ) = E_data[ ½‖∇ₓE(x)‖² - tr ∇²ₓE(x) ],

    the Fisher divergence to the data up to a constant. The Hessian's trace takes one
    backward pass per input dimension: for small event sizes (D ≤ ``max_dim``)."""

    requires = ("energy", "event_shape")
    model_example = "an EnergyModel"

    def __init__(self, max_dim: int = 64):
        self.max_dim = check_count(max_dim, "max_dim")

    def loss(self, model, x: torch.Tensor, generator=None) -> torch.Tensor:
        D = x[0].numel()
        if D > self.max_dim:
            raise ValueError(f"exact score matching takes one backward pass per dimension; "
                             f"{D} > max_dim = {self.max_dim}: use SlicedScoreMatching")
        x, grad = _energy_grad_with_graph(model, x)
        flat = grad.reshape(len(x), D)
        trace = sum(torch.autograd.grad(flat[:, d].sum(), x, create_graph=True)[0].reshape(len(x), D)[:, d]
                    for d in range(D))
        return (0.5 * flat.square().sum(1) - trace).mean()


class SlicedScoreMatching(LossObjective):
    """Sliced score matching (Song et al. 2019): random projections v ~ N(0, I),

        J(θ) = E_data E_v[ -vᵀ∇²ₓE(x) v + ½ (vᵀ∇ₓE(x))² ]

    (the variance-reduced SSM-VR replaces ½ (vᵀ∇E)² by its mean over v, ½‖∇E‖²). One
    Hessian-vector product per projection, any dimension."""

    requires = ("energy", "event_shape")
    model_example = "an EnergyModel"

    def __init__(self, n_projections: int = 1, variance_reduced: bool = True):
        self.n_projections = check_count(n_projections, "n_projections")
        self.variance_reduced = bool(variance_reduced)

    def loss(self, model, x: torch.Tensor, generator=None) -> torch.Tensor:
        x, grad = _energy_grad_with_graph(model, x)
        total = 0.0
        for _ in range(self.n_projections):
            v = randn_like(x, generator)
            grad_v = (grad * v).flatten(1).sum(1)  # vᵀ∇E [B]
            (hvp,) = torch.autograd.grad(grad_v.sum(), x, create_graph=True)  # ∇²E v
            quadratic = 0.5 * (grad.flatten(1).square().sum(1) if self.variance_reduced
                               else grad_v.square())
            total = total + (quadratic - (hvp * v).flatten(1).sum(1)).mean()
        return total / self.n_projections


class DenoisingScoreMatching(LossObjective):
    """Denoising score matching (Vincent 2011): x̃ = x + σε, ε ~ N(0, I), and

        J(θ) = E_data E_ε[ ½ ‖σ ∇ₓE(x̃) - ε‖² ]

    (the σ²-weighted ‖s(x̃) + ε/σ‖²: the model learns the score of the data smoothed by N(0, σ²I)).
    With several σ each example draws one uniformly (Song & Ermon 2019's weighting)."""

    requires = ("energy", "event_shape")
    model_example = "an EnergyModel"

    def __init__(self, sigmas: float | Sequence[float] = 0.1):
        sigmas = [sigmas] if isinstance(sigmas, (int, float)) else list(sigmas)
        if not sigmas:
            raise ValueError("sigmas must hold at least one noise level")
        self.sigmas = [check_real(s, "sigmas", low=0.0, low_open=True) for s in sigmas]

    def loss(self, model, x: torch.Tensor, generator=None) -> torch.Tensor:
        device = "cpu" if generator is None else generator.device
        index = torch.randint(len(self.sigmas), (len(x),), generator=generator, device=device)
        sigma = torch.tensor(self.sigmas, dtype=x.dtype, device=device)[index].to(x.device)
        sigma = sigma.reshape(-1, *([1] * (x.dim() - 1)))
        eps = randn_like(x, generator)
        noisy = x.detach() + sigma * eps
        _, grad = _energy_grad_with_graph(model, noisy)
        return 0.5 * (sigma * grad - eps).flatten(1).square().sum(1).mean()
