"""The deep Boltzmann machine job: a DBM with two (or more) binary hidden layers trained on
embedded binarised images by mean-field PCD (Salakhutdinov & Hinton 2009), then measured — log Z
by AIS over the even layers (the odd ones summed out), the mean-field lower bound on the test
log-likelihood beside the base-rate model's, the class coverage of its samples and the
imputation of the test images' bottom halves — and drawn (samples.png, curves.png)."""

from __future__ import annotations

import torch

from .. import data as datasets
from ..models import DBM
from ..models.rbm import base_rate_biases
from ..objectives import MeanFieldPCD
from ..partition import ais, exact_log_z
from ..plots import sample_grid
from ..training.epoch_log import is_reported
from .base import Arg, Context, Job, Measured, Setup, _typed, count, training_args
from .rbm import EXACT_LIMIT, ais_args, base_rate_log_likelihood, class_coverage, imputation
from .verdicts import Versus, coverage_target

_SAMPLES, _SAMPLE_SWEEPS = 500, 1000  # model samples drawn, classified and pictured
_EPOCH_AIS = (100, 1000)              # the per-epoch curve's AIS: chains, inverse temperatures
_BOUND_STEPS = 30                     # mean-field rounds of the measured bound


def hidden_sizes(text: str) -> list[int]:
    """The hidden layers' sizes, e.g. "100,50": at least two, each >= 1."""
    def check(sizes: list[int]) -> list[int]:
        if len(sizes) < 2 or min(sizes) < 1:
            raise ValueError(f"need at least two hidden layers of >= 1 unit, got {sizes}")
        return sizes
    return _typed(lambda t: [int(x) for x in t.split(",")], check)(text)


ARGS = [
    Arg("--data", str, "digits", "embedded data set", choices=tuple(datasets.DATASETS)),
    Arg("--hidden", hidden_sizes, [64, 32], "hidden layer sizes, comma-separated (two or more)"),
    Arg("--k", count(), 1, "Gibbs sweeps of the persistent chains per update"),
    Arg("--chains", count(), 100, "persistent chains"),
    Arg("--mean-field-steps", count(), 10, "mean-field rounds of the positive phase"),
    *training_args(epochs=200, batch_size=100, lr=3e-3, lr_schedule="cosine"),
    *ais_args(chains=1000),
]


def build(config: dict) -> Setup:
    """Data, model and objective of a configuration: visible biases at the data's log-odds."""
    split = datasets.load(config["data"])
    model = DBM([split.train.shape[1], *config["hidden"]],
                generator=torch.Generator().manual_seed(config["seed"]))
    with torch.no_grad():
        model.biases[0].copy_(base_rate_biases(split.train, model.n_visible))
    objective = MeanFieldPCD(config["chains"], config["k"], config["mean_field_steps"])
    return Setup(split.train, model, objective, split)


def title(setup: Setup, config: dict) -> str:
    return f"DBM {'-'.join(map(str, setup.model.sizes))} on {config['data']}"


def log_z(model: DBM, train: torch.Tensor, chains: int, n_betas: int, seed: int):
    """AIS's log Z over the even units from the base-rate model of the training data (exact
    where a side of the equivalent RBM is small enough to enumerate)."""
    rbm = model.equivalent_rbm()
    if min(rbm.n_visible, rbm.n_hidden) <= EXACT_LIMIT:
        return float(exact_log_z(rbm))
    return ais(rbm, chains, n_betas, base_b=model.even_base_biases(train),
               generator=torch.Generator().manual_seed(seed)).log_z


def epoch_bound(setup: Setup, config: dict, trainer) -> dict:
    """The mean test bound on the reported epochs, log Z by a short seeded AIS."""
    if not is_reported(trainer.epoch, config["epochs"]):
        return {}
    model, split = trainer.model, setup.data
    z = log_z(model, split.train, *_EPOCH_AIS, config["seed"])
    return {"test_log_likelihood_bound": float(model.variational_bound(split.test, z).mean())}


def measure(setup: Setup, config: dict, context: Context) -> Measured:
    model, split = setup.model, setup.data
    rbm = model.equivalent_rbm()
    fwd = ais(rbm, config["ais_chains"], config["ais_betas"], base_b=model.even_base_biases(split.train),
              generator=torch.Generator().manual_seed(config["seed"]))
    metrics = {"log_z_ais": fwd.log_z, "log_z_ais_stderr": fwd.stderr}
    if min(rbm.n_visible, rbm.n_hidden) <= EXACT_LIMIT:
        metrics["log_z_exact"] = float(exact_log_z(rbm))
    for name, x in (("train", split.train), ("test", split.test)):
        metrics[f"{name}_log_likelihood_bound"] = float(
            model.variational_bound(x, fwd.log_z, _BOUND_STEPS).mean())
    samples, probs = draw_samples(model, config["seed"])
    metrics |= {**base_rate_log_likelihood(split), **class_coverage(samples, split),
                **imputation(model, split, config["seed"])}
    return Measured(metrics, samples, probs)


@torch.no_grad()
def draw_samples(model: DBM, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(v, p(v | h¹)) [500, V] after 1000 sweeps from random even units."""
    g = torch.Generator().manual_seed(seed)
    e, o = model.gibbs(model.random_even(_SAMPLES, g), _SAMPLE_SWEEPS, generator=g)
    v, h1 = model.split(e, o)[:2]
    return v, torch.sigmoid(model.biases[0] + h1 @ model.weights[0].T)


def draw(setup: Setup, config: dict, measured: Measured, context: Context, run) -> None:
    sample_grid(measured.pictures[:100], setup.data.shape, run.path("samples.png"),
                f"{title(setup, config)}: p(v | h¹) after {_SAMPLE_SWEEPS} Gibbs sweeps")


JOB = Job("dbm", "a deep Boltzmann machine on embedded binarised images (digits, mnist5k)", ARGS,
          build, measure, draw, title, epoch_metrics=epoch_bound,
          summary_keys=("log_z_ais", "log_z_ais_stderr", "log_z_exact",
                        "train_log_likelihood_bound", "test_log_likelihood_bound",
                        "base_rate_test_log_likelihood", "class_coverage_tv",
                        "imputation_bit_error", "base_rate_imputation_bit_error", "train_seconds"),
          verdicts=(Versus("test_log_likelihood_bound", "base_rate_test_log_likelihood",
                           "the base-rate model", "nats"), coverage_target(0.15),
                    Versus("imputation_bit_error", "base_rate_imputation_bit_error",
                           "the base-rate model", higher_is_better=False)),
          references=lambda metrics: {"test_log_likelihood_bound": {
              "base-rate model": metrics["base_rate_test_log_likelihood"]}})
