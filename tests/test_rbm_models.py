"""RBM models and the Gibbs sampler: energies against enumeration, parallel tempering's
distribution, argument checks."""

import pytest
import torch

from fastebm.models import BernoulliRBM, GaussianBernoulliRBM
from fastebm.samplers import GibbsSampler

from stats import all_states, chi_square_pvalue


def random_rbm(V, H, seed=0, scale=1.0, cls=BernoulliRBM, **kw):
    model = cls(V, H, dtype=torch.float64, **kw)
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(scale * torch.randn(p.shape, generator=g, dtype=torch.float64))
    return model


def test_free_energy_marginalises_energy():
    model = random_rbm(5, 4, scale=0.7)
    v, h = all_states(5), all_states(4)
    E = torch.stack([model.energy(v, hh.expand(len(v), -1)) for hh in h], 1)  # [2^V, 2^H]
    torch.testing.assert_close(model.free_energy(v), -torch.logsumexp(-E, 1))
    for beta in (0.3, 2.0):
        torch.testing.assert_close(model.free_energy(v, beta), -torch.logsumexp(-beta * E, 1))


def test_conditionals_match_enumeration():
    model = random_rbm(4, 3, seed=1)
    v, h = all_states(4), all_states(3)
    E = torch.stack([model.energy(v, hh.expand(len(v), -1)) for hh in h], 1)
    p_h_given_v = torch.softmax(-E, 1)  # [2^V, 2^H]
    torch.testing.assert_close(model.hidden_probs(v), p_h_given_v @ h)
    p_v_given_h = torch.softmax(-E, 0)
    torch.testing.assert_close(model.visible_probs(h), p_v_given_h.T @ v)


def test_grbm_free_energy_matches_energy_sum():
    model = random_rbm(3, 4, seed=2, scale=0.5, cls=GaussianBernoulliRBM)
    v = torch.randn(7, 3, dtype=torch.float64)
    h = all_states(4)
    E = torch.stack([model.energy(v, hh.expand(len(v), -1)) for hh in h], 1)
    torch.testing.assert_close(model.free_energy(v), -torch.logsumexp(-E, 1))
    torch.testing.assert_close(model.free_energy(v, 0.5), -torch.logsumexp(-0.5 * E, 1))


def exact_visible_probs(model):
    v = all_states(model.n_visible)
    return torch.softmax(-model.free_energy(v), 0)


@pytest.mark.parametrize("betas", [None, [1.0, 0.6, 0.35, 0.2]])
def test_sampler_distribution(betas):
    """Persistent chains, with and without parallel tempering, started in one state, sample the
    exact p(v) of a strongly coupled RBM (chi-square against enumeration). States are read right
    after the swaps, so a wrong swap rule shows (it fails with the acceptance sign flipped)."""
    model = random_rbm(6, 3, seed=3, scale=2.0)
    v0 = torch.zeros(4000, 6, dtype=torch.float64)
    sampler = GibbsSampler(model, 4000, n_steps=1, betas=betas, v0=v0,
                           generator=torch.Generator().manual_seed(5))
    for _ in range(60):
        v = sampler.sample()
    assert chi_square_pvalue(v, exact_visible_probs(model)) > 1e-3
    if betas:
        assert (sampler.swap_rates() > 0.3).all()


def test_tempered_gibbs_samples_tempered_distribution():
    model = random_rbm(6, 3, seed=4, scale=1.0)
    v0 = model.random_visible(20000, torch.Generator().manual_seed(0))
    v, _ = model.gibbs(v0, 40, beta=0.5, generator=torch.Generator().manual_seed(1))
    p = torch.softmax(-model.free_energy(all_states(6), 0.5), 0)
    assert chi_square_pvalue(v, p) > 1e-3
    assert chi_square_pvalue(v, exact_visible_probs(model)) < 1e-6


def test_grbm_tempered_gibbs_variance():
    """At β the GRBM's visible variance given h is σ²/β."""
    model = random_rbm(2, 1, seed=5, scale=0.0, cls=GaussianBernoulliRBM)  # W = 0: v ~ N(b, σ²/β)
    v0 = torch.zeros(20000, 2, dtype=torch.float64)
    v, _ = model.gibbs(v0, 2, beta=0.25, generator=torch.Generator().manual_seed(0))
    torch.testing.assert_close(v.var(0), model.sigma.detach() ** 2 / 0.25, rtol=0.05, atol=0)


def test_bad_arguments():
    model = random_rbm(4, 3)
    with pytest.raises(ValueError, match="betas"):
        GibbsSampler(model, 10, betas=[0.9, 0.5])
    with pytest.raises(ValueError, match="betas"):
        GibbsSampler(model, 10, betas=[1.0, 1.0])
    with pytest.raises(ValueError, match="n_chains"):
        GibbsSampler(model, 0)
    with pytest.raises(ValueError, match="v0"):
        GibbsSampler(model, 10, v0=torch.zeros(3, 4, dtype=torch.float64))
    with pytest.raises(ValueError):
        BernoulliRBM(0, 3)
    with pytest.raises(ValueError, match="sigma"):
        GaussianBernoulliRBM(3, 2, sigma=-1.0)
    with pytest.raises(ValueError, match="beta"):
        random_rbm(2, 2, cls=GaussianBernoulliRBM).gibbs(torch.zeros(1, 2, dtype=torch.float64), beta=0.0)


