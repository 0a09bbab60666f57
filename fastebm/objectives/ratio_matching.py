"""Ratio matching (Hyvärinen 2007) for models with binary visible units."""

from __future__ import annotations

import torch

from ..checks import check_generator
from ..models.base import check_visible
from .pseudo_likelihood import check_binary_model, site_log_conditionals
from .base import Objective


def ratio_matching_loss(model, v: torch.Tensor) -> torch.Tensor:
    """[B] Σᵢ g(p(v) / p(v̄ⁱ))² with g(u) = 1 / (1 + u) and v̄ⁱ = v with bit i flipped (Hyvärinen
    2007, "Some extensions of score matching", §5; Marlin et al. 2010): since
    g(p(v)/p(v̄ⁱ)) = σ(F(v) - F(v̄ⁱ)) = 1 - p(vᵢ | v₋ᵢ), the loss is Σᵢ (1 - p(vᵢ | v₋ᵢ))². Its
    expectation under the data is, up to a constant, the squared distance between the data's and
    the model's ratios p(v)/p(v̄ⁱ), so it needs no partition function and is consistent."""
    check_binary_model(model, "ratio matching")
    v = check_visible(model, v, "v", allow_empty=True)
    return (-torch.expm1(site_log_conditionals(model, v))).square().sum(1)


class RatioMatching(Objective):
    """Ratio matching (Hyvärinen 2007): descend mean Σᵢ (1 - p(vᵢ | v₋ᵢ))² over the batch."""

    requires = ("free_energy", "visible_domain")
    model_example = "a BernoulliRBM or an Ising2D"

    def compute_grads(self, model, v: torch.Tensor, generator=None) -> dict:
        check_generator(generator)
        loss = ratio_matching_loss(model, v).mean()
        loss.backward()
        return {"ratio_matching_loss": loss.item()}

