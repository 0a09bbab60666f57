"""The main job: train a Bernoulli RBM on embedded data, then measure it (AIS and reverse-AIS
log Z, train/test log-likelihood, pseudo-likelihood, class coverage of its samples) and draw it
(samples.png, curves.png)."""

from __future__ import annotations

import torch

from .. import data as datasets
from ..models import BernoulliRBM
from ..models.rbm import base_rate_biases
from ..objectives import CD, PCD, PseudoLikelihood, log_pseudo_likelihood
from ..partition import ais, exact_log_z, log_likelihood, reverse_ais
from ..plots import sample_grid
from .base import Arg, Context, Job, Measured, Setup, count, ladder, training_args
from .verdicts import Versus, coverage_target

METHODS = {"cd": "CD-k", "pcd": "PCD-k (SML)", "pl": "exact pseudo-likelihood",
           "spl": "stochastic pseudo-likelihood"}
#: Layers up to this size also get the exact log Z in metrics.json.
EXACT_LIMIT = 20
_PL_ROWS = 500  # examples the per-epoch pseudo-likelihood is measured on
_SAMPLES, _SAMPLE_SWEEPS = 500, 1000  # model samples drawn, classified and pictured
_IMPUTE_DRAWS, _IMPUTE_SWEEPS = 20, 200  # clamped draws per test image, sweeps each
#: The default PCD chains' tempering ladder: with the cosine schedule, samples of every class.
PT_BETAS = [1.0, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4]

def ais_args(chains: int) -> list[Arg]:
    """The measurement's AIS flags (forward and reverse AIS each run ``--ais-chains`` chains)."""
    return [Arg("--ais-chains", count(), chains, "AIS chains of the measurement",
                resume_may_change=True, evaluate=True),
            Arg("--ais-betas", count(3), 14500, "AIS inverse temperatures",
                resume_may_change=True, evaluate=True)]


ARGS = [
    Arg("--data", str, "digits", "embedded data set", choices=tuple(datasets.DATASETS)),
    Arg("--hidden", count(), 64, "hidden units"),
    Arg("--method", str, "pcd", "objective: " + ", ".join(f"{k} = {v}" for k, v in METHODS.items()),
        choices=tuple(METHODS)),
    Arg("--k", count(), 1, "Gibbs sweeps per update (CD / PCD)", only={"method": ("cd", "pcd")}),
    *training_args(epochs=100, batch_size=100, lr=1e-2, lr_schedule="cosine"),
    Arg("--chains", count(), 100, "persistent chains (PCD)", only={"method": ("pcd",)}),
    Arg("--pt-betas", ladder, PT_BETAS,
        "parallel tempering inverse temperatures for PCD, from 1 down (1: no tempering)",
        only={"method": ("pcd",)}),
    *ais_args(chains=1000),
]


def make_objective(config: dict):
    method, k = config["method"], config["k"]
    if method == "cd":
        return CD(k)
    if method == "pcd":
        return PCD(config["chains"], k, betas=config["pt_betas"])
    return PseudoLikelihood(stochastic=method == "spl")


def pl_metrics(model, split) -> dict:
    """Mean exact log pseudo-likelihood per example on (up to 500) train and test rows."""
    with torch.no_grad():
        return {f"{name}_pseudo_log_likelihood":
                float(log_pseudo_likelihood(model, x[:_PL_ROWS]).mean())
                for name, x in (("train", split.train), ("test", split.test))}


def class_coverage(samples: torch.Tensor, split) -> dict:
    """How the model's samples cover the classes: a logistic-regression classifier fitted to the
    training data labels the samples; the total-variation distance between that class histogram
    and the training labels' (0: every class in its data proportion, 1: disjoint)."""
    from sklearn.linear_model import LogisticRegression

    clf = LogisticRegression(max_iter=2000).fit(split.train.numpy(), split.train_labels.numpy())
    n_classes = int(split.train_labels.max()) + 1
    predicted = torch.bincount(torch.from_numpy(clf.predict(samples.cpu().numpy())),
                               minlength=n_classes) / len(samples)
    data = torch.bincount(split.train_labels, minlength=n_classes) / len(split.train_labels)
    return {"class_coverage_tv": 0.5 * float((predicted - data).abs().sum()),
            "sample_class_histogram": [round(float(p), 4) for p in predicted]}


def base_rate_log_likelihood(split) -> dict:
    """The mean test log-likelihood (nats) of independent Bernoulli pixels at the training
    images' (smoothed) base rates: log p(v) = v·b - Σ softplus(b), b their log-odds."""
    base_b = base_rate_biases(split.train, split.train.shape[1]).double()
    base_ll = split.test.double() @ base_b - torch.nn.functional.softplus(base_b).sum()
    return {"base_rate_test_log_likelihood": float(base_ll.mean())}


def ais_estimates(model, split, config: dict, blocks: int = 1, distributed: bool = False):
    """(AIS, reverse AIS) log Z with the configuration's chains and betas, the chains run in
    ``blocks`` (split over the ranks when ``distributed``: a collective call)."""
    g = torch.Generator().manual_seed(config["seed"])
    n, n_betas = config["ais_chains"], config["ais_betas"]
    split_chains = dict(blocks=blocks, distributed=distributed)
    fwd = ais(model, n, n_betas, data=split.train, generator=g, **split_chains)
    rev = reverse_ais(model, split.train[:n], n_betas, data=split.train, generator=g,
                      **split_chains)
    return fwd, rev


