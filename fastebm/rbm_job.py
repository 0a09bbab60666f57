"""The main job: train a Bernoulli RBM on embedded data, then measure it (AIS log Z, train/test
log-likelihood, pseudo-likelihood) and draw it (samples.png, curves.png). ``fastebm train rbm``
and ``fastebm evaluate`` call these functions."""

from __future__ import annotations

import json
import os
import time

import torch

from . import data as datasets
from .checkpoint import CheckpointError, load_checkpoint
from .models import BernoulliRBM
from .objectives import CD, PCD, PseudoLikelihood, log_pseudo_likelihood
from .partition import ais, base_rate_biases, exact_log_z, log_likelihood, reverse_ais
from .plots import sample_grid, training_curves
from .train import Trainer

METHODS = ("cd", "pcd", "pl", "spl")
#: Layers up to this size also get the exact log Z in metrics.json.
EXACT_LIMIT = 20
_PL_ROWS = 500  # examples the per-epoch pseudo-likelihood is measured on
#: Settings a resumed run may change; every other one must match the checkpoint's.
RESUME_MAY_CHANGE = {"epochs", "checkpoint_every", "ais_chains", "ais_betas"}


def make_objective(method: str, k: int, chains: int, pt_betas: list[float] | None):
    if method == "cd":
        return CD(k)
    if method == "pcd":
        return PCD(chains, k, betas=pt_betas)
    if method in ("pl", "spl"):
        return PseudoLikelihood(stochastic=method == "spl")
    raise ValueError(f"method must be one of {METHODS}, got {method!r}")


def pl_metrics(model, split) -> dict:
    """Mean exact log pseudo-likelihood per example on (up to 500) train and test rows."""
    with torch.no_grad():
        return {f"{name}_pseudo_log_likelihood":
                float(log_pseudo_likelihood(model, x[:_PL_ROWS]).mean())
                for name, x in (("train", split.train), ("test", split.test))}


def measure(model, split, *, ais_chains: int, ais_betas: int, seed: int) -> dict:
    """AIS and reverse-AIS log Z, the log-likelihoods they give, PL, and the base-rate model's
    test log-likelihood for scale (plus the exact values when a layer is small)."""
    g = torch.Generator().manual_seed(seed)
    fwd = ais(model, ais_chains, ais_betas, data=split.train, generator=g)
    rev = reverse_ais(model, split.train[:ais_chains], ais_betas, data=split.train, generator=g)
    base_b = base_rate_biases(split.train, model.n_visible).double()
    base_ll = split.test.double() @ base_b - torch.nn.functional.softplus(base_b).sum()
    out = {"log_z_ais": fwd.log_z, "log_z_ais_stderr": fwd.stderr,
           "log_z_reverse_ais": rev.log_z, "log_z_reverse_ais_stderr": rev.stderr,
           "train_log_likelihood": float(log_likelihood(model, split.train, fwd.log_z).mean()),
           "test_log_likelihood": float(log_likelihood(model, split.test, fwd.log_z).mean()),
           "base_rate_test_log_likelihood": float(base_ll.mean()),
           "ais_chains": ais_chains, "ais_betas": ais_betas, **pl_metrics(model, split)}
    if min(model.n_visible, model.n_hidden) <= EXACT_LIMIT:
        log_z = float(exact_log_z(model))
        out["log_z_exact"] = log_z
        out["test_log_likelihood_exact"] = float(log_likelihood(model, split.test, log_z).mean())
    return out


def write_outputs(model, split, history: list[dict], metrics: dict, out: str, title: str,
                  seed: int) -> None:
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        _, h = model.gibbs(model.random_visible(100, g), 1000, generator=g)
        sample_grid(model.visible_probs(h), split.shape, os.path.join(out, "samples.png"),
                    f"{title}: p(v | h) after 1000 Gibbs sweeps")
    training_curves(history, os.path.join(out, "curves.png"), title)
    with open(os.path.join(out, "metrics.json"), "w") as f:
        json.dump(metrics, f, indent=2)


def train_rbm(*, data: str = "digits", hidden: int = 64, method: str = "pcd", k: int = 1,
              epochs: int = 30, batch_size: int = 100, lr: float = 5e-3,
              optimizer: str = "adam", momentum: float = 0.9, weight_decay: float = 0.0,
              chains: int = 100, pt_betas: list[float] | None = None, seed: int = 0,
              out: str = "runs/rbm", resume: bool = False, checkpoint_every: int = 0,
              ais_chains: int = 100, ais_betas: int = 14500, progress: bool = True) -> dict:
    """Train, measure and draw; returns the metrics written to ``out``/metrics.json."""
    config = {k_: v for k_, v in locals().items() if k_ not in ("resume", "progress", "out")}
    split = datasets.load(data)
    model = BernoulliRBM(split.train.shape[1], hidden, generator=torch.Generator().manual_seed(seed))
    with torch.no_grad():  # visible biases at the data's log-odds (Hinton's practical guide)
        model.b.copy_(base_rate_biases(split.train, model.n_visible))
    objective = make_objective(method, k, chains, pt_betas)
    path = os.path.join(out, "checkpoint.pt")
    kwargs = dict(optimizer=optimizer, lr=lr, momentum=momentum, weight_decay=weight_decay,
                  batch_size=batch_size, seed=seed, checkpoint_every=checkpoint_every,
                  callbacks=[lambda t: pl_metrics(t.model, split)], progress=progress)
    if resume:
        saved = load_checkpoint(path).get("config") or {}
        changed = {k_: (saved.get(k_), v) for k_, v in config.items()
                   if k_ not in RESUME_MAY_CHANGE and saved.get(k_) != v}
        if changed:
            raise CheckpointError(f"{path} was written by another configuration "
                                  f"(saved, asked): {changed}")
        trainer = Trainer.resume(path, model, objective, split.train, **kwargs)
    else:
        if os.path.exists(path):
            raise FileExistsError(f"{path} exists: pass --resume to continue it, or another --out")
        trainer = Trainer(model, objective, split.train, checkpoint=path, **kwargs)
    trainer.extra = {"config": config}
    start = time.perf_counter()
    trainer.fit(epochs)
    seconds = time.perf_counter() - start
    if trainer.rank:  # under torchrun, rank 0 alone measures and writes
        return {}
    metrics = {**config, "train_seconds": seconds,
               **measure(model, split, ais_chains=ais_chains, ais_betas=ais_betas, seed=seed)}
    title = f"RBM {model.n_visible}-{hidden} on {data}, {method.upper()}-{k}"
    write_outputs(model, split, trainer.history, metrics, out, title, seed)
    return metrics


def evaluate(out: str, *, ais_chains: int = 100, ais_betas: int = 14500, seed: int = 1) -> dict:
    """Rerun AIS (and the other measurements) on the checkpoint in ``out``; updates metrics.json."""
    path = os.path.join(out, "checkpoint.pt")
    state = load_checkpoint(path)
    if "config" not in state:
        raise CheckpointError(f"{path} was not written by `fastebm train rbm`")
    config = state["config"]
    split = datasets.load(config["data"])
    model = BernoulliRBM(split.train.shape[1], config["hidden"])
    model.load_state_dict(state["trainer"]["model"])
    metrics = {**config, **measure(model, split, ais_chains=ais_chains, ais_betas=ais_betas,
                                   seed=seed)}
    with open(os.path.join(out, "metrics.json"), "w") as f:
        json.dump(metrics, f, indent=2)
    return metrics
