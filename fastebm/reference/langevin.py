"""Oracles of the Langevin family's ops, in plain PyTorch with the kernels' very Philox bits."""

from __future__ import annotations

import math

import torch

from .philox import normals, uniforms


def langevin_step(x: torch.Tensor, grad: torch.Tensor, step_size: float, seed: int,
                  noise: torch.Tensor | None = None) -> torch.Tensor:
    """Oracle of ``fastebm.ops.langevin_step``: x - ε·grad + √(2ε)·ξ, ξ the kernel's N(0, 1)
    draws of flat element i (offset 0) or ``noise``."""
    if noise is None:
        noise = normals(seed, 0, x.numel(), x.dtype, x.device).reshape(x.shape)
    return x - step_size * grad + math.sqrt(2 * step_size) * noise


def mala_log_alpha(x, x_prop, energy, energy_prop, grad, grad_prop, step_size: float):
    """[B] the MALA log acceptance ratio of each chain (Roberts & Tweedie 1996), p ∝ e^{-E},
    proposal q(x'|x) = N(x - ε∇E(x), 2ε I):
    log α = E(x) - E(x') - (‖x - x' + ε∇E(x')‖² - ‖x' - x + ε∇E(x)‖²) / (4ε)."""
    d = (x_prop - x).flatten(1)
    back = (step_size * grad_prop.flatten(1) - d).square().sum(1)
    fwd = (d + step_size * grad.flatten(1)).square().sum(1)
    return (energy - energy_prop) - (back - fwd) / (4 * step_size)


def _metropolis(x, x_prop, energy, energy_prop, grad, grad_prop, log_alpha, seed: int):
    """Chain b accepts iff u_b < exp(log α_b), u_b the kernels' uniform of element b (offset 0);
    a NaN log α rejects, and so does a proposal with a NaN or ±Inf in x', ∇E(x') or E(x').
    Returns (x_new, energy_new, grad_new, accepted)."""
    finite = (torch.isfinite(x_prop.flatten(1)).all(1) & torch.isfinite(grad_prop.flatten(1)).all(1)
              & torch.isfinite(energy_prop))
    accepted = finite & (uniforms(seed, 0, x.shape[0], x.dtype, x.device) < torch.exp(log_alpha))
    rows = accepted.view(-1, *([1] * (x.dim() - 1)))
    return (torch.where(rows, x_prop, x), torch.where(accepted, energy_prop, energy),
            torch.where(rows, grad_prop, grad), accepted)


def mala_accept(x, x_prop, energy, energy_prop, grad, grad_prop, step_size: float, seed: int):
    """Oracle of ``fastebm.ops.mala_accept``: the Metropolis step with :func:`mala_log_alpha`."""
    log_alpha = mala_log_alpha(x, x_prop, energy, energy_prop, grad, grad_prop, step_size)
    return _metropolis(x, x_prop, energy, energy_prop, grad, grad_prop, log_alpha, seed)


def _row_inv_mass(x, inv_mass):
    return torch.ones(x[0].numel(), dtype=x.dtype, device=x.device) if inv_mass is None else inv_mass


def leapfrog_step(x, p, grad, step_size: float, inv_mass, momentum_step: float):
    """Oracle of ``fastebm.ops.leapfrog_step``: p' = p - aε∇E(x), x' = x + ε m⁻¹ ⊙ p'
    (m⁻¹ = inv_mass over each row's flattened elements)."""
    m = _row_inv_mass(x, inv_mass).reshape(x.shape[1:])
    p_new = p - (momentum_step * step_size) * grad
    return x + step_size * (m * p_new), p_new


def hmc_accept(x, x_prop, energy, energy_prop, grad, grad_prop, p0, p_half, inv_mass,
               step_size: float, seed: int):
    """Oracle of ``fastebm.ops.hmc_accept``: p_end = p_half - (ε/2)∇E(x'), K(p) = ½ Σ m⁻¹p²,
    log α = E(x) + K(p0) - E(x') - K(p_end) (Duane et al. 1987), then the Metropolis step."""
    m = _row_inv_mass(x, inv_mass)
    p_end = (p_half - (step_size / 2) * grad_prop).flatten(1)
    kinetic0, kinetic1 = (m * p0.flatten(1).square()).sum(1), (m * p_end.square()).sum(1)
    log_alpha = (energy - energy_prop) + (kinetic0 - kinetic1) / 2
    return _metropolis(x, x_prop, energy, energy_prop, grad, grad_prop, log_alpha, seed)


def gmm_energy_grad(x, log_weights, means, stds):
    """(E(x) [B], ∇E(x) [B, D]) of the mixture -log Σₖ wₖ N(x; mₖ, diag sₖ²), in closed form."""
    z = (x[:, None, :] - means) / stds  # [B, K, D]
    log_c = (log_weights - stds.log().sum(1) - 0.5 * means.shape[1] * math.log(2 * math.pi)
             - 0.5 * z.square().sum(2))  # [B, K]
    energy = -torch.logsumexp(log_c, 1)
    resp = torch.softmax(log_c, 1)
    return energy, (resp[:, :, None] * z / stds).sum(1)


def gmm_langevin(x, log_weights, means, stds, step_size: float, n_steps: int, mala: bool,
                 seed: int, step0: int = 0):
    """Oracle of ``fastebm.ops.gmm_langevin``: step s draws ξ at offset 2s (element b·D + d) and
    the MALA uniform at offset 2s + 1 (element b). Returns (x', accepted per chain)."""
    B, D = x.shape
    energy, grad = gmm_energy_grad(x, log_weights, means, stds)
    accepted = torch.zeros(B, dtype=torch.int64, device=x.device)
    for s in range(step0, step0 + n_steps):
        noise = normals(seed, 2 * s, B * D, x.dtype, x.device).reshape(B, D)
        proposal = x - step_size * grad + math.sqrt(2 * step_size) * noise
        energy_p, grad_p = gmm_energy_grad(proposal, log_weights, means, stds)
        if mala:
            log_alpha = mala_log_alpha(x, proposal, energy, energy_p, grad, grad_p, step_size)
            accept = uniforms(seed, 2 * s + 1, B, x.dtype, x.device) < torch.exp(log_alpha)
        else:
            accept = torch.ones(B, dtype=torch.bool, device=x.device)
        x = torch.where(accept[:, None], proposal, x)
        energy, grad = torch.where(accept, energy_p, energy), torch.where(accept[:, None], grad_p, grad)
        accepted += accept
    return x, accepted
