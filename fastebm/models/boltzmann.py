"""The fully visible Boltzmann machine (Ackley, Hinton & Sejnowski 1985) as an ``nn.Module``."""

from __future__ import annotations

import torch
from torch import nn

from .. import ops
from ..checks import check_count, check_generator, check_real, check_tensor_finite
from .base import sample_visible


def set_log_conditionals(u: torch.Tensor, J_sets: torch.Tensor, x_sets: torch.Tensor) -> torch.Tensor:
    """[B, m] log p(x_S | x₋S) of m sets of s sites each under a quadratic energy
    E(x) = -½ xᵀJx - b·x (+ const) on {0,1}ⁿ, from the fields u = b + Jx at the sets' sites
    u [B, m, s], the couplings within each set J_sets [m, s, s] and the sets' values x_sets
    [B, m, s]: changing x_S by δ changes E by -(δ·u_S + ½ δᵀJ_SS δ), so

        log p(x_S | x₋S) = -log Σ_{y ∈ {0,1}^s} exp(δ·u_S + ½ δᵀJ_SS δ),  δ = y - x_S."""
    s = x_sets.shape[-1]
    bits = torch.arange(s, device=x_sets.device)
    configs = ((torch.arange(2**s, device=x_sets.device)[:, None] >> bits) & 1).to(x_sets.dtype)
    delta = configs[None, None] - x_sets[:, :, None, :]  # [B, m, 2^s, s]
    gain = (delta * u[:, :, None, :]).sum(-1) + 0.5 * torch.einsum(
        "bmyi,mij,bmyj->bmy", delta, J_sets, delta)
    return -torch.logsumexp(gain, -1)


