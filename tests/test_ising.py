"""Statistical tests of the Boltzmann-machine and Ising samplers and estimators: bm_gibbs against
exact enumeration (χ², also tempered and per chain), ising_gibbs against exact enumeration of a
4×4 torus and against Onsager's solution at L = 64, exact log Z vs AIS and parallel tempering,
and parameter recovery by pseudo-likelihood, generalised PL and ratio matching."""

from __future__ import annotations

import math

import pytest
import torch
from scipy.stats import chi2

import fastebm
from fastebm.models import BoltzmannMachine, Ising2D, onsager_energy, onsager_magnetisation
from fastebm.objectives import (GeneralisedPseudoLikelihood, PseudoLikelihood, RatioMatching,
                                log_generalised_pseudo_likelihood, log_pseudo_likelihood,
                                window_sets)
from fastebm.partition import ais, exact_log_z
from fastebm.samplers import GibbsSampler
from fastebm.training.trainer import Trainer

from conftest import DEVICES
from stats import all_states, chi_square_pvalue, state_index

P_MIN = 1e-4  # every χ² test: a correct sampler fails one in 10,000 runs


def random_bm(n: int = 10, seed: int = 0, scale: float = 0.6, dtype=torch.float64, device="cpu"):
    """A BoltzmannMachine with J ~ N(0, scale²) (symmetric, zero diagonal) and b ~ N(0, 0.25)."""
    g = torch.Generator().manual_seed(seed)
    model = BoltzmannMachine(n, dtype=dtype, device=device)
    A = scale * torch.randn(n, n, generator=g, dtype=torch.float64)
    model.set_couplings(((A + A.T) / 2).fill_diagonal_(0).to(device, dtype),
                        (0.5 * torch.randn(n, generator=g, dtype=torch.float64)).to(device, dtype))
    return model


def exact_probs(model, beta: float = 1.0) -> torch.Tensor:
    """[2^n] p_β over all states (stats.state_index order), float64."""
    states = all_states(model.n_visible).to(next(model.parameters()))
    with torch.no_grad():
        log_p = -model.free_energy(states, beta).double().cpu()
    return torch.softmax(log_p, 0)


# ---------------------------------------------------------------- bm_gibbs

@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("beta", [1.0, 0.5])
def test_bm_gibbs_matches_enumeration(beta, dtype, device):
    model = random_bm(dtype=dtype, device=device)
    g = torch.Generator().manual_seed(1)
    x = model.sample(20000, 30, generator=g) if beta == 1.0 else model.gibbs(
        model.random_visible(20000, g), 30, beta=beta, generator=g)[0]
    assert chi_square_pvalue(x.cpu(), exact_probs(model, beta)) > P_MIN


def test_bm_gibbs_per_chain_beta_matches_enumeration():
    """One call with β per chain samples each chain's own tempered model; and the sampler is not
    blind to β: the β = 1 model's samples fail the β = 0.4 test."""
    model, g = random_bm(), torch.Generator().manual_seed(2)
    betas = torch.tensor([1.0, 0.4], dtype=torch.float64).repeat_interleave(15000)
    x = model.gibbs(model.random_visible(30000, g), 30, beta=betas, generator=g)[0]
    assert chi_square_pvalue(x[:15000], exact_probs(model, 1.0)) > P_MIN
    assert chi_square_pvalue(x[15000:], exact_probs(model, 0.4)) > P_MIN
    assert chi_square_pvalue(x[:15000], exact_probs(model, 0.4)) < 1e-10


def test_bm_gibbs_spans_blocks_and_chunks_bit_for_bit():
    """n = 150 (three blocks of sites): the op matches its oracle, and a long run split into
    chunks (sweep0) gives the bits of one call."""
    model = random_bm(150, scale=0.1)
    x0 = model.random_visible(40, torch.Generator().manual_seed(3))
    op = torch.ops.fastebm.bm_gibbs.default
    J, b, beta = model.J.detach(), model.b.detach(), torch.tensor(0.8, dtype=torch.float64)
    whole = op(x0, J, b, 5, beta, 77)
    assert torch.equal(whole, fastebm.reference.bm_gibbs(x0, J, b, 5, 0.8, 77))
    assert torch.equal(whole, op(op(x0, J, b, 2, beta, 77), J, b, 3, beta, 77, 2))


def test_bm_exact_log_z_and_ais_agree():
    model = random_bm(12, scale=0.5)
    exact = exact_log_z(model)
    brute = torch.logsumexp(-model.free_energy(all_states(12)).detach(), 0)
    torch.testing.assert_close(exact, brute)
    est = ais(model, n_chains=200, n_betas=1000, generator=torch.Generator().manual_seed(4))
    assert abs(float(est.log_z) - float(exact)) < 0.05