def test_sampler_state_roundtrip():
    model = random_rbm(5, 3)
    s1 = GibbsSampler(model, 8, betas=[1.0, 0.5], generator=torch.Generator().manual_seed(0))
    s1.sample()
    s2 = GibbsSampler(model, 8, betas=[1.0, 0.5])
    s2.load_state_dict(s1.state_dict())
    s2.generator = torch.Generator().manual_seed(1)
    s1.generator = torch.Generator().manual_seed(1)
    assert torch.equal(s1.sample(), s2.sample())
    with pytest.raises(ValueError):
        GibbsSampler(model, 8).load_state_dict(s1.state_dict())
    assert s1.swap_rates().shape == (1,)


def test_sampler_verbs_sample_advances_the_chains_run_leaves_them():
    """sample(n): one step of the persistent chains, their first n; run(x, n_steps): sweeps of
    the given states (the model's own gibbs under the same generator state), chains untouched."""
    model = random_rbm(5, 3)
    sampler = GibbsSampler(model, 8, 2, generator=torch.Generator().manual_seed(0))
    before = sampler.chains.clone()
    x = (torch.rand(4, 5, generator=torch.Generator().manual_seed(1)) < 0.5).double()
    ran = sampler.run(x, 3, generator=torch.Generator().manual_seed(2))
    assert torch.equal(sampler.chains, before) and sampler.steps == 0
    assert torch.equal(ran, model.gibbs(x, 3, generator=torch.Generator().manual_seed(2))[0])
    assert sampler.sample(3).shape == (3, 5) and sampler.steps == 1
    assert not torch.equal(sampler.chains, before)
    with pytest.raises(ValueError, match="exceeds"):
        sampler.sample(9)


def test_sample_follows_the_contract_signature():
    """docs/naming.md: sample(n, n_steps, *, generator); same generator state, same samples."""
    model = random_rbm(5, 3, seed=9)
    a = model.sample(7, 20, generator=torch.Generator().manual_seed(3))
    b = model.sample(7, 20, generator=torch.Generator().manual_seed(3))
    assert a.shape == (7, 5) and torch.equal(a, b)


def test_clamped_sampling_draws_the_exact_conditional():
    """Known units held fixed at the most and the least probable patterns of three units: the
    unknown units' states follow p(v_unknown | v_known) by enumeration (chi-square); at the
    unlikely pattern, clamping only after the last sweep (the unconditional chain's draws)
    fails the same test."""
    model = random_rbm(7, 3, seed=6, scale=1.5)
    mask = torch.tensor([True, True, True, False, False, False, False])
    states = all_states(7)
    with torch.no_grad():
        log_p = -model.free_energy(states)
    patterns = all_states(3)
    pattern_p = torch.stack([torch.logsumexp(log_p[(states[:, :3] == q).all(1)], 0) for q in patterns])
    n = 20000
    for pattern, unlikely in ((patterns[pattern_p.argmax()], False), (patterns[pattern_p.argmin()], True)):
        known = torch.cat([pattern.repeat(n, 1), torch.zeros(n, 4, dtype=torch.float64)], 1)
        v = model.sample(n, 30, known=known, mask=mask, generator=torch.Generator().manual_seed(7))
        assert torch.equal(v[:, :3], known[:, :3])
        rows = (states[:, :3] == pattern).all(1)
        exact = torch.softmax(log_p[rows], 0)                   # over the unknown units
        assert torch.equal(states[rows][:, 3:], all_states(4))  # in chi_square_pvalue's order
        assert chi_square_pvalue(v[:, 3:], exact) > 1e-3, pattern
        if unlikely:
            free = model.sample(n, 30, generator=torch.Generator().manual_seed(7))
            assert chi_square_pvalue(free[:, 3:], exact) < 1e-6, pattern


def test_clamped_sampling_refuses_bad_arguments():
    model = random_rbm(4, 2)
    known = torch.zeros(3, 4, dtype=torch.float64)
    mask = torch.tensor([True, False, False, False])
    with pytest.raises(ValueError, match="known and mask together"):
        model.sample(3, 5, known=known)
    with pytest.raises(ValueError, match="known must have 3 rows"):
        model.sample(3, 5, known=known[:2], mask=mask)
    with pytest.raises(TypeError, match="mask must be a bool tensor"):
        model.sample(3, 5, known=known, mask=mask.double())
    with pytest.raises(ValueError, match="mask must have shape"):
        model.sample(3, 5, known=known, mask=mask[:3])
    with pytest.raises(ValueError, match="binary"):
        model.sample(3, 5, known=known + 0.5, mask=mask)
