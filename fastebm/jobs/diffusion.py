"""The diffusion job: train an ε-prediction denoiser (an MLP with a sinusoidal time embedding)
by DDPM's objective on the embedded digits (grey levels scaled to [-1, 1]), with an EMA of its
weights, then sample it (DDPM, or DDIM with fewer steps) from the EMA weights, inpaint test
digits with half their pixels known, and measure: MMD² of the samples to held-out digits (beside
train vs test for scale) and class coverage. Writes samples.png, inpainting.png, curves.png,
metrics.json and the checkpoint."""

from __future__ import annotations

import torch

from .. import data as datasets
from ..mmd import mmd2
from ..models import MLPDenoiser, NoiseSchedule
from ..objectives import DenoisingDiffusion
from ..plots import sample_grid, training_curves
from ..samplers import ReverseDiffusionSampler
from .base import Arg, Job, count, fit, real, training_args
from .rbm import class_coverage

KINDS = {"ddpm": "DDPM (Ho et al. 2020): ε-prediction, fixed variances"}
SCHEDULES = {"linear": NoiseSchedule.linear, "cosine": NoiseSchedule.cosine}
_MEASURE = 359  # samples drawn and compared with the (359) test digits
_INPAINT = 20   # test digits inpainted in the picture
#: MMD kernel widths for 64 pixels in [-1, 1] (digits lie ~4-8 apart; the default widths suit
#: standardised 2-D points).
_BANDWIDTHS = (2.0, 4.0, 8.0)

ARGS = [
    Arg("--kind", str, "ddpm", "model: " + ", ".join(f"{k} = {v}" for k, v in KINDS.items()),
        choices=tuple(KINDS)),
    Arg("--data", str, "digits", "embedded data set (grey levels)", choices=("digits",)),
    Arg("--steps", count(2), 1000, "diffusion steps T"),
    Arg("--schedule", str, "linear", "β schedule", choices=tuple(SCHEDULES)),
    Arg("--hidden", count(), 512, "denoiser MLP width"),
    Arg("--depth", count(), 3, "denoiser MLP hidden layers"),
    *training_args(epochs=400, batch_size=128, lr=2e-3, lr_schedule="cosine"),
    Arg("--ema", real(low=0.0, high=1.0, high_open=True), 0.995, "EMA decay of the weights"),
    Arg("--sampler", str, "ddpm", "sampling method", choices=("ddpm", "ddim"),
        resume_may_change=True, evaluate=True),
    Arg("--sample-steps", count(), 100, "DDIM steps (ddpm: every one of T)", resume_may_change=True,
        evaluate=True),
    Arg("--eta", real(low=0.0), 0.0, "DDIM's η", resume_may_change=True, evaluate=True),
]


def check(config: dict) -> None:
    if config["sampler"] == "ddim" and config["sample_steps"] > config["steps"]:
        raise ValueError(f"--sample-steps {config['sample_steps']} exceeds --steps {config['steps']}")


def build(config: dict):
    """(split scaled to [-1, 1], denoiser, schedule, objective) of a configuration."""
    grey = datasets.digits(binary=False)
    split = grey._replace(train=grey.train * 2 - 1, test=grey.test * 2 - 1)
    schedule = SCHEDULES[config["schedule"]](config["steps"])
    torch.manual_seed(config["seed"])  # the MLP's initial weights
    net = MLPDenoiser(split.train.shape[1], config["steps"], config["hidden"], config["depth"])
    return split, net, schedule, DenoisingDiffusion(schedule)


def sampler_of(net, schedule, config: dict, progress: bool) -> ReverseDiffusionSampler:
    ddim = config["sampler"] == "ddim"
    return ReverseDiffusionSampler(net, schedule, method=config["sampler"],
                                   steps=config["sample_steps"] if ddim else None, eta=config["eta"],
                                   clip_sample=1.0, progress=progress)