def test_parallel_tempering_on_a_bimodal_bm():
    """A ferromagnetic BM whose two modes (all 0, all 1) a single β = 1 chain cannot cross in the
    run: parallel tempering's chains visit both in the exact proportion."""
    n = 10
    model = BoltzmannMachine(n, dtype=torch.float64)
    J = torch.full((n, n), 1.2, dtype=torch.float64).fill_diagonal_(0)
    model.set_couplings(J, torch.full((n,), -1.2 * (n - 1) / 2 + 0.1, dtype=torch.float64))
    p = exact_probs(model)
    p_ones = float(p[-1] / (p[0] + p[-1]))  # the all-1 mode's share of the two modes
    g = torch.Generator().manual_seed(5)
    start = torch.zeros(400, n, dtype=torch.float64)
    sampler = GibbsSampler(model, 400, 1, betas=[1.0, 0.7, 0.5, 0.35, 0.2], v0=start, generator=g)
    ones = []
    for step in range(300):
        x = sampler.sample()
        if step >= 100:
            ones.append((x.sum(1) == n).double().mean())
    plain = model.gibbs(start, 300, generator=g)[0]
    assert (plain.sum(1) == n).double().mean() < 0.05  # stuck in the mode it started in
    share = float(torch.stack(ones).mean() / ((x.sum(1) == 0) | (x.sum(1) == n)).double().mean().clamp(min=1e-9))
    assert abs(share - p_ones) < 0.1, (share, p_ones)


def test_parallel_tempering_on_an_ordered_ising_torus():
    """Ising2D through the same GibbsSampler: a 4 × 4 torus at βJ = 0.8 with a small field has two
    modes (all +1, all −1) that plain sweeps from all −1 never leave; parallel tempering weighs
    them as exact enumeration does."""
    model = Ising2D(4, 0.8, 0.05, dtype=torch.float64)
    p = exact_probs(model)
    p_up = float(p[-1] / (p[0] + p[-1]))  # state 2^16 - 1: every x = 1, all spins +1
    g = torch.Generator().manual_seed(9)
    down = torch.zeros(400, 16, dtype=torch.float64)
    sampler = GibbsSampler(model, 400, 1, betas=[1.0, 0.75, 0.55, 0.4, 0.3, 0.2], v0=down,
                           generator=g)
    up, either = [], []
    for step in range(300):
        x = sampler.sample()
        if step >= 100:
            up.append((x.sum(1) == 16).double().mean())
            either.append(((x.sum(1) == 16) | (x.sum(1) == 0)).double().mean())
    assert (model.gibbs(down, 300, generator=g)[0].sum(1) == 16).double().mean() < 0.05
    share = float(torch.stack(up).mean() / torch.stack(either).mean())
    assert abs(share - p_up) < 0.1, (share, p_up)


# ---------------------------------------------------------------- ising_gibbs

def level_pvalue(keys: torch.Tensor, L: int, beta: float, J: float, h: float) -> float:
    """χ² p-value of sampled levels keys = 1000·(bond sum) + (magnetisation sum) against the exact
    level probabilities of the L × L torus at β (its 2^(L²) states enumerated); levels expected
    fewer than 5 times pooled into one bin."""
    model = Ising2D(L, J, h, dtype=torch.float64)
    s = model.spins(all_states(L * L))
    with torch.no_grad():
        log_w = -beta * model.energy(s)
    levels, inverse = torch.unique((model.bond_sum(s) * 1000 + s.sum((1, 2))).long(),
                                   return_inverse=True)
    probs = torch.zeros(len(levels), dtype=torch.float64).index_add_(0, inverse, torch.softmax(log_w, 0))
    counts = torch.bincount(torch.searchsorted(levels, keys), minlength=len(levels)).double()
    assert torch.isin(keys, levels).all(), "a level the lattice cannot have"
    expected = probs * len(keys)
    keep = expected >= 5
    stat = float(((counts[keep] - expected[keep]) ** 2 / expected[keep]).sum()
                 + (counts[~keep].sum() - expected[~keep].sum()) ** 2 / expected[~keep].sum())
    return float(chi2.sf(stat, int(keep.sum())))


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_ising_gibbs_matches_enumeration_of_a_4x4_torus(dtype, device):
    """Replicas at two temperatures in one call (β per replica), with a field: the joint
    distribution of (energy, magnetisation) matches the exact one of the 4×4 torus (χ² over its
    levels), and each half fails the other temperature's test."""
    L, J, h = 4, 0.8, 0.15
    model = Ising2D(L, J, h, dtype=dtype, device=device)
    betas = torch.tensor([0.3, 0.55], dtype=dtype, device=device).repeat_interleave(10000)
    s = model.sample(20000, 500, generator=torch.Generator().manual_seed(6), beta=betas)
    keys = (model.bond_sum(s) * 1000 + s.sum((1, 2))).long().cpu()
    hot, cold = keys[:10000], keys[10000:]
    assert level_pvalue(hot, L, 0.3, J, h) > P_MIN
    assert level_pvalue(cold, L, 0.55, J, h) > P_MIN
    assert level_pvalue(hot, L, 0.55, J, h) < 1e-10 and level_pvalue(cold, L, 0.3, J, h) < 1e-10


