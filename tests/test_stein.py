"""Stein CD, SteinGAN and amortized SVGD against exact targets: a correlated 2-D Gaussian's moments
(learnt by a GaussianEnergy, drawn by a linear sampler network) and a small GRBM's exact likelihood;
resume through the Trainer; bad inputs."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from fastebm.training import schedules
from fastebm.models import BernoulliRBM, GaussianBernoulliRBM, GaussianEnergy
from fastebm.objectives import SteinCD, SteinCDGAN, SteinGAN
from fastebm.partition import exact_log_z, log_likelihood
from fastebm.samplers import AmortizedSVGD
from fastebm.samplers.svgd import target_score
from fastebm.training.trainer import Trainer

MU = torch.tensor([1.0, -2.0], dtype=torch.float64)
COV = torch.tensor([[1.0, 0.6], [0.6, 0.5]], dtype=torch.float64)


def data(n: int = 8000) -> torch.Tensor:
    g = torch.Generator().manual_seed(0)
    return MU + torch.randn(n, 2, generator=g, dtype=torch.float64) @ torch.linalg.cholesky(COV).T


def moments_close(mean, cov, tol_mean: float, tol_cov: float, target=(MU, COV)) -> bool:
    """Mean within tol_mean of the target's and every covariance entry within tol_cov."""
    return bool((mean - target[0]).abs().max() < tol_mean
                and (cov - target[1]).abs().max() < tol_cov)


def data_moments():
    x = data()
    return x.mean(0), torch.cov(x.T)


def energy_moments(model: GaussianEnergy):
    with torch.no_grad():
        return model.mean, torch.linalg.inv(model.precision)


def network_moments(sampler: AmortizedSVGD, n: int = 20000):
    x = sampler.sample(n, generator=torch.Generator().manual_seed(5))
    return x.mean(0), torch.cov(x.T)


def gaussian_energy() -> GaussianEnergy:
    return GaussianEnergy(torch.zeros(2, dtype=torch.float64), torch.eye(2, dtype=torch.float64))


def linear_sampler(lr: float = 0.02, **kw) -> AmortizedSVGD:
    torch.manual_seed(1)
    return AmortizedSVGD(nn.Linear(2, 2).double(), 2, n_particles=200, lr=lr, **kw)


