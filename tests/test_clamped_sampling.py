"""Conditional sampling of the single-layer binary models (a fully visible Boltzmann machine, the
Ising model): `sample(..., known=, mask=)` holds the known sites inside every sweep, and the free
sites' states follow the enumerated conditional (chi-square). Resetting the known sites only
after each sweep — exact for an RBM — is not exact here (later sites of a sweep see the changed
known ones), and the same test rejects it. The ops' `frozen` argument runs the contract checks
from tests/opspec.py."""

import pytest
import torch

from fastebm.models import BoltzmannMachine, Ising2D

from stats import all_states, chi_square_pvalue

N_CHAINS = 20000


def gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def conditional(log_p: torch.Tensor, states: torch.Tensor, mask: torch.Tensor,
                pattern: torch.Tensor) -> torch.Tensor:
    """p(free sites | known = pattern) over the free sites' states in chi_square_pvalue's
    order, from log p of every state [2ⁿ, n]."""
    rows = (states[:, mask] == pattern).all(1)
    assert torch.equal(states[rows][:, ~mask], all_states(int((~mask).sum())))
    return torch.softmax(log_p[rows], 0)


def strong_bm(n: int) -> BoltzmannMachine:
    g = gen(3)
    model = BoltzmannMachine(n, dtype=torch.float64)
    J = 1.5 * torch.randn(n, n, generator=g, dtype=torch.float64)
    model.set_couplings(J + J.T, 0.5 * torch.randn(n, generator=g, dtype=torch.float64))
    return model


def reset_after_each_sweep(model, known, mask, n_steps, generator):
    """The RBM's way (models.base, for a two-layer model): unclamped sweeps, then the known
    sites put back."""
    x = torch.where(mask, known, model.random_visible(len(known), generator))
    for _ in range(n_steps):
        x = torch.where(mask, known, model.gibbs(x, 1, generator=generator)[0])
    return x


def test_a_boltzmann_machine_samples_the_exact_conditional():
    model = strong_bm(8)
    mask = torch.tensor([True, False, False, True, False, True, False, False])
    pattern = torch.tensor([1.0, 0.0, 1.0], dtype=torch.float64)
    states = all_states(8)
    with torch.no_grad():
        exact = conditional(-model.free_energy(states), states, mask, pattern)
    known = torch.zeros(N_CHAINS, 8, dtype=torch.float64)
    known[:, mask] = pattern
    x = model.sample(N_CHAINS, 30, known=known, mask=mask, generator=gen(4))
    assert torch.equal(x[:, mask], known[:, mask])
    assert chi_square_pvalue(x[:, ~mask], exact) > 1e-3
    wrong = reset_after_each_sweep(model, known, mask, 30, gen(4))
    assert chi_square_pvalue(wrong[:, ~mask], exact) < 1e-6


@pytest.mark.parametrize("beta", [0.3, 0.8])
def test_the_ising_model_samples_the_exact_conditional(beta):
    """A 4 × 4 periodic lattice (2¹⁶ states enumerated) with five spins held, per-chain masks
    given as [L, L]; on both sides of the critical coupling."""
    model = Ising2D(4, J=1.0, h=0.1, dtype=torch.float64)
    held = torch.zeros(4, 4, dtype=torch.bool)
    held[0, 0] = held[0, 1] = held[1, 2] = held[2, 2] = held[3, 1] = True
    mask = held.flatten()
    pattern_spins = torch.tensor([1.0, -1.0, 1.0, 1.0, -1.0], dtype=torch.float64)
    states = all_states(16)
    with torch.no_grad():
        exact = conditional(-beta * model.energy(model.spins(states)), states, mask,
                            (pattern_spins + 1) / 2)
    known = torch.ones(N_CHAINS, 4, 4, dtype=torch.float64)
    known[:, held] = pattern_spins
    s = model.sample(N_CHAINS, 30, beta=beta, known=known, mask=held, generator=gen(5))
    assert torch.equal(s[:, held], known[:, held])
    x = model.states(s)
    assert chi_square_pvalue(x[:, ~mask], exact) > 1e-3
    if beta == 0.8:  # strongly coupled: the reset-after-sweep chain is visibly off
        wrong = reset_after_each_sweep(model, model.states(known), mask, 30, gen(5))
        assert chi_square_pvalue(wrong[:, ~mask], exact) < 1e-6


def test_bad_masks_are_refused():
    model = Ising2D(4)
    known = torch.ones(3, 4, 4)
    with pytest.raises(ValueError, match="known and mask together"):
        model.sample(3, 5, known=known)
    with pytest.raises(TypeError, match="mask must be a bool tensor"):
        model.sample(3, 5, known=known, mask=torch.ones(4, 4))
    with pytest.raises(ValueError, match="spins must be"):
        model.sample(3, 5, known=torch.ones(3, 4, 5), mask=torch.ones(4, 4, dtype=torch.bool))
    bm = BoltzmannMachine(5)
    with pytest.raises(ValueError, match="mask must have shape"):
        bm.sample(2, 5, known=torch.zeros(2, 5), mask=torch.ones(4, dtype=torch.bool))
