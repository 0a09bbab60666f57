"""Training a deep Boltzmann machine (Salakhutdinov & Hinton 2009): the positive phase by the
mean-field posterior of each data vector, the negative phase by persistent Gibbs chains."""

from __future__ import annotations

import torch

from ..checks import check_count
from .base import Objective
from .contrastive import check_batch


class MeanFieldPCD(Objective):
    """The DBM's likelihood gradient with the data term under the mean-field posterior μ(v)
    (``mean_field_steps`` fixed-point rounds) and the model term under persistent chains of the
    even units (``n_chains``, ``k`` fused sweeps per update), the odd units summed out:

        ∇θ [mean_data E(v, μ(v)) - mean_chains F(e)],   F(e) = -log Σ_o e^{-E(e, o)},

    i.e. ⟨x^l x^{l+1}ᵀ⟩ under q(h | v) minus its Rao-Blackwellised value under the model. The
    chains are in the state (checkpoints hold them; a resume is bit for bit)."""

    requires = ("mean_field", "free_energy_even", "gibbs", "random_even", "energy")
    model_example = "a fastebm.models.DBM"

    def __init__(self, n_chains: int = 100, k: int = 1, mean_field_steps: int = 10):
        self.n_chains, self.k = check_count(n_chains, "n_chains"), check_count(k, "k")
        self.mean_field_steps = check_count(mean_field_steps, "mean_field_steps")
        self.chains: torch.Tensor | None = None

    def compute_grads(self, model, v: torch.Tensor, generator=None) -> dict:
        check_batch(model, v)
        if self.chains is None:
            self.chains = model.random_even(self.n_chains, generator)
        elif self.chains.shape[1] != model.n_even:
            raise ValueError(f"the persistent chains hold {self.chains.shape[1]} even units, the "
                             f"model has {model.n_even}")
        mu = model.mean_field(v, self.mean_field_steps)
        with torch.no_grad():
            self.chains = model.gibbs(self.chains.to(v), self.k, generator=generator)[0]
        gap = model.energy([v, *mu]).mean() - model.free_energy_even(self.chains).mean()
        gap.backward()
        return {"energy_gap": gap.item()}

    def state_dict(self) -> dict:
        return {} if self.chains is None else {"chains": self.chains}

    def load_state_dict(self, state: dict) -> None:
        if set(state) - {"chains"}:
            raise ValueError(f"MeanFieldPCD keeps its chains only, got {sorted(state)}")
        self.chains = state.get("chains")
