"""The diffusion job's ``ddpm`` kind: an ε-prediction MLP denoiser trained by DDPM's objective on
the digits' grey levels scaled to [-1, 1]; samples (DDPM or DDIM) and inpainting of test digits
from their top half; MMD² to held-out digits and class coverage."""

from __future__ import annotations

import torch

from .. import data as datasets
from ..mmd import mmd2
from ..models import DenoiserDiffusion, NoiseSchedule
from ..objectives import DenoisingDiffusion
from ..plots import labelled_rows, sample_grid
from ..samplers import ReverseDiffusionSampler
from ..training.epoch_log import is_reported
from .base import Context, Measured, Setup
from .diffusion_likelihood import BITS, independent_pixels_log_likelihood, likelihood_bits
from .diffusion_network import network
from .rbm import class_coverage
from .verdicts import Versus, coverage_target

SCHEDULES = {"linear": NoiseSchedule.linear, "cosine": NoiseSchedule.cosine}
_MEASURE = 359  # samples drawn and compared with the (359) test digits
LEVELS = 17     # the digits' grey levels (0..16)
_INPAINT = 20   # test digits inpainted in the picture
_TRAJECTORY_POINTS = 50
_TRAJECTORIES = 4  # forward trajectories per test digit of the likelihood estimate
#: MMD kernel widths for 64 pixels in [-1, 1] (digits lie ~4-8 apart; the default widths suit
#: standardised 2-D points).
BANDWIDTHS = (2.0, 4.0, 8.0)


def build(config: dict) -> Setup:
    """Digits scaled to [-1, 1], the denoiser and its objective."""
    grey = datasets.digits(binary=False)
    split = grey._replace(train=grey.train * 2 - 1, test=grey.test * 2 - 1)
    torch.manual_seed(config["seed"])  # the network's initial weights
    net = network(config, split.shape)
    return Setup(split.train, net, DenoisingDiffusion(schedule_of(config)), split)


def schedule_of(config: dict) -> NoiseSchedule:
    return SCHEDULES[config["schedule"]](config["timesteps"])


def sampler_of(net, config: dict, progress: bool) -> ReverseDiffusionSampler:
    ddim = config["sampler"] == "ddim"
    return ReverseDiffusionSampler(net, schedule_of(config), method=config["sampler"],
                                   n_steps=config["sample_steps"] if ddim else None, eta=config["eta"],
                                   clip_sample=1.0, progress=progress)


def measure(setup: Setup, config: dict, context: Context) -> Measured:
    """Metrics; samples and inpainted test digits in [0, 1]."""
    net, split = setup.model, setup.data
    g = torch.Generator().manual_seed(config["seed"])
    sampler = sampler_of(net, config, context.progress)
    samples = sampler.sample(_MEASURE, split.train.shape[1:], generator=g).clamp(-1, 1)
    known = split.test[:_INPAINT]
    mask = torch.zeros_like(known, dtype=torch.bool)
    mask[:, : known.shape[1] // 2] = True  # the top half of each digit is known
    filled = sampler.sample(_INPAINT, known.shape[1:], known=known, mask=mask,
                            generator=g).clamp(-1, 1)
    to_unit = lambda x: (x + 1) / 2  # noqa: E731
    likelihood = DenoiserDiffusion(net, schedule_of(config), levels=LEVELS)
    level = lambda x: ((x + 1) * (LEVELS - 1) / 2).round().long()  # noqa: E731
    metrics = {**likelihood_bits(likelihood, split.test, _TRAJECTORIES, _TRAJECTORY_POINTS, g),
               "independent_pixels_log_likelihood_bits": BITS * independent_pixels_log_likelihood(
                   level(split.train), level(split.test), LEVELS),
               "mmd2_test": mmd2(samples, split.test, BANDWIDTHS), "mmd2_train_vs_test":
               mmd2(split.train[:_MEASURE], split.test, BANDWIDTHS),
               "inpainting_rmse_unknown": float((filled - known)[~mask].square().mean().sqrt()),
               **class_coverage(to_unit(samples), split._replace(train=to_unit(split.train)))}
    return Measured(metrics, to_unit(samples),
                    {"inpainting": [to_unit(x) for x in (known.masked_fill(~mask, -1), filled, known)]})


def draw(setup: Setup, config: dict, measured: Measured, run, title: str) -> None:
    shape = setup.data.shape
    sample_grid(measured.samples[:100], shape, run.path("samples.png"),
                f"{title}: samples (EMA weights)")
    labelled_rows(measured.pictures["inpainting"], ["known top half", "inpainted", "truth"], shape,
                  run.path("inpainting.png"), f"{title}: inpainting test digits")


#: K against independent pixels on the same 17 levels; the samples' class coverage.
VERDICTS = (Versus("bound_bits", "independent_pixels_log_likelihood_bits", "independent pixels",
                   "bits"), coverage_target(0.10))


def references(metrics: dict) -> dict:
    return {"mmd2_test_quick": {"held-out digits (the floor)": metrics["mmd2_train_vs_test"]}}


def quick(setup: Setup, config: dict, trainer) -> dict:
    """The per-epoch curve, on the epochs the console reports: MMD² of 200 DDIM-50 samples (EMA
    weights) to the test digits."""
    if not is_reported(trainer.epoch, config["epochs"]):
        return {}
    fast = {**config, "sampler": "ddim", "sample_steps": min(50, config["timesteps"]), "eta": 0.0}
    g = torch.Generator().manual_seed(config["seed"])
    sampler = sampler_of(trainer.model, fast, False)
    with trainer.ema.swapped_in():
        x = sampler.sample(200, setup.train.shape[1:], generator=g)
    return {"mmd2_test_quick": mmd2(x.clamp(-1, 1), setup.data.test, BANDWIDTHS)}