def train(model, objective, x, epochs: int, batch_size: int = 200, lr: float = 0.02, **kw):
    steps = epochs * -(-len(x) // batch_size)
    trainer = Trainer(model, objective, x, lr=lr, batch_size=batch_size, progress=False,
                      schedule=schedules.cosine(steps), **kw)
    trainer.fit(epochs)
    return trainer


@pytest.mark.parametrize("exclude_self", [True, False])
def test_amortized_svgd_learns_to_draw_a_correlated_gaussian(exclude_self):
    """The leave-one-out φ draws the target within 0.05 in mean and 0.03 in covariance; SVGD's
    own φ* (the j = i term kept) shrinks the covariance by about 7% at n = 200: within 0.1, not
    0.03."""
    target = GaussianEnergy(MU, torch.linalg.inv(COV))
    sampler = linear_sampler(exclude_self=exclude_self)
    g = torch.Generator().manual_seed(0)
    start = network_moments(sampler)
    for step in range(1000):  # Adam's lr decayed linearly to 0, so the end is not its jitter
        sampler.optimizer.param_groups[0]["lr"] = 0.05 * (1 - step / 1000)
        sampler.update(lambda y: target_score(y, lambda z: -target.energy(z)), generator=g)
    assert not moments_close(*start, 0.1, 0.1)
    moments = network_moments(sampler)
    assert moments_close(*moments, 0.05, 0.1)
    assert moments_close(*moments, 0.05, 0.03) == exclude_self


@pytest.mark.parametrize("exclude_self", [True, False])
def test_stein_cd_recovers_a_gaussian(exclude_self):
    """The data's mean within 0.03 and covariance within 0.04 with the leave-one-out φ; Liu &
    Wang's φ* fits a wider model (a batch of n true draws is a fixed point of SVGD only under a
    wider model): about 7% at batches of 200, within 0.1 but not 0.04."""
    model = gaussian_energy()
    train(model, SteinCD(step_size=0.5, exclude_self=exclude_self), data(), 15, lr=0.1)
    assert moments_close(*energy_moments(model), 0.03, 0.1, data_moments())
    assert moments_close(*energy_moments(model), 0.03, 0.04, data_moments()) == exclude_self


def test_stein_cd_with_a_fixed_tiny_bandwidth_does_not():
    """The check can fail: with h far below the data's scale no particle sees another, the
    leave-one-out φ is 0 and the model does not move from N(0, I)."""
    model = gaussian_energy()
    train(model, SteinCD(step_size=0.5, bandwidth=1e-4), data(), 15, lr=0.1)
    assert not moments_close(*energy_moments(model), 0.03, 0.1, data_moments())


def test_steingan_learns_the_energy_and_the_sampler_network():
    """The energy: the data's moments within 0.03 / 0.04; the generator (constant Adam lr, so
    still jittering): within 0.05 / 0.1."""
    model, sampler = gaussian_energy(), linear_sampler()
    train(model, SteinGAN(sampler), data(), 20)
    assert moments_close(*energy_moments(model), 0.03, 0.04, data_moments())
    assert moments_close(*network_moments(sampler), 0.05, 0.1)


def grads_of(objective, seed: int = 3) -> list[torch.Tensor]:
    """The energy's parameter gradients of one step of ``objective`` on a batch of the data."""
    model = gaussian_energy()
    objective.compute_grads(model, data()[:100], torch.Generator().manual_seed(seed))
    return [p.grad.clone() for p in model.parameters()]


@pytest.mark.parametrize("weight", [0.0, 0.3, 1.0])
def test_stein_cd_and_steingan_together_are_the_weighted_sum_of_their_gradients(weight):
    """SteinCDGAN's step: w × Stein CD's gradient + (1 - w) × SteinGAN's (the generator in the
    same state, the same draws), to rounding."""
    together = grads_of(SteinCDGAN(linear_sampler(), 0.1, 2, weight=weight))
    cd = grads_of(SteinCD(0.1, 2))
    gan = grads_of(SteinGAN(linear_sampler()))
    for g, a, b in zip(together, cd, gan):
        torch.testing.assert_close(g, weight * a + (1 - weight) * b, rtol=1e-12, atol=1e-12)


def test_stein_cd_and_steingan_together_learn_the_energy_and_the_network():
    """As each alone: the energy within 0.03 / 0.04 of the data's moments, the generator within
    0.05 / 0.1."""
    model, sampler = gaussian_energy(), linear_sampler()
    train(model, SteinCDGAN(sampler, 0.1), data(), 20)
    assert moments_close(*energy_moments(model), 0.03, 0.04, data_moments())
    assert moments_close(*network_moments(sampler), 0.05, 0.1)
    with pytest.raises(ValueError, match="weight"):
        SteinCDGAN(sampler, weight=1.5)


def test_stein_cd_fits_a_grbm_by_exact_likelihood():
    """Student GRBM 3-2 on 20,000 samples of a teacher: KL(teacher ‖ student) from 6 nats to
    under 0.05 (both log-likelihoods exact, by enumeration of h)."""
    g = torch.Generator().manual_seed(0)
    teacher = GaussianBernoulliRBM(3, 2, weight_std=1.0, dtype=torch.float64, generator=g)
    with torch.no_grad():
        teacher.b.copy_(torch.tensor([0.5, -0.5, 0.0], dtype=torch.float64))
    v, _ = teacher.gibbs(teacher.random_visible(20000, g), 200, generator=g)

    def kl(model):
        return (log_likelihood(teacher, v, exact_log_z(teacher))
                - log_likelihood(model, v, exact_log_z(model))).mean().item()

    student = GaussianBernoulliRBM(3, 2, weight_std=0.1, dtype=torch.float64,
                                   generator=torch.Generator().manual_seed(1))
    before = kl(student)
    train(student, SteinCD(0.5), v, 10, batch_size=500, lr=0.1)
    assert before > 5 and kl(student) < 0.05


def test_steingan_resumes_bit_for_bit(tmp_path):
    """The generator and its Adam state are checkpointed with the objective."""
    x = data(800)

    def run(path, epochs, resume=False):
        model, sampler = gaussian_energy(), linear_sampler()
        kw = dict(lr=0.02, batch_size=200, progress=False)
        trainer = (Trainer.resume(str(path), model, SteinGAN(sampler), x, **kw) if resume
                   else Trainer(model, SteinGAN(sampler), x, checkpoint=str(path), **kw))
        trainer.fit(epochs)
        return [p.detach().clone() for p in [*model.parameters(), *sampler.network.parameters()]]

    full = run(tmp_path / "full.pt", 4)
    run(tmp_path / "part.pt", 2)
    resumed = run(tmp_path / "part.pt", 4, resume=True)
    assert all(torch.equal(a, b) for a, b in zip(full, resumed))


def test_bad_inputs():
    x = data(10)
    with pytest.raises(TypeError, match="binary"):
        SteinCD().compute_grads(BernoulliRBM(2, 2), (x > 0).float())
    with pytest.raises(TypeError, match="neither"):
        SteinCD().compute_grads(nn.Linear(2, 1), x)
    with pytest.raises(ValueError, match="at least 2"):
        SteinCD().compute_grads(gaussian_energy(), x[:1])
    with pytest.raises(ValueError, match="shape"):
        SteinCD().compute_grads(gaussian_energy(), x[:, :1])
    with pytest.raises(ValueError, match="NaN"):
        SteinCD().compute_grads(gaussian_energy(), torch.full_like(x, float("nan")))
    for kwargs in ({"step_size": 0.0}, {"n_steps": 0}, {"bandwidth": -1.0}):
        with pytest.raises(ValueError):
            SteinCD(**kwargs)
    with pytest.raises(TypeError, match="AmortizedSVGD"):
        SteinGAN(nn.Linear(2, 2))
    with pytest.raises(TypeError, match="nn.Module"):
        AmortizedSVGD(lambda xi: xi, 2)
    with pytest.raises(ValueError):
        AmortizedSVGD(nn.Linear(2, 2), 2, n_particles=1)
    wrong = AmortizedSVGD(nn.Linear(2, 3).double(), 2, n_particles=8)
    with pytest.raises(ValueError, match="do not match"):
        SteinGAN(wrong).compute_grads(gaussian_energy(), x)
    exploded = linear_sampler()
    with torch.no_grad():
        exploded.network.weight.fill_(float("inf"))
    with pytest.raises(ValueError, match="NaN or Inf"):
        SteinGAN(exploded).compute_grads(gaussian_energy(), x)