def log_z_metrics(model, split, fwd, rev) -> dict:
    """The AIS and reverse-AIS log Z (``ais_estimates``; their gap shows the estimate's error)
    and the mean test log-likelihood by the AIS one, plus the exact values when a layer is small
    enough to enumerate."""
    out = {"log_z_ais": fwd.log_z, "log_z_ais_stderr": fwd.stderr,
           "log_z_reverse_ais": rev.log_z, "log_z_reverse_ais_stderr": rev.stderr,
           "test_log_likelihood": float(log_likelihood(model, split.test, fwd).mean())}
    if min(model.n_visible, model.n_hidden) <= EXACT_LIMIT:
        log_z = exact_log_z(model)
        out["log_z_exact"] = float(log_z)
        out["test_log_likelihood_exact"] = float(log_likelihood(model, split.test, log_z).mean())
    return out


def likelihoods(model, split, fwd, rev) -> dict:
    """``log_z_metrics``, the train log-likelihood, PL, and the base-rate model's test
    log-likelihood for scale."""
    return {**log_z_metrics(model, split, fwd, rev),
            "train_log_likelihood": float(log_likelihood(model, split.train, fwd).mean()),
            **base_rate_log_likelihood(split), **pl_metrics(model, split)}


def imputation(model, split, seed: int) -> dict:
    """The bottom half of every test image imputed from its top half: each missing pixel set
    to the majority of 20 draws from the exact conditional (clamped Gibbs, 200 sweeps); the
    fraction of missing bits wrong, beside the base-rate model's (each pixel its more frequent
    training value)."""
    test = split.test
    mask = torch.zeros(test.shape[1], dtype=torch.bool)
    mask[: test.shape[1] // 2] = True                      # the top half is known
    known = test.repeat_interleave(_IMPUTE_DRAWS, 0)
    draws = model.sample(len(known), _IMPUTE_SWEEPS, known=known, mask=mask,
                         generator=torch.Generator().manual_seed(seed))
    imputed = draws.view(len(test), _IMPUTE_DRAWS, -1).mean(1) > 0.5
    base = (split.train.mean(0) > 0.5).expand_as(test)
    missing = ~mask
    return {"imputation_bit_error": float((imputed != test.bool())[:, missing].float().mean()),
            "base_rate_imputation_bit_error": float((base != test.bool())[:, missing].float().mean())}


def draw_samples(model, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(v, p(v | h)) [500, V] after 1000 Gibbs sweeps from random starts."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        v, h = model.gibbs(model.random_visible(_SAMPLES, g), _SAMPLE_SWEEPS, generator=g)
        return v, model.visible_probs(h)


def build(config: dict) -> Setup:
    """Data, model and objective of a configuration: visible biases at the data's log-odds."""
    split = datasets.load(config["data"])
    model = BernoulliRBM(split.train.shape[1], config["hidden"],
                         generator=torch.Generator().manual_seed(config["seed"]))
    with torch.no_grad():  # Hinton's practical guide
        model.b.copy_(base_rate_biases(split.train, model.n_visible))
    return Setup(split.train, model, make_objective(config), split)


def title(setup: Setup, config: dict) -> str:
    return (f"RBM {setup.model.n_visible}-{config['hidden']} on {config['data']}, "
            f"{config['method'].upper()}-{config['k']}")


def measure(setup: Setup, config: dict, context: Context) -> Measured | None:
    """Every rank runs its blocks of AIS chains (one block a shard); rank 0 alone measures the
    rest: log-likelihoods, PL, the class coverage of 500 samples and the imputation of the
    test images' bottom halves."""
    model, split = setup.model, setup.data
    estimates = ais_estimates(model, split, config, context.blocks, context.distributed)
    if context.rank:
        return None
    v, p = draw_samples(model, config["seed"])
    return Measured({**likelihoods(model, split, *estimates), **class_coverage(v, split),
                     **imputation(model, split, config["seed"])}, v, p)


def draw(setup: Setup, config: dict, measured: Measured, context: Context, run) -> None:
    sample_grid(measured.pictures[:100], setup.data.shape, run.path("samples.png"),
                f"{title(setup, config)}: p(v | h) after {_SAMPLE_SWEEPS} Gibbs sweeps")


JOB = Job("rbm", "a Bernoulli RBM on embedded binarised images (digits, mnist5k)", ARGS, build,
          measure, draw, title, epoch_metrics=lambda setup, config, trainer:
          pl_metrics(trainer.model, setup.data), measure_on_every_rank=True,
          summary_keys=("log_z_ais", "log_z_ais_stderr", "log_z_reverse_ais", "log_z_exact",
                        "train_log_likelihood", "test_log_likelihood",
                        "base_rate_test_log_likelihood", "test_pseudo_log_likelihood",
                        "class_coverage_tv", "imputation_bit_error",
                        "base_rate_imputation_bit_error", "train_seconds"),
          verdicts=(Versus("test_log_likelihood", "base_rate_test_log_likelihood",
                           "the base-rate model", "nats"), coverage_target(0.10),
                    Versus("imputation_bit_error", "base_rate_imputation_bit_error",
                           "the base-rate model", higher_is_better=False)),
          references=lambda metrics: {"test_pseudo_log_likelihood": {  # PL = LL for it
              "base-rate model": metrics["base_rate_test_log_likelihood"]}})
