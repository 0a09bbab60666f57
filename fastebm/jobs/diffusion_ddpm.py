"""The diffusion job's ``ddpm`` kind: an ε-prediction denoiser (the U-Net, or an MLP) trained by
DDPM's objective on grey-level images (the digits, or 28×28 MNIST) scaled to [-1, 1]; samples
(DDPM or DDIM) and inpainting of test images from their top half; K against independent pixels
on the same grey levels, MMD² to held-out images and class coverage."""

from __future__ import annotations

import math
from typing import NamedTuple

import torch

from .. import data as datasets
from ..mmd import mmd2
from ..models import DenoiserDiffusion, LevelPosteriorDenoiser, NoiseSchedule
from ..objectives import DenoisingDiffusion
from ..plots import labelled_rows, sample_grid
from ..samplers import ReverseDiffusionSampler
from ..training.epoch_log import is_reported
from .base import Context, Measured, Setup, job_device
from .diffusion_likelihood import BITS, independent_pixels_log_likelihood, likelihood_bits
from .diffusion_network import network
from .rbm import class_coverage
from .verdicts import Versus, coverage_target

SCHEDULES = {"linear": NoiseSchedule.linear, "cosine": NoiseSchedule.cosine}
_INPAINT = 20   # test digits inpainted in the picture


class Budget(NamedTuple):
    """What the measurement draws on an image set: ``samples`` (DDPM / DDIM, classified and
    compared by MMD²), K on ``bound_points`` test images (every step, or ``bound_draws`` random
    steps each), the trajectory estimate (``trajectories`` per image on ``trajectory_points``;
    0: none) and the per-epoch curve's ``quick_samples`` after ``quick_steps`` DDIM steps."""

    samples: int
    bound_points: int
    bound_draws: int | None
    trajectories: int
    trajectory_points: int
    quick_samples: int
    quick_steps: int


#: 8×8 digits: K over every step and a trajectory estimate; 28×28 MNIST: K from 10 random steps
#: per image (T network calls per image take minutes there), no trajectory estimate.
BUDGETS = {"digits": Budget(359, 359, None, 4, 50, 200, 50),
           "mnist5k": Budget(500, 200, 10, 0, 0, 100, 20)}


def bandwidths(dim: int) -> tuple[float, ...]:
    """MMD kernel widths for ``dim`` pixels in [-1, 1]: 2, 4, 8 at 64 pixels (digits lie ~4-8
    apart), scaled by √(dim / 64) as distances grow."""
    return tuple(b * math.sqrt(dim / 64) for b in (2.0, 4.0, 8.0))


def build(config: dict) -> Setup:
    """Grey-level images scaled to [-1, 1], the denoiser (on --device; the Trainer moves the
    training images there) and its objective."""
    grey = datasets.load(config["data"], binary=False)
    split = grey._replace(train=grey.train * 2 - 1, test=grey.test * 2 - 1)
    torch.manual_seed(config["seed"])  # the network's initial weights
    levels = datasets.GREY_LEVELS[config["data"]]
    if config["predict"] == "levels":
        net = LevelPosteriorDenoiser(network(config, split.shape, levels), schedule_of(config),
                                     levels)
    else:
        net = network(config, split.shape)
    return Setup(split.train, net.to(job_device(config)), DenoisingDiffusion(schedule_of(config)),
                 split)


def schedule_of(config: dict) -> NoiseSchedule:
    return SCHEDULES[config["schedule"]](config["timesteps"])


def sampler_of(net, config: dict, progress: bool) -> ReverseDiffusionSampler:
    ddim = config["sampler"] == "ddim"
    return ReverseDiffusionSampler(net, schedule_of(config), method=config["sampler"],
                                   n_steps=config["sample_steps"] if ddim else None, eta=config["eta"],
                                   clip_sample=1.0, progress=progress)


def measure(setup: Setup, config: dict, context: Context) -> Measured:
    """Metrics; samples and inpainted test images in [0, 1]. The network samples on its device;
    the metrics are taken on the CPU."""
    net, split = setup.model, setup.data
    budget, levels = BUDGETS[config["data"]], datasets.GREY_LEVELS[config["data"]]
    widths = bandwidths(split.train.shape[1])
    g = torch.Generator().manual_seed(config["seed"])
    sampler = sampler_of(net, config, context.progress)
    device = job_device(config)
    samples = sampler.sample(budget.samples, split.train.shape[1:], device=device,
                             generator=g).clamp(-1, 1).cpu()
    known = split.test[:_INPAINT]
    mask = torch.zeros_like(known, dtype=torch.bool)
    mask[:, : known.shape[1] // 2] = True  # the top half of each image is known
    filled = sampler.sample(_INPAINT, known.shape[1:], device=device, known=known.to(device),
                            mask=mask.to(device), generator=g).clamp(-1, 1).cpu()
    to_unit = lambda x: (x + 1) / 2  # noqa: E731
    likelihood = DenoiserDiffusion(net, schedule_of(config), levels=levels).to(device)
    level = lambda x: ((x + 1) * (levels - 1) / 2).round().long()  # noqa: E731
    test = split.test[:budget.bound_points]
    metrics = {**likelihood_bits(likelihood, test.to(device), budget.trajectories,
                                 budget.trajectory_points, g, budget.bound_draws),
               "independent_pixels_log_likelihood_bits": BITS * independent_pixels_log_likelihood(
                   level(split.train), level(test), levels),
               "mmd2_test": mmd2(samples, split.test, widths), "mmd2_train_vs_test":
               mmd2(split.train[:len(split.test)], split.test, widths),
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


#: The samples' class-coverage target on each image set.
COVERAGE_TARGETS = {"digits": 0.10, "mnist5k": 0.15}


def verdicts(metrics: dict) -> tuple:
    """K against independent pixels on the same grey levels; the samples' class coverage."""
    return (Versus("bound_bits", "independent_pixels_log_likelihood_bits", "independent pixels",
                   "bits"), coverage_target(COVERAGE_TARGETS[metrics["data"]]))


def references(metrics: dict) -> dict:
    return {"mmd2_test_quick": {"held-out images (the floor)": metrics["mmd2_train_vs_test"]}}


def quick(setup: Setup, config: dict, trainer) -> dict:
    """The per-epoch curve, on the epochs the console reports: MMD² of the budget's quick DDIM
    samples (EMA weights) to the test images."""
    if not is_reported(trainer.epoch, config["epochs"]):
        return {}
    budget = BUDGETS[config["data"]]
    fast = {**config, "sampler": "ddim", "sample_steps": min(budget.quick_steps, config["timesteps"]),
            "eta": 0.0}
    g = torch.Generator().manual_seed(config["seed"])
    sampler = sampler_of(trainer.model, fast, False)
    with trainer.ema.swapped_in():
        x = sampler.sample(budget.quick_samples, setup.train.shape[1:], device=job_device(config),
                           generator=g).cpu()
    return {"mmd2_test_quick": mmd2(x.clamp(-1, 1), setup.data.test,
                                    bandwidths(setup.train.shape[1]))}
