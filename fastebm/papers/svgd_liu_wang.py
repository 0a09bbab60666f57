"""Liu & Wang (2016), Stein variational gradient descent: Figure 1 (100 particles from N(-10, 1)
reaching the 1-D mixture ⅓N(-2, 1) + ⅔N(2, 1), shown at iterations 0, 50, 75, 100, 150 and 500)
and Bayesian logistic regression with Gershman et al.'s (2012) prior, w | α ~ N(0, α⁻¹I),
α ~ Gamma(1, rate 0.01), on a data set that ships with scikit-learn."""

from __future__ import annotations

import math
import time

import torch

from ..jobs.base import Arg, count, real
from ..jobs.verdicts import Versus
from ..plots import plt, save_figure
from ..samplers import SVGD
from .base import Reproduction

#: The mixture's exact moments: mean ⅔·2 - ⅓·2 = 2/3, variance 1 + 4 - (2/3)².
MIXTURE_MEAN, MIXTURE_VAR = 2 / 3, 5 - 4 / 9
FIGURE_ITERATIONS = (0, 50, 75, 100, 150, 500)


def mixture_log_prob(x: torch.Tensor) -> torch.Tensor:
    """[n] log of ⅓N(x; -2, 1) + ⅔N(x; 2, 1) for x [n, 1] (up to the constant)."""
    x = x[:, 0]
    return torch.logsumexp(torch.stack([math.log(1 / 3) - 0.5 * (x + 2) ** 2,
                                        math.log(2 / 3) - 0.5 * (x - 2) ** 2]), 0)


def kde(particles: torch.Tensor, grid: torch.Tensor) -> torch.Tensor:
    """[G] a Gaussian kernel density estimate of 1-D particles [n] (Silverman's bandwidth)."""
    n = len(particles)
    h = max(1.06 * float(particles.std()) * n ** -0.2, 1e-3)
    z = (grid[:, None] - particles[None, :]) / h
    return torch.exp(-0.5 * z.square()).sum(1) / (n * h * math.sqrt(2 * math.pi))


def run_mixture(config: dict, run, progress: bool) -> dict:
    g = torch.Generator().manual_seed(config["seed"])
    x0 = -10 + torch.randn(config["particles"], 1, generator=g, dtype=torch.float64)
    sampler = SVGD(mixture_log_prob, step_size=config["step_size"], rule="adagrad",
                   progress=progress)
    shots = {0: x0[:, 0].clone()}
    start = time.perf_counter()
    x = sampler.run(x0, max(FIGURE_ITERATIONS), callback=lambda step, p: shots.__setitem__(
        step + 1, p[:, 0].clone()) if step + 1 in FIGURE_ITERATIONS else None)
    seconds = time.perf_counter() - start
    grid = torch.linspace(-14, 6, 400, dtype=torch.float64)
    target = torch.exp(mixture_log_prob(grid[:, None])) / math.sqrt(2 * math.pi)
    fig, axes = plt.subplots(1, len(FIGURE_ITERATIONS), figsize=(3 * len(FIGURE_ITERATIONS), 2.6),
                             sharey=True)
    for ax, it in zip(axes, FIGURE_ITERATIONS):
        ax.plot(grid, target, "r--", label="target")
        ax.plot(grid, kde(shots[it], grid), "g-", label="particles (KDE)")
        ax.set_title(f"iteration {it}")
        ax.set_xlabel("x")
    axes[0].legend(fontsize=8, loc="upper left")
    save_figure(fig, run.path("mixture.png"),
                f"SVGD, {config['particles']} particles from N(-10, 1) (Liu & Wang 2016, Fig. 1)")
    x = x[:, 0]
    return {"right_mode_fraction": float((x > 0).double().mean()), "exact_right_mode_fraction": 2 / 3,
            "mean": float(x.mean()), "exact_mean": MIXTURE_MEAN,
            "variance": float(x.var()), "exact_variance": MIXTURE_VAR, "seconds": seconds}


MIXTURE = Reproduction(
    "svgd-mixture", "Liu & Wang 2016 Fig. 1: SVGD particles from N(-10, 1) reach a 1-D mixture",
    [Arg("--particles", count(2), 100, "particles (the paper: 100)"),
     Arg("--step-size", real(low=0.0, low_open=True), 0.25, "AdaGrad master step size"),
     Arg("--seed", count(0), 0, "seed of the initial particles")],
    run_mixture,
    ("right_mode_fraction", "exact_right_mode_fraction", "mean", "exact_mean", "variance",
     "exact_variance", "seconds"))


def load_breast_cancer_split(seed: int):
    """(x_train, y_train, x_test, y_test): scikit-learn's 569 breast-cancer tumours, 30
    features standardised by the training split's moments, 80 / 20 split; float64."""
    from sklearn.datasets import load_breast_cancer
    from sklearn.model_selection import train_test_split

    data = load_breast_cancer()
    x_tr, x_te, y_tr, y_te = train_test_split(data.data, data.target, test_size=0.2,
                                              random_state=seed)
    mean, sd = x_tr.mean(0), x_tr.std(0)
    to = lambda a: torch.tensor(a, dtype=torch.float64)  # noqa: E731
    return to((x_tr - mean) / sd), to(y_tr), to((x_te - mean) / sd), to(y_te)


