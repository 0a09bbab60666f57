"""The VAE job: a VAE (Gaussian encoder, Bernoulli decoder, MLPs) trained on binarised digits
(or mnist5k) by the ELBO, its gradient by reparameterisation or (``--estimator score``) by the
score function with a leave-one-out baseline; per epoch the test ELBO and, on one fixed training
batch, the variance of the gradient that reaches the encoder's outputs by each estimator (score
function, with a baseline, reparameterisation). Measures the test ELBO and the IWAE bound with
``--iwae-samples`` draws (nats per image). A score-function run also trains the same VAE by
reparameterisation (same seed, steps and optimiser; one process) and draws both test-ELBO curves
in estimators.png. Writes samples.png, reconstructions.png, curves.png, gradient_variance.png,
(score) estimators.png, metrics.json and the checkpoint."""

from __future__ import annotations

import torch

from .. import data as datasets
from ..models import VAE
from ..objectives import ELBO
from ..plots import labelled_rows, metric_curves, sample_grid
from ..training.epoch_log import is_reported
from .base import Arg, Context, Job, Measured, Setup, count, fit, training_args
from .rbm import base_rate_log_likelihood, class_coverage
from .verdicts import Versus, coverage_target

ESTIMATORS = ("score_function", "score_function_baseline", "reparameterization")
#: --estimator: the ELBO objective's estimator and its default draws per example.
TRAINING_ESTIMATORS = {"reparam": ("reparameterization", 1), "score": ("score_function", 16)}
_SHOWN = 100
_COVERAGE = 500  # samples whose classes are counted
_VARIANCE_BATCH = 100
_RECONSTRUCTED = 16  # test images shown beside their reconstructions

ARGS = [
    Arg("--data", str, "digits", "binarised image set", choices=tuple(datasets.DATASETS)),
    Arg("--latent", count(), 8, "latent dimensions D"),
    Arg("--hidden", count(), 256, "width of the encoder's and decoder's two hidden layers"),
    Arg("--estimator", str, "reparam", "the ELBO's gradient: reparameterisation, or the score "
        "function with a leave-one-out baseline (also trains a reparameterised twin to compare)",
        choices=tuple(TRAINING_ESTIMATORS)),
    Arg("--elbo-samples", count(), None, "draws of q(z | x) per example and step (default: "
        "reparam 1, score 16; score needs 2)"),
    *training_args(epochs=100, batch_size=100, lr=1e-3),
    Arg("--variance-samples", count(2), 100, "one-sample gradient estimates per variance measurement"),
    Arg("--iwae-samples", count(), 5000, "K of the final importance-weighted bound",
        resume_may_change=True, evaluate=True),
]


def check(config: dict) -> None:
    """Fills the estimator's draws; the score function's baseline needs two."""
    if config["elbo_samples"] is None:
        config["elbo_samples"] = TRAINING_ESTIMATORS[config["estimator"]][1]
    if config["estimator"] == "score" and config["elbo_samples"] < 2:
        raise ValueError("--estimator score needs --elbo-samples >= 2 (its leave-one-out baseline)")


def build(config: dict) -> Setup:
    split = datasets.load(config["data"])
    torch.manual_seed(config["seed"])  # the MLPs' initial weights
    model = VAE(split.train.shape[1], config["latent"], config["hidden"])
    estimator = TRAINING_ESTIMATORS[config["estimator"]][0]
    return Setup(split.train, model, ELBO(config["elbo_samples"], estimator=estimator), split)


def test_elbo(model, split, seed: int, draws: int = 1) -> float:
    """The mean test ELBO from ``draws`` draws per image."""
    with torch.no_grad():
        return float(model.elbo(split.test, draws,
                                generator=torch.Generator().manual_seed(seed)).mean())


def reparameterized_twin(config: dict, progress: bool) -> tuple[VAE, list[dict]]:
    """The same VAE trained by the reparameterised ELBO with one draw, the run's seed, steps and
    optimiser, no checkpoint: (the model, its history with the test ELBO per reported epoch)."""
    twin_config = {**config, "estimator": "reparam", "elbo_samples": 1}
    twin = build(twin_config)
    trainer, _ = fit("vae", twin_config, twin.model, twin.objective, twin.train, None, progress,
                     [lambda t: ({"test_elbo": test_elbo(t.model, twin.data, config["seed"])}
                                 if is_reported(t.epoch, config["epochs"]) else {})])
    return twin.model, trainer.history


def epoch_metrics(setup: Setup, config: dict, trainer) -> dict:
    """The test ELBO (one draw per image) and the three estimators' gradient variances on the
    first training images."""
    model, split = trainer.model, setup.data
    g = torch.Generator().manual_seed(config["seed"] + trainer.epoch)
    test = test_elbo(model, split, config["seed"] + trainer.epoch)
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
    pictures = {}
    if config["estimator"] == "score" and not context.distributed:
        twin, pictures["twin"] = reparameterized_twin(config, context.progress)
        metrics["reparameterized_twin_test_elbo"] = test_elbo(twin, split, config["seed"], 100)
    return Measured({**metrics, **class_coverage(samples, split)}, samples, pictures)


def verdicts(metrics: dict) -> tuple:
    """The IWAE bound against the base-rate model, the class coverage, and a score-function
    run's test ELBO against its reparameterised twin's."""
    twin = (Versus("test_elbo", "reparameterized_twin_test_elbo", "the reparameterised twin",
                   "nats"),) if "reparameterized_twin_test_elbo" in metrics else ()
    return (Versus("test_iwae", "base_rate_test_log_likelihood", "the base-rate model", "nats"),
            coverage_target(0.10), *twin)


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
        metric_curves({k: context.history for k in ESTIMATORS},
                      {k: f"grad_var_{k}" for k in ESTIMATORS}, run.path("gradient_variance.png"),
                      f"{name}: gradient variance at the encoder's outputs",
                      "variance per coordinate", log=True)
    if measured.pictures:
        runs = {f"score function ({config['elbo_samples']} draws, baseline)": context.history,
                "reparameterisation (1 draw)": measured.pictures["twin"]}
        metric_curves(runs, {label: "test_elbo" for label in runs}, run.path("estimators.png"),
                      f"{name}: test ELBO by each gradient estimator", "test ELBO (nats)")


JOB = Job("vae", "a VAE on binarised digits by the ELBO (reparameterised or score function); IWAE "
          "log-likelihood, "
          "gradient variance of both estimators", ARGS, build, measure, draw, title,
          epoch_metrics=epoch_metrics, plotted_apart=("grad_var",),
          check=check,
          summary_keys=("test_elbo", "reparameterized_twin_test_elbo", "test_iwae", "train_elbo",
                        "train_seconds", "grad_var_score_function",
                        "grad_var_reparameterization", "class_coverage_tv"),
          verdicts=verdicts,
          references=lambda metrics: {"test_elbo": {
              "base-rate model": metrics["base_rate_test_log_likelihood"],
              "final IWAE bound": metrics["test_iwae"]}})
