"""Persistent Gibbs chains for any GibbsModel, with optional parallel tempering."""

from __future__ import annotations

import torch

from ..checks import check_beta, check_count, check_generator
from ..models.base import chain_start, check_model


def tempering_ladder(betas: list[float] | None) -> list[float]:
    """Parallel tempering's inverse temperatures: 1.0 = β₀ > β₁ > ... > 0, each finite
    (None: [1.0], no tempering); ValueError otherwise."""
    betas = [1.0] if betas is None else [check_beta(b, "betas[]") for b in betas]
    if not betas or betas[0] != 1.0 or betas[-1] <= 0 or any(
            x <= y for x, y in zip(betas, betas[1:])):
        raise ValueError(f"betas must start at 1.0 and decrease strictly, staying > 0; got {betas}")
    return betas


class GibbsSampler:
    """Persistent chains (Tieleman 2008) for any GibbsModel (fastebm.models.base), with optional parallel tempering (Swendsen &
    Wang 1986; for RBM training, Desjardins et al. 2010).

    With ``betas = [1 = β₀ > β₁ > ... > β_{T-1} > 0]`` every chain has T replicas, one per
    inverse temperature, each sampling p_β(v) ∝ exp(-F_β(v)) (the model with energy βE). After
    the n_steps Gibbs sweeps of each step, adjacent replicas (t, t+1) — even pairs on even steps, odd
    pairs on odd steps — swap states with the Metropolis probability
        min(1, exp(F_βt(x_t) + F_βt+1(x_t+1) - F_βt(x_t+1) - F_βt+1(x_t))).
    :meth:`sample` advances the chains one step and returns the β = 1 states; :meth:`run`
    sweeps given states without touching the chains.

    Args:
        model: a GibbsModel (free_energy(x, beta), gibbs(x, n_steps, beta=...), random_visible).
        n_chains: chains per temperature. n_steps: Gibbs sweeps per step (>= 1).
        betas: inverse temperatures for parallel tempering, starting at 1.0, decreasing; None: no
            tempering.
        v0: [n_chains, V] start states (default: the model's random_visible).
        generator: randomness of the sweeps and swaps.
    """

    def __init__(self, model, n_chains: int, n_steps: int = 1, *,
                 betas: list[float] | None = None, v0: torch.Tensor | None = None,
                 generator: torch.Generator | None = None):
        check_model(model, "GibbsSampler")
        n_chains, n_steps = check_count(n_chains, "n_chains"), check_count(n_steps, "n_steps")
        check_generator(generator)
        betas = tempering_ladder(betas)
        self.model, self.n_steps, self.betas, self.generator = model, n_steps, betas, generator
        start = chain_start(model, n_chains, v0, generator, "n_chains")
        self.chains = start.detach().clone().expand(len(betas), -1, -1).contiguous()  # [T, N, V]
        self.steps = 0
        self.swap_attempts = torch.zeros(max(len(betas) - 1, 0))
        self.swap_accepts = torch.zeros(max(len(betas) - 1, 0))

    @property
    def tempered(self) -> bool:
        return len(self.betas) > 1

    @property
    def state(self) -> torch.Tensor:
        """[N, V] the β = 1 chains."""
        return self.chains[0]

    def advance_to(self, v: torch.Tensor, steps: int = 1) -> None:
        """Record ``steps`` steps taken outside :meth:`sample` (fused CD / PCD calls that advanced
        the untempered chains themselves): v [N, V] becomes the chains."""
        if self.tempered or v.shape != self.chains[0].shape:
            raise ValueError("advance_to takes [N, V] chains of an untempered sampler")
        self.chains = v[None]
        self.steps += steps

    @torch.no_grad()
    def sample(self, n: int | None = None) -> torch.Tensor:
        """One step of the persistent chains — n_steps sweeps of every replica, then (with
        tempering) one round of swaps — and the first n (default all N) β = 1 chains, [n, V]."""
        n = len(self.chains[0]) if n is None else check_count(n, "n")
        if n > len(self.chains[0]):
            raise ValueError(f"n = {n} exceeds the sampler's {len(self.chains[0])} chains")
        for t, beta in enumerate(self.betas):
            self.chains[t] = self.model.gibbs(self.chains[t], self.n_steps, beta=beta,
                                              generator=self.generator)[0]
        if self.tempered:
            self._swap(self.steps % 2)
        self.steps += 1
        return self.chains[0][:n]

    @torch.no_grad()
    def run(self, x: torch.Tensor, n_steps: int | None = None, *,
            generator: torch.Generator | None = None) -> torch.Tensor:
        """x [B, V] after n_steps (default: the sampler's) Gibbs sweeps at β = 1; the persistent
        chains are left as they are."""
        n_steps = self.n_steps if n_steps is None else check_count(n_steps, "n_steps")
        check_generator(generator)
        return self.model.gibbs(x, n_steps, generator=generator)[0]

    def _swap(self, parity: int) -> None:
        model, chains = self.model, self.chains
        for t in range(parity, len(self.betas) - 1, 2):
            b0, b1 = self.betas[t], self.betas[t + 1]
            x0, x1 = chains[t], chains[t + 1]
            log_accept = (model.free_energy(x0, b0) + model.free_energy(x1, b1)
                          - model.free_energy(x1, b0) - model.free_energy(x0, b1))
            u = torch.rand(len(x0), generator=self.generator, dtype=torch.float64).to(x0.device)
            swap = (torch.log(u) < log_accept.double())[:, None]
            chains[t], chains[t + 1] = torch.where(swap, x1, x0), torch.where(swap, x0, x1)
            self.swap_attempts[t] += len(x0)
            self.swap_accepts[t] += swap.sum().item()

    def swap_rates(self) -> torch.Tensor:
        """[T-1] fraction of accepted swaps per adjacent pair so far."""
        return self.swap_accepts / self.swap_attempts.clamp(min=1)

    def state_dict(self) -> dict:
        return {"chains": self.chains.clone(), "steps": self.steps, "betas": list(self.betas),
                "swap_attempts": self.swap_attempts.clone(),
                "swap_accepts": self.swap_accepts.clone()}

    def load_state_dict(self, state: dict) -> None:
        if list(state["betas"]) != self.betas or state["chains"].shape != self.chains.shape:
            raise ValueError("sampler state does not match this sampler's chains or betas")
        self.chains = state["chains"].to(self.chains).clone()
        self.steps = int(state["steps"])
        self.swap_attempts = state["swap_attempts"].clone()
        self.swap_accepts = state["swap_accepts"].clone()