def measure(net, split, schedule, config: dict, progress: bool = True) -> tuple[dict, dict]:
    """(metrics, pictures' tensors in [0, 1]): samples and inpainted test digits."""
    g = torch.Generator().manual_seed(config["seed"])
    sampler = sampler_of(net, schedule, config, progress)
    samples = sampler.sample(sampler.initial_noise(_MEASURE, split.train.shape[1:], generator=g),
                             generator=g).clamp(-1, 1)
    known = split.test[:_INPAINT]
    mask = torch.zeros_like(known, dtype=torch.bool)
    mask[:, : known.shape[1] // 2] = True  # the top half of each digit is known
    filled = sampler.sample(sampler.initial_noise(_INPAINT, known.shape[1:], generator=g),
                            known=known, mask=mask, generator=g).clamp(-1, 1)
    to_unit = lambda x: (x + 1) / 2  # noqa: E731
    metrics = {"mmd2_test": mmd2(samples, split.test, _BANDWIDTHS), "mmd2_train_vs_test":
               mmd2(split.train[:_MEASURE], split.test, _BANDWIDTHS),
               "inpainting_rmse_unknown": float((filled - known)[~mask].square().mean().sqrt()),
               **class_coverage(to_unit(samples), split._replace(train=to_unit(split.train)))}
    return metrics, {"samples": to_unit(samples), "inpainting": to_unit(torch.cat(
        [known.masked_fill(~mask, -1), filled, known]))}


def title(config: dict) -> str:
    return f"{config['kind'].upper()} on {config['data']}, T = {config['steps']}, {config['sampler']}"


def draw(pictures: dict, split, config: dict, run) -> None:
    sample_grid(pictures["samples"][:100], split.shape, run.path("samples.png"),
                f"{title(config)}: samples (EMA weights)")
    sample_grid(pictures["inpainting"], split.shape, run.path("inpainting.png"),
                "inpainting: known top half / inpainted / truth", cols=_INPAINT)


def quick_mmd(trainer, split, schedule, config: dict) -> dict:
    """The per-epoch curve, every 20th epoch: MMD² of 200 DDIM-50 samples (EMA weights) to the
    test digits."""
    if trainer.epoch % 20:
        return {}
    quick = {**config, "sampler": "ddim", "sample_steps": min(50, config["steps"]), "eta": 0.0}
    g = torch.Generator().manual_seed(config["seed"])
    sampler = sampler_of(trainer.model, schedule, quick, False)
    with trainer.ema.swapped_in():
        x = sampler.sample(sampler.initial_noise(200, split.train.shape[1:], generator=g), generator=g)
    return {"mmd2_test_quick": mmd2(x.clamp(-1, 1), split.test, _BANDWIDTHS)}


def train(config: dict, run, progress: bool) -> dict:
    split, net, schedule, objective = build(config)
    trainer, seconds = fit("diffusion", config, net, objective, split.train, run, progress,
                           [lambda t: quick_mmd(t, split, schedule, config)], ema=config["ema"])
    if trainer.rank:
        return {}
    run.written.append("checkpoint.pt")
    with trainer.ema.swapped_in():
        measured, pictures = measure(net, split, schedule, config, progress)
    metrics = {**config, "train_seconds": seconds, **measured}
    draw(pictures, split, config, run)
    training_curves(trainer.history, run.path("curves.png"), title(config))
    run.write_metrics(metrics)
    return metrics


def evaluate(config: dict, options: dict, state: dict, run) -> dict:
    """Resample with ``options``' sampler from the EMA weights and re-measure; rewrites
    metrics.json, samples.png and inpainting.png."""
    split, net, schedule, _ = build(config)
    net.load_state_dict(state["trainer"]["model"])
    with torch.no_grad():
        for p, shadow in zip(net.parameters(), state["trainer"]["ema"]["shadow"]):
            p.copy_(shadow)
    config = {**config, **options}
    measured, pictures = measure(net, split, schedule, config)
    draw(pictures, split, config, run)
    metrics = {**config, **measured}
    run.write_metrics(metrics)
    return metrics


JOB = Job("diffusion", "a diffusion model on the embedded digits (DDPM / DDIM sampling)", ARGS,
          train, evaluate, check=check,
          summary_keys=("mmd2_test", "mmd2_train_vs_test", "class_coverage_tv",
                        "inpainting_rmse_unknown", "train_seconds"))
