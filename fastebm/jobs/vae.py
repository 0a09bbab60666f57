"""The VAE job: a VAE (Gaussian encoder, Bernoulli decoder, MLPs) trained on binarised digits
(or mnist5k) by the reparameterised ELBO; per epoch the test ELBO and, on one fixed training
batch, the variance of the gradient that reaches the encoder's outputs by each estimator (score
function, with a baseline, reparameterisation). Measures the test ELBO and the IWAE bound with
``--iwae-samples`` draws (nats per image). Writes samples.png, reconstructions.png, curves.png,
gradient_variance.png, metrics.json and the checkpoint."""

from __future__ import annotations

import torch

from .. import data as datasets
from ..models import VAE
from ..objectives import ELBO
from ..plots import labelled_rows, log_curves, sample_grid
from .base import Arg, Context, Job, Measured, Setup, count, training_args
from .rbm import base_rate_log_likelihood, class_coverage
from .verdicts import Versus, coverage_target

ESTIMATORS = ("score_function", "score_function_baseline", "reparameterization")
_SHOWN = 100
_COVERAGE = 500  # samples whose classes are counted
_VARIANCE_BATCH = 100
_RECONSTRUCTED = 16  # test images shown beside their reconstructions

ARGS = [
    Arg("--data", str, "digits", "binarised image set", choices=tuple(datasets.DATASETS)),
    Arg("--latent", count(), 8, "latent dimensions D"),
    Arg("--hidden", count(), 256, "width of the encoder's and decoder's two hidden layers"),
    Arg("--elbo-samples", count(), 1, "reparameterised draws per example and step"),
    *training_args(epochs=100, batch_size=100, lr=1e-3),
    Arg("--variance-samples", count(2), 100, "one-sample gradient estimates per variance measurement"),
    Arg("--iwae-samples", count(), 5000, "K of the final importance-weighted bound",
        resume_may_change=True, evaluate=True),
]


def build(config: dict) -> Setup:
    split = datasets.load(config["data"])
    torch.manual_seed(config["seed"])  # the MLPs' initial weights
    model = VAE(split.train.shape[1], config["latent"], config["hidden"])
    return Setup(split.train, model, ELBO(config["elbo_samples"]), split)


def epoch_metrics(setup: Setup, config: dict, trainer) -> dict:
    """The test ELBO (one draw per image) and the three estimators' gradient variances on the
    first training images."""
    model, split = trainer.model, setup.data
    g = torch.Generator().manual_seed(config["seed"] + trainer.epoch)
    with torch.no_grad():
        test = float(model.elbo(split.test, generator=g).mean())
    variances = model.gradient_variances(split.train[:_VARIANCE_BATCH], config["variance_samples"],
                                         generator=g)
    return {"test_elbo": test, **{f"grad_var_{k}": v for k, v in variances.items()}}


def measure(setup: Setup, config: dict, context: Context) -> Measured:
    """Test and train ELBO, the IWAE bound, the last epoch's gradient variances; samples E[x | z]."""
    model, split = setup.model, setup.data
    g = torch.Generator().manual_seed(config["seed"])
    last = context.history[-1] if context.history else {}
    with torch.no_grad():
        metrics = {"test_elbo": float(model.elbo(split.test, 100, generator=g).mean()),
                   "train_elbo": float(model.elbo(split.train, 10, generator=g).mean()),
                   "test_iwae": float(model.iwae(split.test, config["iwae_samples"],
                                                 generator=g).mean()),
                   "iwae_samples": config["iwae_samples"], **base_rate_log_likelihood(split),
                   **{k: v for k, v in last.items() if k.startswith("grad_var")}}
        g = torch.Generator().manual_seed(config["seed"])
        samples = model.sample(_COVERAGE, generator=g)
        return Measured({**metrics, **class_coverage(samples, split)}, samples)


def title(setup: Setup, config: dict) -> str:
    return (f"VAE {setup.train.shape[1]}-{config['hidden']}-{config['latent']} on "
            f"{config['data']}")


def draw(setup: Setup, config: dict, measured: Measured, context: Context, run) -> None:
    model, split, name = setup.model, setup.data, title(setup, config)
    sample_grid(measured.samples[:_SHOWN], split.shape, run.path("samples.png"),
                f"{name}: E[x | z], z ~ N(0, I)")
    shown = split.test[:_RECONSTRUCTED]
    with torch.no_grad():
        rows = [shown, model.reconstruct(shown)]
    labelled_rows(rows, ["test image", "reconstruction"], split.shape,
                  run.path("reconstructions.png"), f"{name}: test images and their reconstructions")
    if context.history:
        log_curves(context.history, [f"grad_var_{k}" for k in ESTIMATORS],
                   run.path("gradient_variance.png"),
                   f"{name}: gradient variance at the encoder's outputs", "variance per coordinate")


JOB = Job("vae", "a VAE on binarised digits by the reparameterised ELBO; IWAE log-likelihood, "
          "gradient variance of both estimators", ARGS, build, measure, draw, title,
          epoch_metrics=epoch_metrics, plotted_apart=("grad_var",),
          summary_keys=("test_elbo", "test_iwae", "train_elbo", "train_seconds",
                        "grad_var_score_function", "grad_var_reparameterization",
                        "class_coverage_tv"),
          verdicts=(Versus("test_iwae", "base_rate_test_log_likelihood", "the base-rate model",
                           "nats"), coverage_target(0.10)),
          references=lambda metrics: {"test_elbo": {
              "base-rate model": metrics["base_rate_test_log_likelihood"],
              "final IWAE bound": metrics["test_iwae"]}})
