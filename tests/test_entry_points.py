"""Bad calls of every public Python entry point — models, sampler, objectives, estimators,
Trainer, optimizers, schedules — raise a ValueError / TypeError that names the argument, never a
crash inside torch or a silent number (the Python twin of the op table in test_op_contract)."""

import pytest
import torch

from fastebm.training import schedules
from fastebm.training.ema import EMA
from fastebm.models import BernoulliRBM, GaussianBernoulliRBM
from fastebm.objectives import CD, PCD, PseudoLikelihood, log_pseudo_likelihood
from fastebm.training.optim import SGD, Adam
from fastebm.partition import ais, bridge_sampling, exact_log_z, log_likelihood, reverse_ais
from fastebm.samplers import GibbsSampler
from fastebm.training.trainer import Trainer


def rbm():
    return BernoulliRBM(6, 4, generator=torch.Generator().manual_seed(0))


def grbm():
    return GaussianBernoulliRBM(3, 2, generator=torch.Generator().manual_seed(0))


def nan_rbm():
    model = rbm()
    with torch.no_grad():
        model.W[0, 0] = float("nan")
    return model


BINARY = torch.bernoulli(torch.full((10, 6), 0.5), generator=torch.Generator().manual_seed(1))
PIXELS = BINARY * 255
SPINS = BINARY * 2 - 1

