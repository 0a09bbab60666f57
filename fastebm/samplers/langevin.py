"""Langevin samplers of p(x) ∝ exp(-E(x)) for any ``EnergyFunction`` (models/energy.py): the
unadjusted Langevin algorithm (ULA) and its Metropolis-adjusted form (MALA; Roberts & Tweedie
1996), each step one fused op (ops.langevin_step, then ops.mala_accept).
"""

from __future__ import annotations

import torch

from .. import ops
from ..models.energy import energy_and_grad
from ..ops.seeds import SeedStream
from .continuous import ContinuousSampler


class LangevinSampler(ContinuousSampler):
    """ULA or MALA chains on a model's energy.

    Each step (ε = step_size): x' = x - ε∇E(x) + √(2ε)ξ. ULA keeps x' (clamped into ``box`` if
    given; biased by O(ε)); MALA accepts x' with probability
    min(1, exp(E(x) - E(x') + log q(x|x') - log q(x'|x))), q(·|x) = N(x - ε∇E(x), 2ε I), which
    leaves p exactly invariant (with a box, p restricted to it: a proposal outside is rejected).

    Args:
        model, step_size, n_steps: as :class:`ContinuousSampler`.
        mala: Metropolis-adjust each step (needed for ``target_accept``).
        **kwargs: box, buffer_size, reinit_prob, init, target_accept, adapt_rate, progress,
            cuda_graph (see :class:`ContinuousSampler`).
    """

    def __init__(self, model, step_size: float, n_steps: int = 1, *, mala: bool = False,
                 **kwargs):
        self.adjusted = bool(mala)
        super().__init__(model, step_size, n_steps, **kwargs)

    @property
    def mala(self) -> bool:
        return self.adjusted

    def _run_fused(self, x: torch.Tensor, n_steps: int, generator) -> torch.Tensor | None:
        """A model with the ``langevin_chains`` hook runs its whole chains in one fused call
        (without a box), unless the hook declines (None)."""
        chains = getattr(self.model, "langevin_chains", None)
        if chains is None or self.box is not None:
            return None
        out = chains(x, self.step_size, n_steps, mala=self.mala, generator=generator)
        if out is None:
            return None
        x, accepted = out
        self.accept_rate = accepted.double().mean().item() / n_steps if self.mala else None
        return x

    def _randomness(self, n_steps: int, generator) -> SeedStream:
        """The run's op seeds, one per op call (ULA one a step, MALA two), drawn 4,096 at a time
        from a CPU generator: the very seeds the calls would draw one by one, without a tensor
        draw per call."""
        return SeedStream(n_steps * (2 if self.mala else 1), generator)

    def _step(self, x: torch.Tensor, state, seeds: SeedStream):
        if not self.adjusted:
            _, grad = energy_and_grad(self.model, x)
            x = ops.langevin_step(x, grad, self.step_size, **seeds.next(),
                                  out=None if x is self._start else x)  # one buffer per run
            return (x if self.box is None else x.clamp_(*self.box)), None, None
        energy, grad = state
        proposal = ops.langevin_step(x, grad, self.step_size, **seeds.next())
        energy_prop, grad_prop = energy_and_grad(self.model, proposal)
        energy_prop = self._outside_is_rejected(proposal, energy_prop)
        x, energy, grad, accepted = ops.mala_accept(x, proposal, energy, energy_prop, grad,
                                                    grad_prop, self.step_size, **seeds.next())
        return x, (energy, grad), accepted
