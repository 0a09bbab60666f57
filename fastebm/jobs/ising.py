"""The Ising job.

``fastebm sample ising``: replicas of the periodic L × L Ising model at each of several inverse
temperatures β, all in one batch (one β per replica) of checkerboard heat-bath sweeps
(ops.ising_gibbs); after a burn-in, the energy per site and ⟨|m|⟩ averaged over sweeps and
replicas, with standard errors from the replicas' spread, beside Onsager's exact infinite-lattice
curves (h = 0). Writes onsager.png, snapshots.png (the first replica of every β) and metrics.json.

``fastebm train ising``: the inverse problem. Exact-in-distribution training data are replicas
of an Ising2D(L, J, h) after a long burn-in; an Ising2D whose J and h start at 0 is fitted by
pseudo-likelihood, generalised pseudo-likelihood over the 2 × 2 windows of the torus or ratio
matching (the Trainer); the recovered J and h against the truth, and the fitted model's energy
and |m| against the data's. Writes curves.png (loss, J, h per epoch), snapshots.png (data beside
the fitted model's samples), metrics.json and the checkpoint.
"""

from __future__ import annotations

import math
import time

import torch
from tqdm.auto import tqdm

from ..models import Ising2D, onsager_energy, onsager_magnetisation
from ..objectives import GeneralisedPseudoLikelihood, PseudoLikelihood, RatioMatching, window_sets
from ..ops import chunking
from ..plots import lattice_snapshots, measured_vs_exact
from .base import (Arg, Context, Job, Measured, Setup, _typed, count, device_arg, job_device,
                   positive_list, real, training_args)

METHODS = {"pl": "pseudo-likelihood", "gpl": "generalised PL over the 2x2 windows",
           "rm": "ratio matching"}


def _check_even(value: int) -> int:
    if value < 2 or value % 2:
        raise ValueError(f"must be an even integer >= 2 (a checkerboard on the torus), got {value}")
    return value


#: A lattice side flag: an even integer >= 2.
even = _typed(int, _check_even)

DEVICE = device_arg("cpu", "the chains run")

SAMPLE_ARGS = [
    Arg("--L", even, 64, "lattice side (even)"),
    Arg("--betas", positive_list, [0.3, 0.36, 0.4, 0.42, 0.44, 0.46, 0.5, 0.6, 0.7],
        "inverse temperatures, comma-separated"),
    Arg("--J", real(), 1.0, "coupling (Onsager's curves are drawn for J > 0, h = 0)"),
    Arg("--h", real(), 0.0, "external field"),
    Arg("--replicas", count(), 4, "independent replicas per β"),
    Arg("--sweeps", count(), 1000, "measured sweeps"),
    Arg("--burn-in", count(0), 500, "sweeps before measuring"),
    Arg("--measure-every", count(), 5, "sweeps between measurements (one op call each)"),
    Arg("--start", str, "ordered", "chain start: all +1 (ordered, no stripes below βc) or random",
        choices=("ordered", "random")),
    DEVICE,
]

TRAIN_ARGS = [
    Arg("--method", str, "pl", "objective: " + ", ".join(f"{k} = {v}" for k, v in METHODS.items()),
        choices=tuple(METHODS)),
    Arg("--L", even, 16, "lattice side (even)"),
    Arg("--true-J", real(), 0.4, "coupling of the model that makes the data (β folded in)"),
    Arg("--true-h", real(), 0.05, "field of the model that makes the data"),
    Arg("--samples", count(2), 2000, "training lattices (independent replicas)"),
    Arg("--burn-in", count(), 1000, "sweeps of each replica before it is taken"),
    *training_args(epochs=30, batch_size=100, lr=0.02),
    DEVICE,
]


def check(config: dict) -> None:
    job_device(config)
    if "method" in config and config["batch_size"] > config["samples"]:
        raise ValueError(f"--batch-size {config['batch_size']} exceeds --samples {config['samples']}")


def sweep_bar(total: int, desc: str, progress: bool):
    """A tqdm bar counting sweeps."""
    return tqdm(total=total, desc=desc, unit="sweep", disable=not progress, leave=False)


