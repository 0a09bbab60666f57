"""The deep Boltzmann machine against exact enumeration of tiny ones: its sweeps' stationary law
(chi-square), exact and AIS log Z, the mean-field bound on log p(v), clamped sampling, and
training by mean-field PCD raising the exact test log-likelihood."""

import pytest
import torch

from fastebm.models import DBM
from fastebm.objectives import MeanFieldPCD
from fastebm.partition import ais, exact_log_z
from fastebm.training import Trainer

from stats import all_states, chi_square_pvalue


def gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def random_dbm(sizes, seed: int, scale: float = 1.0) -> DBM:
    model = DBM(sizes, weight_std=scale, dtype=torch.float64, generator=gen(seed))
    with torch.no_grad():
        for b in model.biases:
            b.copy_(0.5 * torch.randn(len(b), generator=gen(seed + 100), dtype=torch.float64))
    return model


def joint_log_weights(model: DBM) -> tuple[torch.Tensor, torch.Tensor]:
    """(every joint state [2^N, N] with the layers in order, -E of each)."""
    x = all_states(sum(model.sizes))
    layers, start = [], 0
    for n in model.sizes:
        layers.append(x[:, start:start + n])
        start += n
    with torch.no_grad():
        return x, -model.energy(layers)


def exact_log_p_visible(model: DBM, v: torch.Tensor) -> torch.Tensor:
    """[B] log p(v) by summing the joint over every hidden state."""
    x, log_w = joint_log_weights(model)
    V = model.n_visible
    log_z = torch.logsumexp(log_w, 0)
    index = (x[:, :V] * 2 ** torch.arange(V)).sum(1).long()
    per_v = torch.stack([torch.logsumexp(log_w[index == i], 0) for i in range(2**V)])
    return per_v[(v * 2 ** torch.arange(V)).sum(1).long()] - log_z


@pytest.mark.parametrize("sizes", [[3, 2, 2], [2, 2, 2, 2]])
def test_log_z_exact_and_by_ais_match_brute_force(sizes):
    model = random_dbm(sizes, 1)
    _, log_w = joint_log_weights(model)
    brute = float(torch.logsumexp(log_w, 0))
    rbm = model.equivalent_rbm()
    assert float(exact_log_z(rbm)) == pytest.approx(brute, abs=1e-10)
    estimate = ais(rbm, 500, 2000, base_b=model.even_base_biases(), generator=gen(2))
    assert abs(estimate.log_z - brute) < 0.05, (estimate.log_z, brute)


def test_the_fused_sweeps_sample_the_joint_law():
    """20,000 chains × 30 sweeps of a strongly coupled 3-3-2 DBM: the even units' states (x⁰, x²)
    against their exact marginal (chi-square); the visible marginal likewise."""
    model = random_dbm([3, 3, 2], 3, scale=1.5)
    x, log_w = joint_log_weights(model)
    even = torch.cat([x[:, :3], x[:, 6:8]], 1)
    index = (even * 2 ** torch.arange(5)).sum(1).long()
    p_even = torch.zeros(32, dtype=torch.float64).index_add_(0, index, torch.softmax(log_w, 0))
    e, _ = model.gibbs(model.random_even(20000, gen(4)), 30, generator=gen(5))
    assert chi_square_pvalue(e, p_even) > 1e-3
    p_v = p_even.view(4, 8).sum(0)  # bits 0..2 are the visible units
    assert chi_square_pvalue(model.sample(20000, 30, generator=gen(6)), p_v) > 1e-3


def test_the_mean_field_bound_is_below_and_near_log_p():
    model = random_dbm([4, 3, 3], 7, scale=0.8)
    v = all_states(4)
    _, log_w = joint_log_weights(model)
    log_z = torch.logsumexp(log_w, 0)
    exact = exact_log_p_visible(model, v)
    bound = model.variational_bound(v, log_z)
    assert (bound <= exact + 1e-12).all()
    assert (exact - bound).max() < 0.2, exact - bound
    # the fixed point: μ¹ = σ(b¹ + v W⁰ + μ² W¹ᵀ), μ² = σ(b² + μ¹ W¹)
    mu1, mu2 = model.mean_field(v, 100)
    with torch.no_grad():
        torch.testing.assert_close(mu1, torch.sigmoid(model.biases[1] + v @ model.weights[0]
                                                      + mu2 @ model.weights[1].T))
        torch.testing.assert_close(mu2, torch.sigmoid(model.biases[2] + mu1 @ model.weights[1]))


def test_clamped_sampling_draws_the_exact_conditional():
    model = random_dbm([5, 3, 2], 8, scale=1.5)
    mask = torch.tensor([True, False, True, False, False])
    pattern = torch.tensor([1.0, 0.0], dtype=torch.float64)
    v = all_states(5)
    log_p = exact_log_p_visible(model, v)
    rows = (v[:, mask] == pattern).all(1)
    exact = torch.softmax(log_p[rows], 0)
    assert torch.equal(v[rows][:, ~mask], all_states(3))
    known = torch.zeros(20000, 5, dtype=torch.float64)
    known[:, mask] = pattern
    draws = model.sample(20000, 30, known=known, mask=mask, generator=gen(9))
    assert torch.equal(draws[:, mask], known[:, mask])
    assert chi_square_pvalue(draws[:, ~mask], exact) > 1e-3


def test_mean_field_pcd_raises_the_exact_test_log_likelihood():
    """A 6-4-3 DBM trained on draws of a teacher DBM: the exact test log-likelihood rises from
    the untrained model's by over 0.5 nats and ends within 0.3 of the teacher's own."""
    teacher = random_dbm([6, 4, 3], 10, scale=2.0)
    data = teacher.sample(3000, 200, generator=gen(11))
    train, test = data[:2000], data[2000:]
    student = DBM([6, 4, 3], dtype=torch.float64, generator=gen(12))
    before = float(exact_log_p_visible(student, test).mean())
    Trainer(student, MeanFieldPCD(n_chains=200, k=1, mean_field_steps=10), train, lr=0.05,
            batch_size=100, progress=False, seed=13).fit(40)
    after = float(exact_log_p_visible(student, test).mean())
    best = float(exact_log_p_visible(teacher, test).mean())
    assert after > before + 0.5, (before, after, best)
    assert after > best - 0.3, (before, after, best)


@pytest.mark.parametrize("make,match", [
    (lambda: DBM([4, 3]), "at least 2 hidden"),
    (lambda: DBM([4, 0, 3]), "sizes"),
    (lambda: random_dbm([3, 2, 2], 0).sample(4, 5, known=torch.zeros(4, 3)), "together"),
    (lambda: random_dbm([3, 2, 2], 0).variational_bound(torch.full((2, 3), 0.5), 0.0), "binary"),
    (lambda: random_dbm([3, 2, 2], 0).even_base_biases(torch.zeros(5, 4)), "data"),
    (lambda: MeanFieldPCD(n_chains=0), "n_chains"),
])
def test_bad_input_is_refused(make, match):
    with pytest.raises((ValueError, TypeError), match=match):
        make()
