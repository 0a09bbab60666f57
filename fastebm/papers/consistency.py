"""Consistency of the estimators that avoid log Z, as the chapters state it: score matching
(Hyvärinen 2005) and noise-contrastive estimation (Gutmann & Hyvärinen 2010) recover a 2-D
Gaussian's mean and precision, and pseudo-likelihood (Besag 1975; Mase 1995) a 4 × 4 Ising
torus's coupling and field, with an error that falls as n^(-1/2) in the sample size n (its
root-mean-square over independent samples of each size). The
Gaussian's samples are exact; the Ising lattices are exact draws from the 2¹⁶ enumerated states.
Each estimate is the estimator's optimum by full-batch Adam."""

from __future__ import annotations

import math
import time

import torch

from ..jobs.base import Arg, count, real
from ..jobs.verdicts import Versus
from ..models import GaussianEnergy, Ising2D
from ..objectives import NCE, PseudoLikelihood, ScoreMatching
from ..plots import plt, save_figure
from ..training import Trainer
from .base import Reproduction

MEAN = torch.tensor([1.0, -0.5], dtype=torch.float64)
PRECISION = torch.tensor([[2.0, 0.6], [0.6, 1.0]], dtype=torch.float64)
ISING_J, ISING_H, ISING_L = 0.35, 0.1, 4
METHODS = ("sm", "nce", "pl")
LABELS = {"sm": "score matching (Gaussian)", "nce": "NCE (Gaussian)",
          "pl": "pseudo-likelihood (Ising 4 × 4)"}


def sizes(text: str) -> list[int]:
    values = [int(v) for v in text.split(",")]
    if len(values) < 2 or min(values) < 10:
        raise ValueError(f"need two or more sample sizes >= 10, got {values}")
    return sorted(values)


def gaussian_draws(n: int, g: torch.Generator) -> torch.Tensor:
    """[n, 2] exact draws of N(MEAN, PRECISION⁻¹)."""
    chol = torch.linalg.cholesky(torch.linalg.inv(PRECISION))
    return MEAN + torch.randn(n, 2, generator=g, dtype=torch.float64) @ chol.T


def ising_draws(n: int, g: torch.Generator) -> torch.Tensor:
    """[n, L²] exact draws of the 4 × 4 torus at (ISING_J, ISING_H), β = 1: the 2¹⁶ states'
    probabilities enumerated, then sampled."""
    model = Ising2D(ISING_L, ISING_J, ISING_H, dtype=torch.float64)
    idx = torch.arange(2 ** (ISING_L ** 2))
    states = ((idx[:, None] >> torch.arange(ISING_L ** 2)) & 1).double()
    with torch.no_grad():
        p = torch.softmax(-model.energy(model.spins(states)), 0)
    return states[torch.multinomial(p, n, replacement=True, generator=g)]


def fit(method: str, x: torch.Tensor, steps: int, lr: float, seed: int) -> float:
    """The estimator's parameter error on x: ‖μ̂ - μ‖ + ‖P̂ - P‖_F (Gaussian) or
    |Ĵ - J| + |ĥ - h| (Ising), after ``steps`` full-batch Adam steps from a neutral start."""
    if method == "pl":
        model, objective = Ising2D(ISING_L, 0.0, 0.0, dtype=torch.float64), PseudoLikelihood()
    else:
        model = GaussianEnergy(torch.zeros(2, dtype=torch.float64),
                               torch.eye(2, dtype=torch.float64),
                               learn_log_normalizer=method == "nce")
        objective = ScoreMatching() if method == "sm" else NCE(nu=1.0)
        if method == "nce":
            objective.fit_noise(x)
    Trainer(model, objective, x, lr=lr, batch_size=len(x), seed=seed, progress=False).fit(steps)
    with torch.no_grad():
        if method == "pl":
            return abs(float(model.J) - ISING_J) + abs(float(model.h) - ISING_H)
        return float((model.mean - MEAN).norm() + (model.precision - PRECISION).norm())


def slope(ns: list[int], errors: list[float]) -> float:
    """The least-squares slope of log error against log n."""
    lx = torch.tensor([math.log(n) for n in ns], dtype=torch.float64)
    ly = torch.tensor([math.log(e) for e in errors], dtype=torch.float64)
    lx, ly = lx - lx.mean(), ly - ly.mean()
    return float((lx * ly).sum() / lx.square().sum())


def run_consistency(config: dict, run, progress: bool) -> dict:
    ns, repeats = config["sizes"], config["repeats"]
    start = time.perf_counter()
    out: dict = {}
    fig, ax = plt.subplots(figsize=(6, 4.2))
    for method in METHODS:
        errors = []
        for n in ns:
            per_repeat = []
            for r in range(repeats):
                g = torch.Generator().manual_seed(config["seed"] * 1000 + r)
                x = ising_draws(n, g) if method == "pl" else gaussian_draws(n, g)
                per_repeat.append(fit(method, x, config["steps"], config["lr"], r))
            errors.append(math.sqrt(sum(e * e for e in per_repeat) / repeats))  # RMS
        out[f"{method}_errors"] = errors
        out[f"{method}_slope"] = slope(ns, errors)
        out[f"{method}_slope_deviation"] = abs(out[f"{method}_slope"] + 0.5)
        line = ax.loglog(ns, errors, "o-", label=f"{LABELS[method]}: slope {out[f'{method}_slope']:.2f}")
        ax.loglog(ns, [errors[0] * (n / ns[0]) ** -0.5 for n in ns], ":", color=line[0].get_color())
    ax.set_xlabel("sample size n")
    ax.set_ylabel(f"parameter error (RMS over {repeats} samples)")
    ax.legend(fontsize=8, title="dotted: n^(-1/2)", title_fontsize=8)
    save_figure(fig, run.path("consistency.png"),
                "Estimators without log Z are consistent: error against sample size")
    out["seconds"] = time.perf_counter() - start
    return out


ROW = Reproduction(
    "consistency", "score matching, NCE and pseudo-likelihood recover known parameters at the "
    "n^(-1/2) rate (Hyvärinen 2005; Gutmann & Hyvärinen 2010; Besag 1975)",
    [Arg("--sizes", sizes, [100, 300, 1000, 3000, 10000], "sample sizes, comma-separated"),
     Arg("--repeats", count(), 10, "independent samples per size (the error's RMS over them)"),
     Arg("--steps", count(), 400, "full-batch Adam steps of each fit"),
     Arg("--lr", real(low=0.0, low_open=True), 0.05, "Adam learning rate"),
     Arg("--seed", count(0), 0, "seed of the samples")],
    run_consistency,
    ("sm_slope", "nce_slope", "pl_slope", "seconds"),
    tuple(Versus(f"{m}_slope_deviation", 0.15, f"|slope + 1/2|", higher_is_better=False)
          for m in METHODS))
