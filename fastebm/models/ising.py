"""The 2-D Ising model on a periodic L × L lattice as an ``nn.Module``, and Onsager's exact
infinite-lattice energy and magnetisation."""

from __future__ import annotations

import math

import torch
from torch import nn

from .. import ops
from ..checks import check_count, check_real
from .base import sample_visible
from .boltzmann import set_log_conditionals

#: The critical inverse temperature of the square lattice at J = 1: βc = ½ ln(1 + √2).
BETA_CRITICAL = 0.5 * math.log(1 + math.sqrt(2))


def _elliptic_k(k: float) -> float:
    """The complete elliptic integral of the first kind, K(k) = ∫₀^{π/2} dθ / √(1 - k² sin²θ), by
    the arithmetic-geometric mean: K(k) = π / (2 AGM(1, √(1 - k²)))."""
    a, g = 1.0, math.sqrt(max(0.0, 1 - k * k))
    if g == 0.0:
        return math.inf
    while abs(a - g) > 1e-15 * a:
        a, g = (a + g) / 2, math.sqrt(a * g)
    return math.pi / (2 * a)


def onsager_energy(beta: float, J: float = 1.0) -> float:
    """Energy per site of the infinite square-lattice Ising model at h = 0 (Onsager 1944):
    u = -J coth(2βJ) [1 + (2/π)(2 tanh²(2βJ) - 1) K(k)], k = 2 sinh(2βJ) / cosh²(2βJ)."""
    x = 2 * beta * J
    if x == 0:
        return 0.0
    k = 2 * math.sinh(x) / math.cosh(x) ** 2
    factor = 2 * math.tanh(x) ** 2 - 1  # 0 at βc, where K(k = 1) diverges: the product is 0
    singular = 0.0 if abs(factor) < 1e-12 else factor * _elliptic_k(k)
    return -J / math.tanh(x) * (1 + 2 / math.pi * singular)


def onsager_magnetisation(beta: float, J: float = 1.0) -> float:
    """Spontaneous magnetisation per site of the infinite lattice at h = 0 (Onsager; Yang 1952):
    (1 - sinh(2βJ)⁻⁴)^{1/8} for β > βc, else 0."""
    s = math.sinh(2 * beta * J)
    return (1 - s**-4) ** 0.125 if s > 1 else 0.0