def logistic_log_posterior(n_train: int, a: float = 1.0, rate: float = 0.01):
    """log p(w, log α | data) up to a constant, for particles [n, D + 2] = (weights, bias,
    log α) and a minibatch [B, D + 1] = (features, label) scaled by n_train / B: Gershman et al.'s
    model, w (bias included) | α ~ N(0, α⁻¹I), α ~ Gamma(a, rate), log α the coordinate (its
    Jacobian added)."""
    def log_posterior(theta: torch.Tensor, batch: torch.Tensor) -> torch.Tensor:
        w, log_alpha = theta[:, :-1], theta[:, -1]
        logits = batch[:, :-1] @ w[:, :-1].T + w[:, -1]                        # [B, n]
        ll = -torch.nn.functional.binary_cross_entropy_with_logits(
            logits, batch[:, -1:].expand_as(logits), reduction="none").sum(0)  # [n]
        dim = w.shape[1]
        prior_w = 0.5 * dim * log_alpha - 0.5 * log_alpha.exp() * w.square().sum(1)
        prior_alpha = a * log_alpha - rate * log_alpha.exp()  # Gamma density × Jacobian α
        return prior_w + prior_alpha + n_train / len(batch) * ll
    return log_posterior


def run_logreg(config: dict, run, progress: bool) -> dict:
    x_tr, y_tr, x_te, y_te = load_breast_cancer_split(config["seed"])
    train = torch.cat([x_tr, y_tr[:, None]], 1)
    g = torch.Generator().manual_seed(config["seed"])
    D = x_tr.shape[1]
    # Initial particles from the prior: α ~ Gamma(1, 0.01) (an exponential: -log U / 0.01),
    # then w ~ N(0, α⁻¹I).
    n = config["particles"]
    alpha = -torch.rand(n, generator=g, dtype=torch.float64).log() / 0.01
    theta0 = torch.cat([torch.randn(n, D + 1, generator=g, dtype=torch.float64)
                        / alpha.sqrt()[:, None], alpha.log()[:, None]], 1)
    sampler = SVGD(logistic_log_posterior(len(train)), step_size=config["step_size"],
                   rule="adagrad", data=train, batch_size=config["batch_size"],
                   progress=progress)
    history = []

    def measure(theta: torch.Tensor) -> tuple[float, float]:
        p = torch.sigmoid(x_te @ theta[:, :D].T + theta[:, D]).mean(1)  # predictive [N_test]
        accuracy = float(((p > 0.5).double() == y_te).double().mean())
        log_lik = float(torch.where(y_te == 1, p, 1 - p).clamp_min(1e-300).log().mean())
        return accuracy, log_lik

    def record(step: int, theta: torch.Tensor) -> None:
        if (step + 1) % config["record_every"] == 0:
            history.append((step + 1, *measure(theta)))

    start = time.perf_counter()
    theta = sampler.run(theta0, config["iterations"], generator=g, callback=record)
    seconds = time.perf_counter() - start
    accuracy, log_lik = measure(theta)
    steps, accs, lls = zip(*history)
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(9, 3.2))
    a1.plot(steps, accs, "g.-")
    a1.set_xlabel("iteration")
    a1.set_ylabel("test accuracy")
    a2.plot(steps, lls, "b.-")
    a2.set_xlabel("iteration")
    a2.set_ylabel("test log-likelihood")
    save_figure(fig, run.path("logreg.png"),
                f"SVGD Bayesian logistic regression, breast cancer, {config['particles']} particles")
    return {"test_accuracy": accuracy, "test_log_likelihood": log_lik,
            "majority_class_accuracy": float(max(y_te.mean(), 1 - y_te.mean())),
            "seconds": seconds}


LOGREG = Reproduction(
    "svgd-logreg", "Liu & Wang 2016 Bayesian logistic regression (Gershman et al.'s prior) on "
    "scikit-learn's breast-cancer data",
    [Arg("--particles", count(2), 100, "particles (the paper: 100)"),
     Arg("--iterations", count(), 3000, "SVGD iterations"),
     Arg("--batch-size", count(), 50, "minibatch size (the paper: 50)"),
     Arg("--step-size", real(low=0.0, low_open=True), 0.05, "AdaGrad master step size"),
     Arg("--record-every", count(), 100, "iterations between points of the curve"),
     Arg("--seed", count(0), 0, "seed of the split, the particles and the minibatches")],
    run_logreg,
    ("test_accuracy", "test_log_likelihood", "majority_class_accuracy", "seconds"),
    (Versus("test_accuracy", "majority_class_accuracy", "the majority class"),))
