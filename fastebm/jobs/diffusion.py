"""The diffusion job, three kinds (images: a convolutional U-Net by default; 2-D points: an MLP):

- ``ddpm``: a denoiser trained by DDPM's objective on grey-level images (the digits, or 28×28
  MNIST; scaled to [-1, 1]) with an EMA of its weights, predicting ε or (the digits' default)
  each pixel's grey-level logits, ε̂ then following from the levels' posterior; sampled (DDPM,
  or DDIM with fewer steps) from the EMA weights; test images inpainted from their top half;
  K beside independent pixels on the same levels, MMD² of the samples to held-out images
  (beside train vs test) and class coverage.
- ``gaussian``: Sohl-Dickstein et al. 2015's Gaussian diffusion (T = 40, learnt βs) trained by
  its bound K on a 2-D point set (the Swiss roll by default); K in bits per sample and the
  trajectory (importance-sampled) log-likelihood on the test points, beside a Gaussian fitted to
  the data; MMD² of its samples.
- ``binomial``: Sohl-Dickstein et al. 2015's binomial diffusion (βₜ = 1/(T-t+1)) trained by K on
  the binarised digits; K and the trajectory estimate in bits per digit beside independent
  pixels; samples and class coverage; test digits inpainted from their top half and denoised
  after 10% of their bits were flipped.

Writes samples.png, (ddpm, binomial) inpainting.png, (binomial) denoising.png, curves.png,
metrics.json and the checkpoint."""

from __future__ import annotations

from .. import data as datasets
from . import diffusion_binomial, diffusion_ddpm, diffusion_gaussian
from .base import (Arg, Context, Job, Measured, Setup, count, device_arg, job_device, real,
                   training_args)

KINDS = {"ddpm": "DDPM (Ho et al. 2020): fixed variances, on the digits' or MNIST's grey levels",
         "gaussian": "Sohl-Dickstein et al. 2015: learnt reverse mean and variance, bound K, "
                     "on a 2-D point set",
         "binomial": "Sohl-Dickstein et al. 2015: learnt reverse bit-flip rates, bound K, on the "
                     "binarised digits"}
#: Each kind's defaults of the flags left unset (None).
KIND_DEFAULTS = {"ddpm": {"data": "digits", "timesteps": 1000, "network": "unet", "hidden": 512,
                          "epochs": 100, "batch_size": 128, "sampler": "ddpm", "eta": 0.0,
                          "predict": "levels"},
                 "gaussian": {"data": "swissroll", "timesteps": 40, "network": "mlp", "hidden": 128,
                              "epochs": 100, "batch_size": 128},
                 "binomial": {"data": "digits", "timesteps": 100, "network": "unet", "hidden": 512,
                              "epochs": 200, "batch_size": 128}}
#: Defaults of a kind on a data set, before the kind's own: 28×28 MNIST trains 28 epochs of
#: batches of 64 (11 minutes on a 2-core CPU; twice the steps of batches of 128 in the
#: same time, which this short a run needs more than larger batches), samples by DDIM with η = 1
#: (η = 0 leaves speckled backgrounds: MMD² 0.0066 against 0.0042), and its network predicts ε
#: (256 levels' logits per pixel are slower).
#: The binary heartbeat takes Sohl-Dickstein et al.'s setting: T = 2,000 and an MLP, trained for
#: 5,000 epochs of its 13 batches (8 minutes; K -2.87 bits at 300 epochs, -2.52 at 1,000, -2.43 at
#: 3,000, -2.42 at 5,000 against the paper's -2.414).
DATA_DEFAULTS = {("ddpm", "mnist5k"): {"epochs": 28, "batch_size": 64, "sampler": "ddim",
                                       "eta": 1.0, "predict": "eps"},
                 ("binomial", "heartbeat"): {"timesteps": 2000, "network": "mlp",
                                             "epochs": 5000}}
#: Each kind's build, measure, draw (with the job's title) and per-epoch curve (``quick``).
KIND_MODULES = {"ddpm": diffusion_ddpm, "gaussian": diffusion_gaussian,
                "binomial": diffusion_binomial}

