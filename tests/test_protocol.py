"""A model defined here, outside fastebm, plugs into fastebm's objectives, sampler and estimators
through the GibbsModel protocol alone (fastebm.models.base): trained with CD, PCD and PL, sampled
by persistent and tempered chains, its log Z enumerated and estimated by AIS."""

import itertools
import math

import pytest
import torch
from torch import nn

from fastebm.models.base import GibbsModel
from fastebm.objectives import CD, PCD, PseudoLikelihood
from fastebm.partition import ais, exact_log_z, log_likelihood, reverse_ais
from fastebm.samplers import GibbsSampler
from fastebm.training.trainer import Trainer

from stats import all_states, chi_square_pvalue


class TinyBoltzmann(nn.Module):
    """A fully visible Boltzmann machine on {0,1}^n, E(x) = -½xᵀJx - b·x (J symmetric, zero
    diagonal), sampled by sequential single-site Gibbs in plain PyTorch."""

    visible_domain = "binary"

    def __init__(self, n: int, scale: float = 0.0, seed: int = 0):
        super().__init__()
        g = torch.Generator().manual_seed(seed)
        A = scale * torch.randn(n, n, generator=g, dtype=torch.float64)
        self.A = nn.Parameter(A)  # J = (A + Aᵀ) with the diagonal removed
        self.b = nn.Parameter(scale * torch.randn(n, generator=g, dtype=torch.float64))
        self.n_visible = n

    @property
    def J(self) -> torch.Tensor:
        S = self.A + self.A.T
        return S - torch.diag(torch.diagonal(S))

    def free_energy(self, x: torch.Tensor, beta: float = 1.0) -> torch.Tensor:
        return -beta * (0.5 * ((x @ self.J) * x).sum(1) + x @ self.b)

    @torch.no_grad()
    def gibbs(self, x, k=1, *, beta=1.0, generator=None):
        x, J = x.clone(), self.J
        for _ in range(k):
            for i in range(self.n_visible):
                p = torch.sigmoid(beta * (x @ J[:, i] + self.b[i]))
                x[:, i] = (torch.rand(len(x), generator=generator, dtype=x.dtype) < p).to(x.dtype)
        return x, None

    def random_visible(self, n, generator=None):
        return torch.bernoulli(torch.full((n, self.n_visible), 0.5, dtype=torch.float64),
                               generator=generator)


def brute_force_log_z(model) -> float:
    """Σ over {0,1}^n with Python floats, written from E(x) directly."""
    J, b = model.J.detach().tolist(), model.b.detach().tolist()
    n = model.n_visible
    terms = []
    for x in itertools.product((0, 1), repeat=n):
        e = -sum(b[i] * x[i] for i in range(n)) - 0.5 * sum(
            J[i][j] * x[i] * x[j] for i in range(n) for j in range(n))
        terms.append(-e)
    top = max(terms)
    return top + math.log(sum(math.exp(t - top) for t in terms))


def teacher_data(n_rows=3000, seed=1):
    teacher = TinyBoltzmann(6, scale=0.6, seed=seed)
    p = torch.softmax(-teacher.free_energy(all_states(6)).detach(), 0)
    idx = torch.multinomial(p, n_rows, replacement=True, generator=torch.Generator().manual_seed(2))
    return teacher, all_states(6)[idx]


def test_implements_the_protocol():
    assert isinstance(TinyBoltzmann(4), GibbsModel)


def test_exact_log_z_and_ais():
    model = TinyBoltzmann(7, scale=0.5, seed=3)
    exact = float(exact_log_z(model))
    assert math.isclose(exact, brute_force_log_z(model), rel_tol=1e-12)
    g = torch.Generator().manual_seed(0)
    fwd = ais(model, 200, betas=torch.linspace(0, 1, 300).tolist(), generator=g)
    rev = reverse_ais(model, model.random_visible(200, g), burn_in=50,
                      betas=torch.linspace(0, 1, 300).tolist(), generator=g)
    for est in (fwd, rev):
        assert abs(est.log_z - exact) < 4 * est.stderr + 0.02, (est, exact)
    lp = log_likelihood(model, all_states(7), fwd)  # a LogZ is accepted
    assert math.isclose(float(torch.logsumexp(lp, 0)), exact - fwd.log_z, abs_tol=1e-9)


@pytest.mark.parametrize("betas", [None, [1.0, 0.5]])
def test_sampler_distribution(betas):
    model = TinyBoltzmann(5, scale=0.8, seed=4)
    sampler = GibbsSampler(model, 3000, betas=betas, generator=torch.Generator().manual_seed(1))
    for _ in range(25):
        v = sampler.sample()
    p = torch.softmax(-model.free_energy(all_states(5)).detach(), 0)
    assert chi_square_pvalue(v, p) > 1e-3
    q = torch.softmax(-model.free_energy(all_states(5), 0.5).detach(), 0)  # the wrong target
    assert chi_square_pvalue(v, q) < 1e-6


@pytest.mark.parametrize("objective", [CD(1), PCD(200, 1), PCD(200, 1, betas=[1.0, 0.6]),
                                       PseudoLikelihood()],
                         ids=["cd", "pcd", "pt-pcd", "pl"])
def test_training_approaches_the_teacher(objective):
    """Each objective trains the model from J = b = 0 to within 0.03 nats per row of the
    teacher's own exact log-likelihood of the data (from 6 log 2 ≈ 4.16 nats away)."""
    teacher, data = teacher_data()
    model = TinyBoltzmann(6)
    trainer = Trainer(model, objective, data, optimizer="adam", lr=0.02, batch_size=100, seed=0,
                      progress=False)
    trainer.fit(30)
    ll = float(log_likelihood(model, data, exact_log_z(model)).mean())
    best = float(log_likelihood(teacher, data, exact_log_z(teacher)).mean())
    start = -6 * math.log(2)
    assert best - start > 0.5
    assert ll > best - 0.03, (ll, best, start)
