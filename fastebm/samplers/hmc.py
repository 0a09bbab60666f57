"""Hamiltonian Monte Carlo (Duane et al. 1987; Neal 2011) of p(x) ∝ exp(-E(x)) for any
``EnergyFunction``: leapfrog trajectories with a diagonal mass (ops.leapfrog_step, one fused pass
per step) and the Metropolis correction (ops.hmc_accept, one fused pass per trajectory).
"""

from __future__ import annotations

import torch

from .. import ops
from ..checks import check_count
from ..models.energy import energy_and_grad
from ..ops.seeds import randn_like
from .continuous import ContinuousSampler


class HMCSampler(ContinuousSampler):
    """HMC chains on a model's energy: each transition draws p₀ ~ N(0, M), runs ``n_leapfrog``
    leapfrog steps of size ε on H(x, p) = E(x) + ½ pᵀM⁻¹p and accepts the end with probability
    min(1, exp(H(x, p₀) - H(x', p'))), which leaves p exactly invariant (with a box, p restricted
    to it: a trajectory that ends outside is rejected).

    Args:
        model, step_size, n_steps: as :class:`ContinuousSampler` (n_steps: trajectories per
            :meth:`sample` call).
        n_leapfrog: leapfrog steps per trajectory, >= 1.
        inv_mass: [D] M⁻¹'s diagonal over a sample's D elements (> 0), or None: identity;
            moved to the chains' device and dtype once, at their first step (so a step makes no
            copy, and a CUDA graph of the loop captures none).
        **kwargs: box, buffer_size, reinit_prob, init, target_accept, adapt_rate, progress,
            cuda_graph (see :class:`ContinuousSampler`).
    """

    def __init__(self, model, step_size: float, n_leapfrog: int = 10, n_steps: int = 1, *,
                 inv_mass: torch.Tensor | None = None, **kwargs):
        super().__init__(model, step_size, n_steps, **kwargs)
        self.n_leapfrog = check_count(n_leapfrog, "n_leapfrog")
        if inv_mass is not None:
            D = 1
            for d in model.event_shape:
                D *= d
            if not isinstance(inv_mass, torch.Tensor) or inv_mass.shape != (D,):
                raise ValueError(f"inv_mass must be a [{D}] tensor, got {inv_mass!r}")
            if not (torch.isfinite(inv_mass).all() and (inv_mass > 0).all()):
                raise ValueError("inv_mass must be finite and > 0")
        self.inv_mass = inv_mass

    def _step(self, x: torch.Tensor, state, generator):
        energy, grad = state
        if self.inv_mass is not None and (self.inv_mass.device, self.inv_mass.dtype) != (
                x.device, x.dtype):
            self.inv_mass = self.inv_mass.to(x)
        inv_mass = self.inv_mass
        noise = randn_like(x, generator)
        p0 = noise if inv_mass is None else noise / inv_mass.sqrt().reshape(x.shape[1:])
        x_prop, p = ops.leapfrog_step(x, p0, grad, self.step_size, inv_mass=inv_mass,
                                      momentum_step=0.5)
        for _ in range(self.n_leapfrog - 1):
            _, grad_prop = energy_and_grad(self.model, x_prop)
            x_prop, p = ops.leapfrog_step(x_prop, p, grad_prop, self.step_size, inv_mass=inv_mass)
        energy_prop, grad_prop = energy_and_grad(self.model, x_prop)
        energy_prop = self._outside_is_rejected(x_prop, energy_prop)
        x, energy, grad, accepted = ops.hmc_accept(x, x_prop, energy, energy_prop, grad, grad_prop,
                                                   p0, p, self.step_size, inv_mass=inv_mass,
                                                   generator=generator)
        return x, (energy, grad), accepted
