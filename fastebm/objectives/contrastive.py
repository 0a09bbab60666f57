"""Contrastive divergence (Hinton 2002) and persistent CD / SML (Younes 1989; Tieleman 2008)."""

from __future__ import annotations

import torch

from ..checks import check_count
from ..ops import draw_seeds
from ..samplers import GibbsSampler, tempering_ladder
from ..training.optim import SGD
from .base import Objective


def energy_gap_grads(energy, x_data: torch.Tensor, x_model: torch.Tensor,
                     name: str = "energy_gap", weight: float = 1.0) -> dict:
    """Backpropagate ``weight`` × (mean U(x_data) - mean U(x_model)) (x_model held fixed),
    U = ``energy`` [B, ...] -> [B]: the likelihood gradient's estimate with x_model the
    negatives (added to the gradients already there); returns {name: the gap}."""
    gap = energy(x_data).mean() - energy(x_model.detach()).mean()
    (weight * gap).backward()
    return {name: gap.item()}


def free_energy_gap_grads(model, v_data: torch.Tensor, v_model: torch.Tensor) -> dict:
    """energy_gap_grads with U the model's free energy F."""
    return energy_gap_grads(model.free_energy, v_data, v_model, "free_energy_gap")


def check_batch(model, v: torch.Tensor) -> None:
    """A cheap per-step check of a batch's shape (no device read; the Trainer checks the
    values of its data once)."""
    if not isinstance(v, torch.Tensor) or v.dim() != 2 or v.shape[1] != model.n_visible or not len(v):
        shape = list(v.shape) if isinstance(v, torch.Tensor) else type(v).__name__
        raise ValueError(f"batch must be a non-empty [B, {model.n_visible}] tensor, got {shape}")


class CD(Objective):
    """CD-k (Hinton 2002): negative samples from k Gibbs sweeps started at the data batch."""

    requires = ("n_visible", "gibbs", "free_energy")
    model_example = "a BernoulliRBM"

    def __init__(self, k: int = 1):
        self.k = check_count(k, "k")

    def compute_grads(self, model, v: torch.Tensor, generator=None) -> dict:
        check_batch(model, v)
        fused = getattr(model, "cd_grads", None)
        if fused is not None:
            fused(v, v, self.k, generator)
            return {}
        return free_energy_gap_grads(model, v, model.gibbs(v, self.k, generator=generator)[0])



class PCD(Objective):
    """PCD-k / SML (Younes 1989; Tieleman 2008): negative samples from persistent chains that
    advance k sweeps per update; with ``betas``, the chains use parallel tempering (Desjardins et
    al. 2010), see :class:`fastebm.samplers.GibbsSampler`."""

    requires = ("n_visible", "gibbs", "free_energy")
    model_example = "a BernoulliRBM"

    def __init__(self, n_chains: int = 100, k: int = 1, betas: list[float] | None = None):
        self.n_chains, self.k = check_count(n_chains, "n_chains"), check_count(k, "k")
        self.betas = None if betas is None else tempering_ladder(betas)
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
        check_batch(model, v)
        sampler = self._sampler(model, generator)
        fused = getattr(model, "cd_grads", None)
        if fused is not None and not sampler.tempered:
            sampler.advance_to(fused(v, sampler.state, self.k, generator))
            return {}
        return free_energy_gap_grads(model, v, sampler.sample())

    def run_steps(self, model, optimizer, rows: torch.Tensor, batch_size: int, generator) -> bool:
        """Several PCD steps (batches of ``batch_size`` rows of ``rows``) in one fused call, the
        bits of as many compute_grads + optimizer.step calls, when the model has the
        ``pcd_sgd_steps`` hook, the optimizer is fastebm.training.SGD with one group of the model's
        parameters and the chains are not tempered; returns False (nothing done) otherwise."""
        hook = getattr(model, "pcd_sgd_steps", None)
        params = list(model.parameters())
        if (hook is None or not isinstance(optimizer, SGD) or len(optimizer.param_groups) != 1
                or [id(p) for p in optimizer.param_groups[0]["params"]] != [id(p) for p in params]):
            return False
        sampler = self._sampler(model, generator)
        if sampler.tempered:
            return False
        seeds = draw_seeds(-(-len(rows) // batch_size), generator)
        chains = sampler.state.contiguous()
        group = optimizer.param_groups[0]
        buffers, first_step = optimizer.momentum_buffers(params)
        hook(chains, rows, batch_size, self.k, seeds, lr=group["lr"], momentum=group["momentum"],
             weight_decay=group["weight_decay"], momentum_buffers=buffers, first_step=first_step)
        sampler.advance_to(chains, len(seeds))
        return True

    def state_dict(self) -> dict:
        return {} if self.sampler is None else {"sampler": self.sampler.state_dict()}

    def load_state_dict(self, state: dict) -> None:
        if "sampler" in state:
            if self.sampler is None:
                self._pending_state = state["sampler"]
            else:
                self.sampler.load_state_dict(state["sampler"])