# (entry point, call, exception, words the message must contain)
BAD_CALLS = [
    ("BernoulliRBM", lambda: BernoulliRBM(0, 3), ValueError, "n_visible"),
    ("BernoulliRBM", lambda: BernoulliRBM(3, 2.5), TypeError, "n_hidden"),
    ("BernoulliRBM", lambda: BernoulliRBM(3, 2, weight_std=float("nan")), ValueError, "weight_std"),
    ("BernoulliRBM", lambda: BernoulliRBM(3, 2, generator=0), TypeError, "generator"),
    ("GaussianBernoulliRBM", lambda: GaussianBernoulliRBM(3, 2, sigma=-1.0), ValueError, "sigma"),
    ("gibbs", lambda: rbm().gibbs(BINARY, beta=float("nan")), ValueError, "beta"),
    ("gibbs", lambda: rbm().gibbs(BINARY, beta=-0.5), ValueError, "beta"),
    ("gibbs", lambda: grbm().gibbs(torch.zeros(2, 3), beta=0.0), ValueError, "beta"),
    ("sample", lambda: rbm().sample(0), ValueError, "n"),
    ("sample", lambda: rbm().sample(5, 1.5), TypeError, "n_steps"),
    ("sample", lambda: rbm().sample(10, 3, v0=PIXELS), ValueError, "binary"),
    ("sample", lambda: rbm().sample(4, 3, v0=BINARY), ValueError, "v0"),
    ("GibbsSampler", lambda: GibbsSampler(rbm(), 10, betas=[]), ValueError, "betas"),
    ("GibbsSampler", lambda: GibbsSampler(rbm(), 10, betas=[1.0, float("nan")]), ValueError, "betas"),
    ("GibbsSampler", lambda: GibbsSampler(rbm(), 10, betas=[1.0, 1.5]), ValueError, "betas"),
    ("GibbsSampler", lambda: GibbsSampler(rbm(), 10, v0=SPINS), ValueError, "binary"),
    ("GibbsSampler", lambda: GibbsSampler(rbm(), 1.5), TypeError, "n_chains"),
    ("GibbsSampler", lambda: GibbsSampler(object(), 10), TypeError, "free_energy"),
    ("GibbsSampler", lambda: GibbsSampler(rbm(), 10, generator=0), TypeError, "generator"),
    ("CD", lambda: CD(0), ValueError, "k"),
    ("PCD", lambda: PCD(100, 1, betas=[1.0, float("nan")]), ValueError, "betas"),
    ("PCD", lambda: PCD(1.5), TypeError, "n_chains"),
    ("compute_grads", lambda: CD().compute_grads(rbm(), torch.ones(3, 5)), ValueError, "batch"),
    ("compute_grads", lambda: PCD().compute_grads(rbm(), torch.ones(0, 6)), ValueError, "batch"),
    ("PseudoLikelihood", lambda: PseudoLikelihood(stochastic="yes"), TypeError, "stochastic"),
    ("log_pseudo_likelihood", lambda: log_pseudo_likelihood(rbm(), PIXELS), ValueError, "binary"),
    ("log_pseudo_likelihood", lambda: log_pseudo_likelihood(grbm(), torch.zeros(2, 3)), TypeError,
     "binary"),
    ("exact_log_z", lambda: exact_log_z(nan_rbm()), ValueError, "NaN"),
    ("exact_log_z", lambda: exact_log_z(BernoulliRBM(100, 64)), ValueError, "ais"),
    ("log_likelihood", lambda: log_likelihood(rbm(), PIXELS, 1.0), ValueError, "binary"),
    ("log_likelihood", lambda: log_likelihood(rbm(), SPINS, 1.0), ValueError, "binary"),
    ("log_likelihood", lambda: log_likelihood(rbm(), BINARY, float("nan")), ValueError, "log_z"),
    ("log_likelihood", lambda: log_likelihood(rbm(), BINARY, torch.ones(2)), ValueError, "log_z"),
    ("log_likelihood", lambda: log_likelihood(rbm(), BINARY, "x"), TypeError, "log_z"),
    ("log_likelihood", lambda: log_likelihood(rbm(), BINARY[:, :5], 1.0), ValueError, "shape"),
    ("log_likelihood", lambda: log_likelihood(rbm(), BINARY * float("nan"), 1.0), ValueError, "NaN"),
    ("ais", lambda: ais(rbm(), 1.5, 10), TypeError, "n_chains"),
    ("ais", lambda: ais(rbm(), 0, 10), ValueError, "n_chains"),
    ("ais", lambda: ais(rbm(), 5, 2), ValueError, "n_betas"),
    ("ais", lambda: ais(rbm(), 5, betas=[0.0, 1.5, 1.0]), ValueError, "betas"),
    ("ais", lambda: ais(rbm(), 5, betas=[0.0, float("nan"), 1.0]), ValueError, "betas"),
    ("ais", lambda: ais(rbm(), 5, betas=[0.0, 0.7, 0.5, 1.0]), ValueError, "monotone"),
    ("ais", lambda: ais(rbm(), 5, 10, data=PIXELS), ValueError, "binary"),
    ("ais", lambda: ais(nan_rbm(), 5, 10), ValueError, "NaN"),
    ("ais", lambda: ais(rbm(), 5, 10, generator=0), TypeError, "generator"),
    ("ais", lambda: ais(grbm(), 5, 10, base_b=torch.zeros(3)), ValueError, "base_b"),
    ("ais", lambda: ais(rbm(), 5, 10, base_b=torch.zeros(5)), ValueError, "base_b"),
    ("reverse_ais", lambda: reverse_ais(rbm(), SPINS, 10), ValueError, "binary"),
    ("reverse_ais", lambda: reverse_ais(rbm(), BINARY[:0], 10), ValueError, "empty"),
    ("reverse_ais", lambda: reverse_ais(rbm(), BINARY, 10, burn_in=-1), ValueError, "burn_in"),
    ("bridge_sampling", lambda: bridge_sampling(rbm(), rbm(), PIXELS, BINARY), ValueError, "binary"),
    ("bridge_sampling", lambda: bridge_sampling(rbm(), rbm(), BINARY, BINARY, log_z_a=float("inf")),
     ValueError, "log_z_a"),
    ("Trainer", lambda: Trainer(rbm(), CD(), PIXELS), ValueError, "binary"),
    ("Trainer", lambda: Trainer(rbm(), CD(), SPINS), ValueError, "binary"),
    ("Trainer", lambda: Trainer(rbm(), CD(), BINARY[:0]), ValueError, "empty"),
    ("Trainer", lambda: Trainer(rbm(), CD(), BINARY * float("nan")), ValueError, "NaN"),
    ("Trainer", lambda: Trainer(rbm(), CD(), 5), TypeError, "data"),
    ("Trainer", lambda: Trainer(rbm(), CD(), BINARY, batch_size=0), ValueError, "batch_size"),
    ("Trainer", lambda: Trainer(rbm(), CD(), BINARY, lr=float("nan")), ValueError, "lr"),
    ("Trainer", lambda: Trainer(rbm(), CD(), BINARY, lr=0.0), ValueError, "lr"),
    ("Trainer", lambda: Trainer(rbm(), CD(), BINARY, optimizer="rmsprop"), ValueError, "optimizer"),
    ("Trainer", lambda: Trainer(rbm(), CD(), BINARY, optimizer=lambda p: 3), TypeError, "optimizer"),
    ("Trainer", lambda: Trainer(rbm(), CD(), BINARY, momentum=1.5), ValueError, "momentum"),
    ("Trainer", lambda: Trainer(rbm(), CD(), BINARY, weight_decay=-1.0), ValueError, "weight_decay"),
    ("Trainer", lambda: Trainer(rbm(), CD(), BINARY, ema=1.0), ValueError, "ema"),
    ("Trainer", lambda: Trainer(rbm(), CD(), BINARY, grad_clip=0.0), ValueError, "grad_clip"),
    ("Trainer", lambda: Trainer(rbm(), CD(), BINARY, schedule=0.5), TypeError, "schedule"),
    ("Trainer", lambda: Trainer(rbm(), CD(), BINARY, seed=-1), ValueError, "seed"),
    ("fit", lambda: Trainer(rbm(), CD(), BINARY, progress=False).fit(-1), ValueError, "epochs"),
    ("SGD", lambda: SGD(rbm().parameters(), lr=float("inf")), ValueError, "lr"),
    ("Adam", lambda: Adam([]), ValueError, "empty"),
    ("EMA", lambda: EMA(rbm(), -0.1), ValueError, "decay"),
    ("cosine", lambda: schedules.cosine(0), ValueError, "total_steps"),
    ("linear", lambda: schedules.linear(10, final=2.0), ValueError, "final"),
]


@pytest.mark.parametrize("call,exc,words", [row[1:] for row in BAD_CALLS],
                         ids=[f"{row[0]}-{i}" for i, row in enumerate(BAD_CALLS)])
def test_bad_call_is_refused_clearly(call, exc, words):
    with pytest.raises(exc, match=words):
        call()


def test_good_calls_of_the_same_entry_points_pass():
    """The table's calls fail for the stated reason only: fixed, they run."""
    model = rbm()
    log_likelihood(model, BINARY, ais(model, 5, 10))
    reverse_ais(model, BINARY, 10, burn_in=0)
    GibbsSampler(model, 10, betas=[1.0, 0.5], v0=BINARY).sample()
    Trainer(model, CD(), BINARY, progress=False).fit(1)
    log_pseudo_likelihood(model, BINARY)
