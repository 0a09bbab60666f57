"""The diffusion job's ``gaussian`` kind: Sohl-Dickstein et al. 2015's Gaussian diffusion (an MLP
giving each reverse step's mean and variance coefficients; learnt βs) trained by its bound K on
a standardised 2-D point set; K in bits per sample and the trajectory log-likelihood on the test
points beside a Gaussian fitted to the training data; MMD² of its samples."""

from __future__ import annotations

import torch

from .. import data as datasets
from ..mmd import mmd2
from ..models import GaussianDiffusion
from ..objectives import DiffusionBound
from ..plots import point_samples
from .base import Context, Measured, Setup
from .diffusion_likelihood import BITS, bound_references, likelihood_bits
from .diffusion_network import network
from .verdicts import Versus
from .diffusion_likelihood import quick  # noqa: F401 (the kind's per-epoch curve)

_MEASURE = 1000      # samples and test points measured
_TRAJECTORIES = 100  # forward trajectories per test point of the likelihood estimate


def verdicts(metrics: dict) -> tuple:
    """K and the trajectory estimate against a Gaussian fitted to the training points."""
    return (Versus("bound_bits", "gaussian_fit_log_likelihood_bits", "the Gaussian fit", "bits"),
            Versus("trajectory_log_likelihood_bits", "gaussian_fit_log_likelihood_bits",
                   "the Gaussian fit", "bits"))


def references(metrics: dict) -> dict:
    return bound_references(metrics, "gaussian_fit_log_likelihood_bits", "Gaussian fit")


def build(config: dict) -> Setup:
    """Data, model and objective of a configuration."""
    split = datasets.load(config["data"])
    torch.manual_seed(config["seed"])  # the MLP's initial weights
    D = split.train.shape[1]
    net = network(config, (D,), out_channels=2)
    model = GaussianDiffusion(net, D, config["timesteps"], learn_noise_vars=not config["fixed_noise_vars"])
    return Setup(split.train, model, DiffusionBound(), split)


def gaussian_fit_log_likelihood(train: torch.Tensor, test: torch.Tensor) -> float:
    """Mean test log-likelihood (nats) of the Gaussian with the training data's mean and
    covariance: the null model for scale."""
    fit = torch.distributions.MultivariateNormal(train.double().mean(0), torch.cov(train.double().T))
    return float(fit.log_prob(test.double()).mean())


def measure(setup: Setup, config: dict, context: Context) -> Measured:
    """Metrics in bits per sample; samples."""
    model, split = setup.model, setup.data
    g = torch.Generator().manual_seed(config["seed"])
    test = split.test[:_MEASURE]
    metrics = likelihood_bits(model, test, _TRAJECTORIES, _MEASURE, g)
    samples = model.sample(_MEASURE, generator=g)
    metrics = {**metrics,
               "gaussian_fit_log_likelihood_bits": gaussian_fit_log_likelihood(split.train, test) * BITS,
               "mmd2_test": mmd2(samples, test), "mmd2_train_vs_test": mmd2(split.train[:_MEASURE], test),
               "noise_vars": [round(float(b), 5) for b in model.noise_vars().detach()]}
    return Measured(metrics, samples)


def draw(setup: Setup, config: dict, measured: Measured, run, title: str) -> None:
    point_samples(measured.samples, setup.data.test, run.path("samples.png"),
                  f"{title}: samples (blue), test data (gray)")

