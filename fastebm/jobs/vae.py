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
from ..plots import log_curves, sample_grid, training_curves
from .base import Arg, Job, count, fit, training_args

ESTIMATORS = ("score_function", "score_function_baseline", "reparameterization")
_SHOWN = 100
_VARIANCE_BATCH = 100

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


def build(config: dict):
    split = datasets.load(config["data"])
    torch.manual_seed(config["seed"])  # the MLPs' initial weights
    model = VAE(split.train.shape[1], config["latent"], config["hidden"])
    return split, model, ELBO(config["elbo_samples"])


def epoch_metrics(model, split, config: dict, epoch_seed: int) -> dict:
    """The test ELBO (one draw per image) and the three estimators' gradient variances on the
    first training images."""
    g = torch.Generator().manual_seed(epoch_seed)
    with torch.no_grad():
        test = float(model.elbo(split.test, generator=g).mean())
    variances = model.gradient_variances(split.train[:_VARIANCE_BATCH], config["variance_samples"],
                                         generator=g)
    return {"test_elbo": test, **{f"grad_var_{k}": v for k, v in variances.items()}}


def measure(model, split, config: dict) -> dict:
    g = torch.Generator().manual_seed(config["seed"])
    with torch.no_grad():
        return {"test_elbo": float(model.elbo(split.test, 100, generator=g).mean()),
                "train_elbo": float(model.elbo(split.train, 10, generator=g).mean()),
                "test_iwae": float(model.iwae(split.test, config["iwae_samples"], generator=g).mean()),
                "iwae_samples": config["iwae_samples"]}


def draw(model, split, config: dict, history: list, run) -> None:
    title = f"VAE {split.train.shape[1]}-{config['hidden']}-{config['latent']} on {config['data']}"
    g = torch.Generator().manual_seed(config["seed"])
    samples = model.sample(_SHOWN, generator=g)
    run.write_samples(samples)
    sample_grid(samples, split.shape, run.path("samples.png"),
                f"{title}: E[x | z], z ~ N(0, I)")
    shown = split.test[:50]
    pairs = torch.stack([shown, model.reconstruct(shown)], 1).flatten(0, 1)  # image, reconstruction
    sample_grid(pairs, split.shape, run.path("reconstructions.png"),
                f"{title}: test images and their reconstructions", cols=10)
    if history:
        training_curves([{k: v for k, v in rec.items() if not k.startswith("grad_var")}
                         for rec in history], run.path("curves.png"), title)
        log_curves(history, [f"grad_var_{k}" for k in ESTIMATORS], run.path("gradient_variance.png"),
                   f"{title}: gradient variance at the encoder's outputs", "variance per coordinate")


def train(config: dict, run, progress: bool) -> dict:
    split, model, objective = build(config)
    trainer, seconds = fit("vae", config, model, objective, split.train, run, progress,
                           [lambda t: epoch_metrics(t.model, split, config, config["seed"] + t.epoch)])
    if trainer.rank:
        return {}
    run.written.append("checkpoint.pt")
    last = trainer.history[-1] if trainer.history else {}
    metrics = {**config, "train_seconds": seconds, **measure(model, split, config),
               **{k: last[k] for k in last if k.startswith("grad_var")}}
    draw(model, split, config, trainer.history, run)
    run.write_metrics(metrics)
    return metrics


def evaluate(config: dict, options: dict, state: dict, run) -> dict:
    """Re-measure a trained run (``--iwae-samples``); rewrites metrics.json and the pictures."""
    split, model, _ = build(config)
    model.load_state_dict(state["trainer"]["model"])
    config = {**config, **options}
    metrics = {**config, **measure(model, split, config)}
    draw(model, split, config, state["trainer"].get("history", []), run)
    run.write_metrics(metrics)
    return metrics


JOB = Job("vae", "a VAE on binarised digits by the reparameterised ELBO; IWAE log-likelihood, "
          "gradient variance of both estimators", ARGS, train, evaluate,
          lambda config: build(config)[1],
          summary_keys=("test_elbo", "test_iwae", "train_elbo", "train_seconds",
                        "grad_var_score_function", "grad_var_reparameterization"))