ARGS = [
    Arg("--kind", str, "ddpm", "model: " + ", ".join(f"{k} = {v}" for k, v in KINDS.items()),
        choices=tuple(KINDS)),
    Arg("--data", str, None, "data set: digits or mnist5k (ddpm: grey levels, binomial: "
        "binarised), the binary heartbeat (binomial) or a 2-D point set (gaussian); default: "
        "digits / swissroll", choices=(*datasets.DATASETS, *datasets.SEQUENCES,
                                      *datasets.POINT_SETS)),
    Arg("--timesteps", count(2), None, "diffusion timesteps T (default: ddpm 1000, gaussian 40, "
        "binomial 100)"),
    Arg("--schedule", str, "linear", "β schedule (ddpm)", choices=tuple(diffusion_ddpm.SCHEDULES),
        only={"kind": ("ddpm",)}),
    Arg("--predict", str, None, "what the ddpm network predicts: each pixel's grey-level logits, ε̂ "
        "from the levels' posterior (default on the digits), or ε (default on mnist5k)",
        choices=("levels", "eps"), only={"kind": ("ddpm",)}),
    Arg("--fixed-noise-vars", None, False, "keep the initial noise variances β_t (gaussian; "
        "default: learn β₂..β_T)",
        only={"kind": ("gaussian",)}),
    Arg("--network", str, None, "the network: a convolutional U-Net (images; default of ddpm "
        "and binomial) or an MLP (default of gaussian)", choices=("unet", "mlp")),
    Arg("--channels", count(), 32, "the U-Net's first-level width", only={"network": ("unet",)}),
    Arg("--hidden", count(), None, "network MLP width (default: ddpm 512, gaussian 128, "
        "binomial 512)", only={"network": ("mlp",)}),
    Arg("--depth", count(), 3, "network MLP hidden layers", only={"network": ("mlp",)}),
    *training_args(epochs=None, batch_size=None, lr=2e-3, lr_schedule="cosine"),
    Arg("--ema", real(low=0.0, high=1.0, high_open=True), 0.995, "EMA decay of the weights"),
    Arg("--sampler", str, None, "sampling method (default: ddpm; ddim on mnist5k)",
        choices=("ddpm", "ddim"),
        resume_may_change=True, evaluate=True,
        only={"kind": ("ddpm",)}),
    Arg("--sample-steps", count(), 100, "DDIM steps (ddpm: every one of T)", resume_may_change=True,
        evaluate=True,
        only={"kind": ("ddpm",), "sampler": ("ddim",)}),
    Arg("--eta", real(low=0.0), None, "DDIM's η (default: 0; 1 on mnist5k)",
        resume_may_change=True, evaluate=True,
        only={"kind": ("ddpm",), "sampler": ("ddim",)}),
    device_arg("auto", "the ddpm network trains and samples", only={"kind": ("ddpm",)}),
]


def check(config: dict) -> None:
    """Fills the defaults of the kind on its data, then refuses flag combinations of another
    kind."""
    data = config["data"] or KIND_DEFAULTS[config["kind"]]["data"]
    defaults = {**KIND_DEFAULTS[config["kind"]], **DATA_DEFAULTS.get((config["kind"], data), {})}
    for name, value in defaults.items():
        if config.get(name) is None:
            config[name] = value
    takes = {"ddpm": datasets.DATASETS, "gaussian": datasets.POINT_SETS,
             "binomial": {**datasets.DATASETS, **datasets.SEQUENCES}}[config["kind"]]
    if config["data"] not in takes:
        raise ValueError(f"--kind {config['kind']} takes --data {' / '.join(takes)}, got --data "
                         f"{config['data']}")
    if config["data"] not in datasets.DATASETS and config["network"] == "unet":
        raise ValueError(f"--network unet is for images; --data {config['data']} takes "
                         f"--network mlp")
    if config["sampler"] == "ddim" and config["sample_steps"] > config["timesteps"]:
        raise ValueError(f"--sample-steps {config['sample_steps']} exceeds --timesteps "
                         f"{config['timesteps']}")
    if config["kind"] == "ddpm":
        job_device(config)


def title(setup: Setup, config: dict) -> str:
    sampler = f", {config['sampler']}" if config["kind"] == "ddpm" else ""
    return f"{config['kind']} diffusion on {config['data']}, T = {config['timesteps']}{sampler}"


def kind(config: dict):
    """The module of the configuration's kind."""
    return KIND_MODULES[config["kind"]]


def draw(setup: Setup, config: dict, measured: Measured, context: Context, run) -> None:
    kind(config).draw(setup, config, measured, run, title(setup, config))


JOB = Job("diffusion", "a diffusion model: DDPM on the digits, Sohl-Dickstein's Gaussian diffusion "
          "on 2-D points and binomial diffusion on the binarised digits", ARGS,
          lambda config: kind(config).build(config),
          lambda setup, config, context: kind(config).measure(setup, config, context), draw, title,
          epoch_metrics=lambda setup, config, trainer: kind(config).quick(setup, config, trainer),
          ema=lambda config: config["ema"], check=check,
          run_folder=lambda config: f"diffusion-{config['kind']}",
          summary_keys=("bound_bits", "trajectory_log_likelihood_bits",
                        "gaussian_fit_log_likelihood_bits", "independent_pixels_log_likelihood_bits",
                        "mmd2_test", "mmd2_train_vs_test", "class_coverage_tv",
                        "inpainting_rmse_unknown", "inpainting_bit_error_unknown",
                        "denoising_bit_error", "train_seconds"),
          verdicts=lambda metrics: kind(metrics).verdicts(metrics),
          references=lambda metrics: kind(metrics).references(metrics))
