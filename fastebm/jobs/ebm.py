"""The continuous-EBM job: train a neural energy E(x) (an MLP) on a 2-D point set by maximum
likelihood with Langevin negatives, score matching (exact, sliced, denoising) or NCE, then sample
it (MALA from uniform starts), measure the samples' MMD to held-out data and the kernel Stein
discrepancy of the held-out data under the model (with its goodness-of-fit p-value) and of the
samples (did MALA reach the model?), and draw samples.png (samples over the data),
energy.png (the learnt landscape) and curves.png."""

from __future__ import annotations

import torch
from torch import nn

from .. import data as datasets
from ..mmd import mmd2
from ..models import EnergyModel
from ..objectives import (NCE, DenoisingScoreMatching, MaximumLikelihood, ScoreMatching,
                          SlicedScoreMatching)
from ..plots import energy_landscape, point_samples
from ..samplers import LangevinSampler
from .base import Arg, Context, Job, Measured, Setup, count, real, training_args
from .stein_metrics import stein_discrepancies

METHODS = {"sml": "maximum likelihood with Langevin negatives (replay buffer)",
           "sm": "exact score matching", "ssm": "sliced score matching",
           "dsm": "denoising score matching", "nce": "noise-contrastive estimation"}
BOX = (-3.0, 3.0)  # the standardised data's box: chain starts, the sampler's bounds, the plots
_MEASURE = 1000  # samples drawn and compared with (up to) as many held-out points

ARGS = [
    Arg("--data", str, "moons", "2-D point set", choices=tuple(datasets.POINT_SETS)),
    Arg("--method", str, "sml", "objective: " + ", ".join(f"{k} = {v}" for k, v in METHODS.items()),
        choices=tuple(METHODS)),
    Arg("--hidden", count(), 128, "width of the energy MLP's two hidden layers"),
    *training_args(epochs=30, batch_size=256, lr=3e-3),
    Arg("--step-size", real(low=0.0, low_open=True), 0.005, "Langevin step size (sml negatives)",
        only={"method": ("sml",)}),
    Arg("--n-steps", count(), 40, "Langevin steps per update (sml)",
        only={"method": ("sml",)}),
    Arg("--buffer", count(1), 10000, "replay-buffer states (sml)",
        only={"method": ("sml",)}),
    Arg("--reinit", real(low=0.0, high=1.0), 0.05, "replay-buffer re-initialisation probability (sml)",
        only={"method": ("sml",)}),
    Arg("--alpha", real(low=0.0), 0.1, "energy-magnitude regulariser (sml)",
        only={"method": ("sml",)}),
    Arg("--sigma", real(low=0.0, low_open=True), 0.1, "noise level (dsm)",
        only={"method": ("dsm",)}),
    Arg("--nu", real(low=0.0, low_open=True), 4.0, "noise samples per data sample (nce)",
        only={"method": ("nce",)}),
    Arg("--sample-steps", count(), 500, "MALA steps of the final samples",
        resume_may_change=True, evaluate=True),
    Arg("--sample-step-size", real(low=0.0, low_open=True), 0.01,
        "MALA step size of the final samples", resume_may_change=True, evaluate=True),
]


def energy_net(hidden: int) -> nn.Module:
    """x [B, 2] -> E(x) [B, 1]: a smooth (SiLU) MLP, so score matching's second derivatives
    exist."""
    return nn.Sequential(nn.Linear(2, hidden), nn.SiLU(), nn.Linear(hidden, hidden), nn.SiLU(),
                         nn.Linear(hidden, 1))


def build(config: dict) -> Setup:
    """Data, model and objective of a configuration."""
    split = datasets.load(config["data"])
    torch.manual_seed(config["seed"])  # the MLP's initial weights
    model = EnergyModel(energy_net(config["hidden"]), split.shape,
                        learn_log_normalizer=config["method"] == "nce")
    method = config["method"]
    if method == "sml":
        sampler = LangevinSampler(model, config["step_size"], config["n_steps"], box=BOX,
                                  buffer_size=config["buffer"], reinit_prob=config["reinit"],
                                  progress=False)
        objective = MaximumLikelihood(sampler, alpha=config["alpha"])
    elif method == "nce":
        objective = NCE(nu=config["nu"])
        objective.fit_noise(split.train)
    elif method == "dsm":
        objective = DenoisingScoreMatching(config["sigma"])
    else:
        objective = ScoreMatching() if method == "sm" else SlicedScoreMatching()
    return Setup(split.train, model, objective, split)


def draw_samples(model, config: dict, n: int = _MEASURE, steps: int | None = None,
                 progress: bool = True) -> tuple[torch.Tensor, float]:
    """(n [n, 2] MALA samples from uniform starts in the box after ``steps`` (default:
    ``sample_steps``) steps, their mean acceptance rate)."""
    g = torch.Generator().manual_seed(config["seed"])
    sampler = LangevinSampler(model, config["sample_step_size"], steps or config["sample_steps"],
                              mala=True, box=BOX, progress=progress)
    return sampler.sample(n, generator=g).detach(), sampler.accept_rate


def quick_mmd(setup: Setup, config: dict, trainer) -> dict:
    """The per-epoch curve: MMD² of 300 samples after 100 MALA steps to 300 test points."""
    samples, _ = draw_samples(trainer.model, config, 300, 100, progress=False)
    return {"mmd2_test_quick": mmd2(samples, setup.data.test[:300])}


def measure(setup: Setup, config: dict, context: Context) -> Measured:
    samples, accept_rate = draw_samples(setup.model, config, progress=context.progress)
    split = setup.data
    test = split.test[:_MEASURE]
    return Measured({"mmd2_test": mmd2(samples, test),
                     "mmd2_train_vs_test": mmd2(split.train[:_MEASURE], test),
                     "sample_accept_rate": accept_rate,
                     **stein_discrepancies(setup.model.energy, test, {"samples": samples},
                                           config["seed"])}, samples)


def title(setup: Setup, config: dict) -> str:
    return f"EBM on {config['data']}, {config['method']}"


def draw(setup: Setup, config: dict, measured: Measured, context: Context, run) -> None:
    name = title(setup, config)
    point_samples(measured.samples, setup.data.test, run.path("samples.png"),
                  f"{name}: MALA samples (blue), test data (gray)", BOX)
    energy_landscape(setup.model.energy, run.path("energy.png"), f"{name}: learnt energy", BOX)


JOB = Job("ebm", "a neural energy model on a 2-D point set (moons, rings, swissroll)", ARGS,
          build, measure, draw, title, epoch_metrics=quick_mmd,
          summary_keys=("mmd2_test", "mmd2_train_vs_test", "ksd2_test", "ksd_test_p_value",
                        "ksd2_samples", "sample_accept_rate", "train_seconds"),
          references=lambda metrics: {"mmd2_test_quick": {
              "held-out data (the floor)": metrics["mmd2_train_vs_test"]}})
