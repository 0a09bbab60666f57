"""Continuous-EBM objectives recover a Gaussian EBM E(x) = ½(x-μ)ᵀP(x-μ) from 20,000 samples:
exact, sliced and denoising score matching and NCE each find μ and P within a stated tolerance
(and a wrong objective does not); maximum likelihood with Langevin negatives too."""

from __future__ import annotations

import math

import pytest
import torch

from fastebm.training import schedules
from fastebm.models import EnergyModel, GaussianEnergy
from fastebm.objectives import (NCE, DenoisingScoreMatching, MaximumLikelihood, ScoreMatching,
                                SlicedScoreMatching)
from fastebm.samplers import LangevinSampler
from fastebm.training.trainer import Trainer

MU = torch.tensor([1.0, -0.5], dtype=torch.float64)
COV = torch.tensor([[1.0, 0.6], [0.6, 2.0]], dtype=torch.float64)
PRECISION = torch.linalg.inv(COV)


def data(n: int = 20000) -> torch.Tensor:
    g = torch.Generator().manual_seed(0)
    return MU + torch.randn(n, 2, generator=g, dtype=torch.float64) @ torch.linalg.cholesky(COV).T


def fit(objective, epochs: int = 20, lr: float = 0.05, **model_kwargs) -> GaussianEnergy:
    model = GaussianEnergy(torch.zeros(2, dtype=torch.float64), torch.eye(2, dtype=torch.float64),
                           **model_kwargs)
    trainer = Trainer(model, objective, data(), optimizer="adam", lr=lr, batch_size=1000,
                      schedule=schedules.cosine(epochs * 20), progress=False)
    trainer.fit(epochs)
    return model


def recovered(model: GaussianEnergy, tol_mean: float, tol_precision: float) -> bool:
    with torch.no_grad():
        return bool((model.mean - MU).abs().max() < tol_mean
                    and (model.precision - PRECISION).abs().max() < tol_precision)


@pytest.mark.parametrize("objective,epochs", [
    (ScoreMatching(), 20), (SlicedScoreMatching(n_projections=2), 20),
    (SlicedScoreMatching(variance_reduced=False), 20),
    (DenoisingScoreMatching(0.1), 40),  # optimum (Σ + 0.01 I)⁻¹: within 0.03 of P
], ids=["exact", "sliced-vr", "sliced", "denoising"])
def test_score_matching_recovers_a_gaussian(objective, epochs):
    assert recovered(fit(objective, epochs), 0.05, 0.06)


def test_denoising_with_a_large_sigma_learns_the_smoothed_density():
    """The check can fail: DSM with σ = 1 recovers (Σ + I)⁻¹, not Σ⁻¹."""
    model = fit(DenoisingScoreMatching(1.0))
    assert not recovered(model, 0.05, 0.06)
    with torch.no_grad():
        assert (model.precision - torch.linalg.inv(COV + torch.eye(2))).abs().max() < 0.06


def test_nce_recovers_a_gaussian_and_its_log_normaliser():
    model = fit(NCE(nu=4.0), learn_log_normalizer=True)
    assert recovered(model, 0.05, 0.08)
    log_z = 0.5 * 2 * math.log(2 * math.pi) + 0.5 * torch.logdet(COV).item()
    assert abs(model.log_normalizer.item() - log_z) < 0.05


def test_nce_needs_a_learnable_log_normaliser():
    model = GaussianEnergy(torch.zeros(2, dtype=torch.float64), torch.eye(2, dtype=torch.float64))
    with pytest.raises(TypeError, match="log normaliser"):
        NCE().compute_grads(model, data(10))


def test_maximum_likelihood_with_mala_negatives_recovers_a_gaussian():
    model = GaussianEnergy(torch.zeros(2, dtype=torch.float64), torch.eye(2, dtype=torch.float64))
    sampler = LangevinSampler(model, 0.3, 5, mala=True, buffer_size=2000, reinit_prob=0.0,
                              progress=False)
    trainer = Trainer(model, MaximumLikelihood(sampler), data(), optimizer="adam", lr=0.05,
                      batch_size=1000, schedule=schedules.cosine(40 * 20), progress=False)
    trainer.fit(40)
    assert recovered(model, 0.08, 0.1)


def test_exact_score_matching_refuses_large_inputs():
    model = EnergyModel(torch.nn.Linear(100, 1), (100,))
    with pytest.raises(ValueError, match="SlicedScoreMatching"):
        ScoreMatching().compute_grads(model, torch.zeros(3, 100))


@pytest.mark.parametrize("make,error", [
    (lambda: DenoisingScoreMatching([]), ValueError), (lambda: DenoisingScoreMatching(-1.0), ValueError),
    (lambda: SlicedScoreMatching(0), ValueError), (lambda: NCE(nu=0.0), ValueError),
    (lambda: NCE(noise=3), TypeError), (lambda: MaximumLikelihood(3), TypeError),
    (lambda: MaximumLikelihood(LangevinSampler(GaussianEnergy(MU, COV), 0.1), alpha=-1.0), ValueError),
])
def test_objectives_refuse_bad_hyper_parameters(make, error):
    with pytest.raises(error):
        make()


def test_objectives_refuse_bad_batches():
    model = GaussianEnergy(MU, COV)
    for bad in (torch.zeros(4, 3, dtype=torch.float64), torch.full((4, 2), math.nan, dtype=torch.float64)):
        with pytest.raises(ValueError):
            ScoreMatching().compute_grads(model, bad)
