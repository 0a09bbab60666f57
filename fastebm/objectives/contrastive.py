"""Contrastive divergence (Hinton 2002) and persistent CD / SML (Younes 1989; Tieleman 2008)."""

from __future__ import annotations

import torch

from .. import ops
from ..models import BernoulliRBM
from ..samplers import GibbsSampler


def free_energy_gap_grads(model, v_data: torch.Tensor, v_model: torch.Tensor) -> dict:
    """Backpropagate mean F(v_data) - mean F(v_model): the likelihood gradient's estimate for any
    model with a free energy (v_model held fixed)."""
    gap = model.free_energy(v_data).mean() - model.free_energy(v_model.detach()).mean()
    gap.backward()
    return {"free_energy_gap": gap.item()}


def _is_fused(model) -> bool:
    """Bernoulli RBMs take the fused C++ gradient (ops.rbm_cd_grad): no autograd, no Python loop."""
    return type(model) is BernoulliRBM


@torch.no_grad()
def _fused_grads(model: BernoulliRBM, v: torch.Tensor, chains: torch.Tensor, k: int,
                 generator) -> torch.Tensor:
    """Set W, b, c's .grad from ops.rbm_cd_grad; return the chains after k sweeps."""
    dW, db, dc, v_k = ops.rbm_cd_grad(v, chains, model.W, model.b, model.c, k, generator=generator)
    model.W.grad, model.b.grad, model.c.grad = dW, db, dc
    return v_k


class CD:
    """CD-k (Hinton 2002): negative samples from k Gibbs sweeps started at the data batch."""

    def __init__(self, k: int = 1):
        if k < 1:
            raise ValueError(f"k must be >= 1, got {k}")
        self.k = k

    def compute_grads(self, model, v: torch.Tensor, generator=None) -> dict:
        if _is_fused(model):
            _fused_grads(model, v, v, self.k, generator)
            return {}
        return free_energy_gap_grads(model, v, model.gibbs(v, self.k, generator=generator)[0])

    def state_dict(self) -> dict:
        return {}

    def load_state_dict(self, state: dict) -> None:
        pass


class PCD:
    """PCD-k / SML (Younes 1989; Tieleman 2008): negative samples from persistent chains that
    advance k sweeps per update; with ``betas``, the chains use parallel tempering (Desjardins et
    al. 2010), see :class:`fastebm.samplers.GibbsSampler`."""

    def __init__(self, n_chains: int = 100, k: int = 1, betas: list[float] | None = None):
        if n_chains < 1 or k < 1:
            raise ValueError(f"n_chains and k must be >= 1, got {n_chains}, {k}")
        self.n_chains, self.k, self.betas = n_chains, k, betas
        self.sampler: GibbsSampler | None = None
        self._pending_state: dict | None = None

    def _sampler(self, model, generator) -> GibbsSampler:
        if self.sampler is None:
            # Restored chains start the sampler without drawing from the generator, so a resumed
            # run consumes the same random numbers as the uninterrupted one.
            pending, self._pending_state = self._pending_state, None
            v0 = None if pending is None else pending["chains"][0]
            self.sampler = GibbsSampler(model, self.n_chains, self.k, betas=self.betas, v0=v0,
                                        generator=generator)
            if pending is not None:
                self.sampler.load_state_dict(pending)
        self.sampler.generator = generator
        return self.sampler

    def compute_grads(self, model, v: torch.Tensor, generator=None) -> dict:
        sampler = self._sampler(model, generator)
        if _is_fused(model) and not sampler.tempered:
            sampler.chains = _fused_grads(model, v, sampler.chains[0], self.k, generator)[None]
            sampler.steps += 1
            return {}
        return free_energy_gap_grads(model, v, sampler.step())

    def state_dict(self) -> dict:
        return {} if self.sampler is None else {"sampler": self.sampler.state_dict()}

    def load_state_dict(self, state: dict) -> None:
        if "sampler" in state:
            if self.sampler is None:
                self._pending_state = state["sampler"]
            else:
                self.sampler.load_state_dict(state["sampler"])
