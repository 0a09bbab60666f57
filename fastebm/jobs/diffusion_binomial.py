"""The diffusion job's ``binomial`` kind: Sohl-Dickstein et al. 2015's binomial diffusion (an MLP
giving each reverse step's bit-flip logits) trained by its bound K on the binarised digits (or
the binary heartbeat sequences: T = 2,000 and an MLP, the paper's setting); K in bits per
sample and the trajectory log-likelihood beside independent pixels fitted to the training data;
samples and their class coverage; test samples inpainted from their first half and denoised
after 10% of their bits were flipped (section 2.5's multiplied distributions)."""

from __future__ import annotations

import torch

from .. import data as datasets
from ..models import BinomialDiffusion
from ..objectives import DiffusionBound
from ..plots import labelled_rows, sample_grid
from .base import Context, Measured, Setup
from .diffusion_likelihood import (BITS, bound_references, independent_pixels_log_likelihood,
                                   likelihood_bits)
from .diffusion_likelihood import quick  # noqa: F401 (the kind's per-epoch curve)
from .diffusion_network import network
from .rbm import class_coverage
from .verdicts import Versus, coverage_target

_MEASURE = 359          # samples drawn; test digits of K (all 359)
_TRAJECTORY_POINTS = 100
_TRAJECTORIES = 10      # forward trajectories per test digit of the likelihood estimate
_SHOWN = 20             # test digits inpainted and denoised in the pictures (all 359 measured)
FLIP = 0.1              # the denoising demo's bit-flip probability


def verdicts(metrics: dict) -> tuple:
    """K against independent pixels; the samples' class coverage."""
    return (Versus("bound_bits", "independent_pixels_log_likelihood_bits", "independent pixels",
                   "bits"), coverage_target(0.15))


def references(metrics: dict) -> dict:
    return bound_references(metrics, "independent_pixels_log_likelihood_bits", "independent pixels")


def build(config: dict) -> Setup:
    """Data, model and objective of a configuration."""
    split = datasets.load(config["data"])
    torch.manual_seed(config["seed"])  # the network's initial weights
    D = split.train.shape[1]
    net = network(config, split.shape)
    return Setup(split.train, BinomialDiffusion(net, D, config["timesteps"]), DiffusionBound(), split)


def measure(setup: Setup, config: dict, context: Context) -> Measured:
    """Metrics in bits per digit; samples, inpainted and denoised test digits."""
    model, split = setup.model, setup.data
    g = torch.Generator().manual_seed(config["seed"])
    test = split.test[:_MEASURE]
    metrics = likelihood_bits(model, test, _TRAJECTORIES, _TRAJECTORY_POINTS, g)
    samples = model.sample(_MEASURE, generator=g)
    mask = torch.zeros_like(test, dtype=torch.bool)
    mask[:, : test.shape[1] // 2] = True  # the top half of each digit is known
    filled = model.sample(len(test), generator=g, known=test, mask=mask)
    flips = torch.rand(test.shape, generator=g) < FLIP
    noisy = torch.where(flips, 1 - test, test)
    denoised = model.sample(len(test), generator=g, observation=noisy, observation_noise=FLIP)
    metrics = {**metrics,
               "independent_pixels_log_likelihood_bits":
                   independent_pixels_log_likelihood(split.train.long(), test.long(), 2) * BITS,
               "inpainting_bit_error_unknown": float((filled != test)[~mask].float().mean()),
               "denoising_bit_error": float((denoised != test).float().mean()),
               "noisy_bit_error": float(flips.float().mean()),
               **class_coverage(samples, split)}
    shown = slice(0, _SHOWN)
    return Measured(metrics, samples, {
        "inpainting": [test[shown] * mask[shown], filled[shown], test[shown]],
        "denoising": [noisy[shown], denoised[shown], test[shown]]})


def draw(setup: Setup, config: dict, measured: Measured, run, title: str) -> None:
    """samples.png, inpainting.png, denoising.png; sequences (the heartbeat: images one row high)
    are drawn stacked, one sequence a row, the panels side by side."""
    shape, pictures = setup.data.shape, measured.pictures
    sequences = shape[0] == 1
    samples = measured.samples[:20] if sequences else measured.samples[:100]
    if sequences:
        sample_grid(samples.reshape(1, -1), (len(samples), shape[1]), run.path("samples.png"),
                    f"{title}: samples, one a row")
    else:
        sample_grid(samples, shape, run.path("samples.png"), f"{title}: samples")
    known = "known first half" if sequences else "known top half"
    for name, labels in (("inpainting", [known, "inpainted", "truth"]),
                         ("denoising", [f"{FLIP:.0%} of bits flipped", "denoised", "truth"])):
        path, about = run.path(f"{name}.png"), f"{title}: {name} test {'sequences' if sequences else 'digits'}"
        rows = pictures[name]
        if sequences:
            panels = torch.stack([r.reshape(-1) for r in rows])       # [3, n·w]
            sample_grid(panels, (len(rows[0]), shape[1]), path,
                        f"{about} (left to right: {', '.join(labels)})", cols=len(rows))
        else:
            labelled_rows(rows, labels, shape, path, about)