def run_sweeps(model: Ising2D, s: torch.Tensor, sweeps: int, beta, generator, bar,
               every: int = 50) -> torch.Tensor:
    """``sweeps`` sweeps of s [R, L, L] at β, ``every`` per call, counted on ``bar``."""
    for k in [every] * (sweeps // every) + ([sweeps % every] if sweeps % every else []):
        s = model.sweep(s, k, beta=beta, generator=generator)
        bar.update(k)
    return s


def sweep_measurements(model: Ising2D, s: torch.Tensor, beta: torch.Tensor, sweeps: int,
                       every: int, generator, bar):
    """(per-replica mean energy per site [R], per-replica mean |m| [R], final spins) over ``sweeps``
    sweeps of s [R, L, L] at β [R], measured after every ``every``-th sweep (and the last)."""
    energy = torch.zeros(len(s), dtype=torch.float64, device=s.device)
    abs_m = torch.zeros_like(energy)
    chunks = [every] * (sweeps // every) + ([sweeps % every] if sweeps % every else [])
    for k in chunks:
        s = run_sweeps(model, s, k, beta, generator, bar, every)
        with torch.no_grad():
            energy += model.energy(s).double() / model.n_visible
            abs_m += model.magnetisation(s).abs().double()
    return energy / len(chunks), abs_m / len(chunks), s


def mean_and_error(per_replica: torch.Tensor) -> tuple[float, float]:
    """Mean over replicas and its standard error (replicas are independent chains)."""
    n = len(per_replica)
    error = float(per_replica.std() / math.sqrt(n)) if n > 1 else float("nan")
    return float(per_replica.mean()), error


def sample(config: dict, run, progress: bool) -> dict:
    L, betas, R = config["L"], config["betas"], config["replicas"]
    device = job_device(config)
    model = Ising2D(L, config["J"], config["h"], device=device)
    g = torch.Generator().manual_seed(config["seed"])
    beta = torch.tensor(betas, device=device).repeat_interleave(R)  # [T·R]
    if config["start"] == "ordered":
        s = torch.ones(len(beta), L, L, device=device)
    else:
        s = model.sample(len(beta), 1, generator=g, beta=0.0)
    start = time.perf_counter()
    with sweep_bar(config["burn_in"] + config["sweeps"], "sweeps (burn-in, then measured)",
                   progress) as bar:
        s = run_sweeps(model, s, config["burn_in"], beta, g, bar)
        energy, abs_m, s = sweep_measurements(model, s, beta, config["sweeps"],
                                              config["measure_every"], g, bar)
    seconds = time.perf_counter() - start
    per_beta = []
    exact = config["h"] == 0 and config["J"] > 0
    for t, b in enumerate(betas):
        e, e_err = mean_and_error(energy[t * R:(t + 1) * R].cpu())
        m, m_err = mean_and_error(abs_m[t * R:(t + 1) * R].cpu())
        row = {"beta": b, "energy_per_site": e, "energy_se": e_err, "abs_magnetisation": m,
               "abs_magnetisation_se": m_err}
        if exact:
            row.update(onsager_energy=onsager_energy(b, config["J"]),
                       onsager_magnetisation=onsager_magnetisation(b, config["J"]))
        per_beta.append(row)
    total = len(beta) * L * L * (config["burn_in"] + config["sweeps"])
    metrics = {**config, "seconds": seconds, "spin_updates_per_second": total / seconds,
               "per_beta": per_beta}
    if exact:
        metrics["max_energy_deviation_from_onsager"] = max(
            abs(r["energy_per_site"] - r["onsager_energy"]) for r in per_beta)
    run.write_samples(s)
    draw_sample(config, per_beta, s[::R], run)
    run.write_metrics(metrics)
    return metrics


def draw_sample(config: dict, per_beta: list[dict], lattices: torch.Tensor, run) -> None:
    betas = [r["beta"] for r in per_beta]
    panels = [{"name": "energy per site", "values": [r["energy_per_site"] for r in per_beta],
               "errors": [r["energy_se"] for r in per_beta]},
              {"name": "|magnetisation|", "values": [r["abs_magnetisation"] for r in per_beta],
               "errors": [r["abs_magnetisation_se"] for r in per_beta]}]
    if "onsager_energy" in per_beta[0]:
        grid = [min(betas) + (max(betas) - min(betas)) * i / 400 for i in range(401)]
        panels[0].update(exact=(grid, [onsager_energy(b, config["J"]) for b in grid]),
                         exact_label="Onsager (L = ∞)")
        panels[1].update(exact=(grid, [onsager_magnetisation(b, config["J"]) for b in grid]),
                         exact_label="Onsager (L = ∞)")
    title = (f"Ising {config['L']}x{config['L']}, J = {config['J']:g}, h = {config['h']:g}: "
             f"{config['replicas']} replicas x {config['sweeps']} sweeps per β")
    measured_vs_exact(betas, panels, run.path("onsager.png"), title, "β")
    lattice_snapshots(lattices, [f"β = {b:g}" for b in betas], run.path("snapshots.png"),
                      f"Ising {config['L']}x{config['L']}: last state of replica 0")


def objective_of(config: dict):
    L = config["L"]
    if config["method"] == "gpl":
        return GeneralisedPseudoLikelihood(window_sets(L, L, 2, periodic=True))
    return RatioMatching() if config["method"] == "rm" else PseudoLikelihood()


def training_data(config: dict, progress: bool = False) -> torch.Tensor:
    """[samples, L²] flattened states of independent replicas of the true model after burn-in
    (``progress``: a bar of the sweeps)."""
    truth = Ising2D(config["L"], config["true_J"], config["true_h"], device=job_device(config))
    g = torch.Generator().manual_seed(config["seed"])
    s = truth.sample(config["samples"], 1, generator=g)
    with sweep_bar(config["burn_in"], "generating the training lattices: sweeps", progress) as bar:
        bar.update(1)
        return truth.states(run_sweeps(truth, s, config["burn_in"] - 1, 1.0, g, bar))


def parameters(model: Ising2D) -> dict:
    return {"J": float(model.J.detach()), "h": float(model.h.detach())}


def measure_fit(model: Ising2D, data: torch.Tensor, config: dict) -> tuple[dict, torch.Tensor]:
    """The recovered parameters' errors, and the fitted model's mean energy per site and |m| from
    replicas as many as the data (after the data's burn-in) against the data's."""
    g = torch.Generator().manual_seed(config["seed"] + 1)
    fitted = model.sample(len(data), config["burn_in"], generator=g)
    observed_spins = model.spins(data)
    truth = Ising2D(config["L"], config["true_J"], config["true_h"], device=data.device)
    with torch.no_grad():
        observed = {"data_energy_per_site": float(truth.energy(observed_spins).mean() / model.n_visible),
                    "model_energy_per_site": float(truth.energy(fitted).mean() / model.n_visible),
                    "data_abs_magnetisation": float(truth.magnetisation(observed_spins).abs().mean()),
                    "model_abs_magnetisation": float(truth.magnetisation(fitted).abs().mean())}
    got = parameters(model)
    return {**{f"fitted_{k}": v for k, v in got.items()},
            "J_error": got["J"] - config["true_J"], "h_error": got["h"] - config["true_h"],
            **observed}, fitted


def build(config: dict) -> Setup:
    """The true model's lattices (``training_data``) and a model whose J and h start at 0."""
    model = Ising2D(config["L"], 0.0, 0.0, device=job_device(config))
    return Setup(training_data(config, chunking.SHOW_PROGRESS), model, objective_of(config))


def measure(setup: Setup, config: dict, context: Context) -> Measured:
    measured, fitted = measure_fit(setup.model, setup.train, config)
    return Measured(measured, fitted)


def title(setup: Setup, config: dict) -> str:
    return (f"Ising {config['L']}x{config['L']} by {METHODS[config['method']]}: true J = "
            f"{config['true_J']:g}, h = {config['true_h']:g}")


def draw(setup: Setup, config: dict, measured: Measured, context: Context, run) -> None:
    data, shown = setup.train, min(4, len(setup.train))
    lattice_snapshots(torch.cat([setup.model.spins(data[:shown]), measured.samples[:shown]]),
                      [f"data {i}" for i in range(shown)] + [f"model {i}" for i in range(shown)],
                      run.path("snapshots.png"), title(setup, config), cols=shown)


JOB = Job("ising", "fit an Ising model's J and h to lattice samples by PL, generalised PL or ratio "
          "matching", TRAIN_ARGS, build, measure, draw, title,
          epoch_metrics=lambda setup, config, trainer: parameters(trainer.model),
          untrained_model=lambda config: Ising2D(config["L"], 0.0, 0.0, device=job_device(config)),
          check=check,
          summary_keys=("fitted_J", "fitted_h", "J_error", "h_error", "data_energy_per_site",
                        "model_energy_per_site", "train_seconds", "per_beta",
                        "spin_updates_per_second", "max_energy_deviation_from_onsager"),
          references=lambda metrics: {"J": {"true J": metrics["true_J"]},
                                      "h": {"true h": metrics["true_h"]}},
          sample=sample, sample_args=SAMPLE_ARGS,
          sample_help="sample the 2-D Ising model at several β; energy and |m| against Onsager")