class Ising2D(nn.Module):
    """The 2-D Ising model on a periodic L × L lattice:

        E(s) = -J Σ_⟨ij⟩ sᵢsⱼ - h Σᵢ sᵢ,   p_β(s) ∝ exp(-β E(s)),   s ∈ {-1, +1}^{L×L},

    the sum over the 2L² nearest-neighbour bonds. ``J`` and ``h`` are (scalar) parameters, so
    the objectives of fully visible models can fit them.

    Spins [B, L, L] are the native states (``energy``, ``magnetisation``, ``sweep``). For the
    GibbsModel protocol (samplers, parallel tempering, AIS, exact log Z for L <= 4,
    pseudo-likelihood) a state is the flattened x = (s + 1) / 2 ∈ {0,1}^{L²}.

    Args:
        L: lattice side, even (the checkerboard update needs two colours on the torus).
        J: coupling; h: external field.
    """

    visible_domain = "binary"

    def __init__(self, L: int, J: float = 1.0, h: float = 0.0, *,
                 dtype: torch.dtype | None = None, device=None):
        super().__init__()
        check_count(L, "L")
        if L % 2:
            raise ValueError(f"L must be even (a checkerboard on the torus), got {L}")
        dtype = dtype or torch.get_default_dtype()
        self.L = L
        self.J = nn.Parameter(torch.tensor(check_real(J, "J"), dtype=dtype, device=device))
        self.h = nn.Parameter(torch.tensor(check_real(h, "h"), dtype=dtype, device=device))

    @property
    def n_visible(self) -> int:
        return self.L * self.L

    def spins(self, x: torch.Tensor) -> torch.Tensor:
        """[B, L, L] spins 2x - 1 of flattened states x [B, L²] in {0, 1}."""
        return (2 * x - 1).view(-1, self.L, self.L)

    def states(self, s: torch.Tensor) -> torch.Tensor:
        """[B, L²] flattened states (s + 1) / 2 of spins s [B, L, L]."""
        return ((s + 1) / 2).reshape(len(s), -1)

    def _check_spins(self, s: torch.Tensor) -> None:
        if s.dim() != 3 or s.shape[1:] != (self.L, self.L):
            raise ValueError(f"spins must be [B, {self.L}, {self.L}], got {list(s.shape)}")

    def bond_sum(self, s: torch.Tensor) -> torch.Tensor:
        """[B] Σ_⟨ij⟩ sᵢsⱼ over the right and down neighbour of every site (each bond once)."""
        self._check_spins(s)
        return (s * (s.roll(-1, 1) + s.roll(-1, 2))).sum((1, 2))

    def energy(self, s: torch.Tensor) -> torch.Tensor:
        """[B] E(s) = -J Σ_⟨ij⟩ sᵢsⱼ - h Σᵢ sᵢ for spins s [B, L, L]."""
        return -self.J * self.bond_sum(s) - self.h * s.sum((1, 2))

    def magnetisation(self, s: torch.Tensor) -> torch.Tensor:
        """[B] m = (1/L²) Σᵢ sᵢ."""
        self._check_spins(s)
        return s.mean((1, 2))

    def free_energy(self, x: torch.Tensor, beta: float = 1.0) -> torch.Tensor:
        """[B] F_β(x) = β E(2x - 1) for flattened states x [B, L²]."""
        return beta * self.energy(self.spins(x))

    def log_conditionals(self, x: torch.Tensor) -> torch.Tensor:
        """Protocol hook: [B, L²] log p(sᵢ | s₋ᵢ) = log σ(2sᵢ (J Σ_neighbours + h)), differentiable
        in J and h (pseudo-likelihood and ratio matching without flipped copies)."""
        s = self.spins(x)
        field = self.J * self.neighbour_sum(s) + self.h
        return torch.nn.functional.logsigmoid(2 * s * field).reshape(len(x), -1)

    def neighbour_sum(self, s: torch.Tensor) -> torch.Tensor:
        """[B, L, L] Σ of the four periodic neighbours' spins of every site."""
        return (s.roll(1, 1) + s.roll(-1, 1)) + (s.roll(1, 2) + s.roll(-1, 2))

    def set_log_conditionals(self, x: torch.Tensor, sets: torch.Tensor) -> torch.Tensor:
        """Protocol hook: [B, m] log p(x_S | x₋S) for the sets [m, s] of sites. In x = (s+1)/2
        the model is a Boltzmann machine with couplings 4J·Aᵢⱼ (Aᵢⱼ: bonds between sites i and
        j) and fields uᵢ = 2(J Σ_neighbours sᵢ + h), so the closed form of the fully visible
        machine applies (models.boltzmann.set_log_conditionals)."""
        s = self.spins(x)
        u = (2 * (self.J * self.neighbour_sum(s) + self.h)).reshape(len(x), -1)
        L = self.L
        row, col = sets // L, sets % L  # [m, s]
        bonds = torch.zeros(sets.shape + sets.shape[1:], dtype=x.dtype, device=x.device)
        for dr, dc in ((1, 0), (-1, 0), (0, 1), (0, -1)):
            bonds += (((row[:, :, None] + dr) % L == row[:, None, :])
                      & ((col[:, :, None] + dc) % L == col[:, None, :])).to(x.dtype)
        return set_log_conditionals(u[:, sets], 4 * self.J * bonds, x[:, sets])

    def sweep(self, s: torch.Tensor, n_steps: int = 1, *, beta: float | torch.Tensor = 1.0,
              generator: torch.Generator | None = None,
              frozen: torch.Tensor | None = None) -> torch.Tensor:
        """n_steps checkerboard heat-bath sweeps of spins s [B, L, L] at inverse temperature beta (a
        float, or one per replica [B]) by ops.ising_gibbs, the spins where ``frozen`` [B, L, L]
        (bool) is True held."""
        self._check_spins(s)
        return ops.ising_gibbs(s, n_steps, beta=beta, J=float(self.J.detach()), h=float(self.h.detach()),
                               generator=generator, frozen=frozen)

    #: Its sweeps hold sites themselves (``gibbs(frozen=)``; models.base.sample_clamped).
    gibbs_holds_sites = True

    def gibbs(self, x: torch.Tensor, n_steps: int = 1, *, beta: float | torch.Tensor = 1.0,
              generator: torch.Generator | None = None,
              frozen: torch.Tensor | None = None) -> tuple[torch.Tensor, None]:
        """Protocol: n_steps sweeps of flattened states x [B, L²] (``frozen`` [B, L²]: held
        sites); returns (x_k, None)."""
        if x.dim() != 2 or x.shape[1] != self.n_visible:
            raise ValueError(f"x must be [B, {self.n_visible}] flattened states, got {list(x.shape)}")
        held = None if frozen is None else frozen.reshape(self.spins(x).shape)
        return self.states(self.sweep(self.spins(x), n_steps, beta=beta, generator=generator,
                                      frozen=held)), None

    def random_visible(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """[n, L²] uniform random states."""
        p = torch.full((n, self.n_visible), 0.5, dtype=torch.float64)
        return torch.bernoulli(p, generator=generator).to(self.J)

    @torch.no_grad()
    def sample(self, n: int, n_steps: int = 1000, *, generator: torch.Generator | None = None,
               beta: float | torch.Tensor = 1.0, s0: torch.Tensor | None = None,
               known: torch.Tensor | None = None, mask: torch.Tensor | None = None) -> torch.Tensor:
        """[n, L, L] spins after n_steps sweeps from s0 (default: uniform random spins). With
        ``known`` spins [n, L, L] and a bool ``mask`` ([n, L, L] or [L, L], True where known):
        the known spins stay fixed inside every sweep and the rest are drawn from the exact
        conditional."""
        x0 = None if s0 is None else self.states(s0)
        if isinstance(known, torch.Tensor):
            self._check_spins(known)
            known = self.states(known)
        if isinstance(mask, torch.Tensor) and mask.shape[-2:] == (self.L, self.L):
            mask = mask.flatten(-2)
        return self.spins(sample_visible(self, n, n_steps, generator, x0, known, mask, beta=beta))