class BoltzmannMachine(nn.Module):
    """Fully visible Boltzmann machine on x ∈ {0,1}ⁿ:

        E(x) = -½ xᵀJx - b·x,   p_β(x) ∝ exp(-β E(x)),

    J symmetric with a zero diagonal, kept as the strict upper triangle of the parameter
    ``weight`` [n, n] (J = triu(weight, 1) + its transpose, so J is exactly symmetric whatever the
    optimiser does; the rest of ``weight`` gets no gradient), biases ``b`` [n].

    Implements the GibbsModel protocol: F_β(x) = β E(x) (no latent units), sequential-scan Gibbs
    sweeps by ``ops.bm_gibbs``, exact log Z by enumeration of the 2ⁿ states (fastebm.partition
    .exact_log_z, n <= 26), AIS along p_β from the uniform β = 0 member (partition.ais), parallel
    tempering through GibbsSampler; and ``log_conditionals`` for pseudo-likelihood and ratio
    matching.

    Args:
        n: number of units.
        weight_std: the couplings start as N(0, weight_std²) (symmetrised), b at 0.
        generator: source of the initial couplings.
    """

    visible_domain = "binary"

    def __init__(self, n: int, *, weight_std: float = 0.01, dtype: torch.dtype | None = None,
                 device=None, generator: torch.Generator | None = None):
        super().__init__()
        check_count(n, "n")
        check_real(weight_std, "weight_std", low=0.0)
        check_generator(generator)
        weight = weight_std * torch.randn(n, n, generator=generator, dtype=dtype)
        self.weight = nn.Parameter(weight.triu(1).to(device))
        self.b = nn.Parameter(torch.zeros(n, dtype=weight.dtype, device=device))

    @property
    def n_visible(self) -> int:
        return self.b.shape[0]

    @property
    def J(self) -> torch.Tensor:
        """[n, n] the symmetric, zero-diagonal couplings."""
        upper = self.weight.triu(1)
        return upper + upper.T

    def set_couplings(self, J: torch.Tensor, b: torch.Tensor) -> None:
        """Sets the parameters from J [n, n] (its upper triangle is used) and b [n]."""
        n = self.n_visible
        if tuple(J.shape) != (n, n) or tuple(b.shape) != (n,):
            raise ValueError(f"J must be [{n}, {n}] and b [{n}], got {list(J.shape)} and {list(b.shape)}")
        check_tensor_finite(J, "J")
        check_tensor_finite(b, "b")
        with torch.no_grad():
            self.weight.copy_(J.triu(1))
            self.b.copy_(b)

    def energy(self, x: torch.Tensor) -> torch.Tensor:
        """[B] E(x) = -½ xᵀJx - b·x for x [B, n]."""
        return -0.5 * ((x @ self.J) * x).sum(-1) - x @ self.b

    def free_energy(self, x: torch.Tensor, beta: float = 1.0) -> torch.Tensor:
        """[B] F_β(x) = β E(x)."""
        return beta * self.energy(x)

    def local_fields(self, x: torch.Tensor) -> torch.Tensor:
        """[B, n] uᵢ = bᵢ + Σⱼ Jᵢⱼ xⱼ: p(xᵢ = 1 | x₋ᵢ) = σ(uᵢ)."""
        return x @ self.J + self.b

    def conditionals(self, x: torch.Tensor) -> torch.Tensor:
        """[B, n] p(xᵢ = 1 | x₋ᵢ) = σ(bᵢ + Σⱼ Jᵢⱼ xⱼ)."""
        return torch.sigmoid(self.local_fields(x))

    def log_conditionals(self, x: torch.Tensor) -> torch.Tensor:
        """Protocol hook: [B, n] log p(xᵢ | x₋ᵢ) = log σ((2xᵢ - 1) uᵢ), differentiable, for
        pseudo-likelihood and ratio matching (n× cheaper than through free energies)."""
        return torch.nn.functional.logsigmoid((2 * x - 1) * self.local_fields(x))

    def set_log_conditionals(self, x: torch.Tensor, sets: torch.Tensor) -> torch.Tensor:
        """Protocol hook: [B, m] log p(x_S | x₋S) for the sets [m, s] of sites (generalised
        pseudo-likelihood), in closed form from the fields (:func:`set_log_conditionals`)."""
        J = self.J
        return set_log_conditionals(self.local_fields(x)[:, sets],
                                    J[sets[:, :, None], sets[:, None, :]], x[:, sets])

    #: Its sweeps hold sites themselves (``gibbs(frozen=)``; models.base.sample_clamped).
    gibbs_holds_sites = True

    def gibbs(self, x: torch.Tensor, n_steps: int = 1, *, beta: float | torch.Tensor = 1.0,
              generator: torch.Generator | None = None,
              frozen: torch.Tensor | None = None) -> tuple[torch.Tensor, None]:
        """n_steps sequential-scan sweeps from x [B, n] at inverse temperature beta (a float, or one
        per chain [B]), the sites where ``frozen`` [B, n] (bool) is True held; returns (x_k, None)."""
        if not isinstance(beta, torch.Tensor):
            beta = check_real(beta, "beta", low=0.0)
        J, b = self.J.detach(), self.b.detach()
        return ops.bm_gibbs(x, J, b, n_steps, beta=beta, generator=generator, frozen=frozen), None

    def random_visible(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """[n, n_visible] uniform random states."""
        p = torch.full((n, self.n_visible), 0.5, dtype=torch.float64)
        return torch.bernoulli(p, generator=generator).to(self.b)

    @torch.no_grad()
    def sample(self, n: int, n_steps: int = 1000, *, generator: torch.Generator | None = None,
               v0: torch.Tensor | None = None, known: torch.Tensor | None = None,
               mask: torch.Tensor | None = None) -> torch.Tensor:
        """[n, n_visible] states after n_steps sweeps from v0 (default: uniform random states).
        With ``known`` [n, n] and a bool ``mask`` ([n, n] or [n], True where known): the known
        sites stay fixed inside every sweep and the rest are drawn from the exact conditional."""
        return sample_visible(self, n, n_steps, generator, v0, known, mask)