@pytest.mark.parametrize("beta", [0.3, 0.6])
def test_ising_l64_agrees_with_onsager(beta):
    """L = 64 against the infinite lattice: energy per site and ⟨|m|⟩ from 16 replicas × 150
    sweeps after 150 of burn-in (started ordered below βc, so no stripe states).

    Finite size: away from βc = 0.4407 the correlation length ξ is a few sites (ξ ≈ 2.3 at β = 0.3,
    below 1 at β = 0.6), so the L = 64 torus differs from Onsager's values by O(e^{-L/ξ}) (< 1e-10)
    in the energy and in m above βc. Below βc the infinite lattice has m = 0 while a finite one has
    ⟨|m|⟩ ≈ √(2/π · χ̃/L²), χ̃ = Σ_r ⟨s₀s_r⟩ ≈ 7 at β = 0.3 (the high-temperature series), i.e. 0.03.
    Sampling error: about 1e-3 in the energy (replica-to-replica spread / √(16·150/τ)).
    """
    L, model = 64, Ising2D(64)
    g = torch.Generator().manual_seed(7)
    s0 = torch.ones(16, L, L) if beta > 0.5 else None
    s = model.sample(16, 150, generator=g, beta=beta, s0=s0)
    energy, mag = [], []
    for _ in range(150):
        s = model.sweep(s, beta=beta, generator=g)
        energy.append(model.energy(s).detach() / L**2)
        mag.append(model.magnetisation(s).abs())
    e, m = float(torch.stack(energy).mean()), float(torch.stack(mag).mean())
    assert abs(e - onsager_energy(beta)) < 0.005, (e, onsager_energy(beta))
    if beta > 0.5:
        assert abs(m - onsager_magnetisation(beta)) < 0.005, (m, onsager_magnetisation(beta))
    else:
        assert m < 0.06, m


def test_onsager_formulas():
    """The closed forms at known points: u(βc) = -√2, m just above βc small, T → 0 limits."""
    beta_c = fastebm.models.BETA_CRITICAL
    assert abs(onsager_energy(beta_c) + math.sqrt(2)) < 1e-6
    assert onsager_magnetisation(beta_c * 0.999) == 0.0 and 0 < onsager_magnetisation(beta_c * 1.001) < 0.6
    assert abs(onsager_energy(5.0) + 2.0) < 1e-8 and abs(onsager_magnetisation(5.0) - 1.0) < 1e-8


def test_ising_exact_log_z_and_ais_agree():
    model = Ising2D(4, 0.5, 0.1, dtype=torch.float64)
    exact = exact_log_z(model)
    est = ais(model, n_chains=200, n_betas=1000, generator=torch.Generator().manual_seed(8))
    assert abs(float(est.log_z) - float(exact)) < 0.05


# ---------------------------------------------------------------- parameter recovery

def exact_samples(model, n: int, seed: int) -> torch.Tensor:
    """[n, V] independent exact samples by enumeration."""
    p = exact_probs(model)
    idx = torch.multinomial(p, n, replacement=True, generator=torch.Generator().manual_seed(seed))
    return all_states(model.n_visible)[idx]


@pytest.fixture(scope="module")
def recovery_data():
    truth = random_bm(10, seed=11, scale=0.8)
    return truth, exact_samples(truth, 50000, 12)


@pytest.mark.parametrize("objective", ["pl", "gpl", "rm"])
def test_parameter_recovery_from_exact_samples(recovery_data, objective):
    """50,000 exact samples of a 10-unit BM (couplings of scale 0.8): PL, generalised PL (windows
    of 3 consecutive sites, cyclic) and ratio matching, each trained by the Trainer, recover J and b:
    mean |ΔJ| < 0.04 and every entry within 0.15. All three are consistent (PL: Mase 1995); at this
    n their errors are about 0.02 per entry (mean; max of the 45 couplings ≈ 0.09), shrinking as
    1/√n (measured: 0.006 mean at 500,000 samples). Starting at J = 0, an estimator that missed
    the couplings would be off by their size, about 0.5."""
    truth, data = recovery_data
    objectives = {"pl": PseudoLikelihood(), "rm": RatioMatching(),
                  "gpl": GeneralisedPseudoLikelihood([[i, (i + 1) % 10, (i + 2) % 10] for i in range(10)])}
    model = BoltzmannMachine(10, dtype=torch.float64, generator=torch.Generator().manual_seed(13))
    Trainer(model, objectives[objective], data, lr=0.05, batch_size=5000, progress=False).fit(60)
    with torch.no_grad():
        dJ, db = (model.J - truth.J).abs(), (model.b - truth.b).abs()
    assert dJ.mean() < 0.04 and dJ.max() < 0.15 and db.max() < 0.15, (dJ.mean(), dJ.max(), db.max())


def test_generalised_pl_of_single_sites_is_pl():
    model = random_bm(8)
    x = exact_samples(model, 50, 14)
    pl = log_pseudo_likelihood(model, x)
    torch.testing.assert_close(log_generalised_pseudo_likelihood(model, x, [[i] for i in range(8)]), pl)


@pytest.mark.parametrize("kind", ["bm", "ising2", "ising4"])
def test_closed_form_conditionals_match_free_energy_differences(kind):
    """The models' log_conditionals and set_log_conditionals hooks against the generic path
    (free energies of flipped / changed copies), on sets of mixed sizes (the 2 × 2 torus's
    windows hold doubled bonds)."""
    if kind == "bm":
        model, sets = random_bm(8), window_sets(2, 4, 2) + [[0, 5, 7]]
    else:
        L = int(kind[-1])
        model, sets = Ising2D(L, 0.7, 0.2, dtype=torch.float64), window_sets(L, L, 2, periodic=True)
    x = model.random_visible(30, torch.Generator().manual_seed(16))
    pl, gpl = log_pseudo_likelihood(model, x), log_generalised_pseudo_likelihood(model, x, sets)
    model.log_conditionals = model.set_log_conditionals = None  # the generic paths
    torch.testing.assert_close(log_pseudo_likelihood(model, x), pl)
    torch.testing.assert_close(log_generalised_pseudo_likelihood(model, x, sets), gpl)


def test_generalised_pl_equals_exact_likelihood_for_one_set_of_all_sites():
    """With S = every site, p(x_S | x₋S) = p(x): the generalised PL is the exact log-likelihood."""
    model = random_bm(8)
    x = exact_samples(model, 20, 15)
    log_p = -model.free_energy(x) - exact_log_z(model)
    torch.testing.assert_close(log_generalised_pseudo_likelihood(model, x, [list(range(8))]), log_p)


def test_window_sets():
    assert window_sets(3, 3, 2) == [[0, 1, 3, 4], [1, 2, 4, 5], [3, 4, 6, 7], [4, 5, 7, 8]]
    assert window_sets(2, 2, 2, periodic=True)[3] == [3, 2, 1, 0]


# ---------------------------------------------------------------- bad input

def test_bad_inputs_are_refused_clearly():
    model = random_bm(6)
    x = torch.ones(3, 6, dtype=torch.float64)
    with pytest.raises(ValueError, match="'J' must be symmetric"):
        fastebm.ops.bm_gibbs(x, torch.ones(6, 6, dtype=torch.float64).triu(1), model.b.detach())
    with pytest.raises(ValueError, match="zero diagonal"):
        fastebm.ops.bm_gibbs(x, torch.eye(6, dtype=torch.float64), model.b.detach())
    with pytest.raises(ValueError, match="'x' must hold only 0 and 1"):
        model.gibbs(2 * x)
    with pytest.raises(ValueError, match="beta"):
        model.gibbs(x, beta=-0.5)
    s = torch.ones(2, 6, 6)
    with pytest.raises(ValueError, match="L even"):
        fastebm.ops.ising_gibbs(s[:, :5, :5], beta=0.4)
    with pytest.raises(ValueError, match="'s' must hold only -1 and 1"):
        fastebm.ops.ising_gibbs(s * 0, beta=0.4)
    with pytest.raises(ValueError, match="beta"):
        fastebm.ops.ising_gibbs(s, beta=-1.0)
    with pytest.raises(ValueError, match="L must be even"):
        Ising2D(5)
    with pytest.raises(ValueError, match="distinct sites"):
        GeneralisedPseudoLikelihood([[0, 0]])
    with pytest.raises(ValueError, match="in \\[0, 6\\)"):
        log_generalised_pseudo_likelihood(model, x, [[0, 9]])
    with pytest.raises(ValueError, match="at most"):
        GeneralisedPseudoLikelihood([list(range(13))])
    with pytest.raises(TypeError, match="binary"):
        RatioMatching().compute_grads(fastebm.models.GaussianBernoulliRBM(3, 2), torch.zeros(2, 3))
