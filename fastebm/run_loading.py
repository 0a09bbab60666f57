"""A CLI run back in Python: ``fastebm.load_run(path)`` rebuilds the job's model from the run's
saved configuration and loads its trained weights (the EMA average where the job keeps one),
with the configuration and metrics.json beside it, ready to sample."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass

from torch import nn

from .runs import CHECKPOINT
from .training.checkpoint import CheckpointError, load_checkpoint
from .training.ema import load_averaged_weights


@dataclass
class LoadedRun:
    """A trained run: ``job`` (its name), ``model`` (an nn.Module in eval mode, holding the EMA
    weights where the job keeps them), ``config`` (every option the run was trained with),
    ``metrics`` (metrics.json, or {} when the folder has none) and ``path`` (the folder)."""

    job: str
    model: nn.Module
    config: dict
    metrics: dict
    path: str


def load_trained(model: nn.Module, state: dict, source: str = "the checkpoint") -> nn.Module:
    """``model`` (a job's model of the checkpoint's configuration) holding the trained weights of
    checkpoint contents ``state``: the EMA average where the job keeps one."""
    try:
        model.load_state_dict(state["trainer"]["model"])
    except RuntimeError as exc:
        raise CheckpointError(f"{source}: the weights do not fit the {state.get('job')} job's "
                              f"model of its saved configuration ({str(exc).strip().splitlines()[-1].strip()})"
                              ) from None
    load_averaged_weights(model, state["trainer"]["ema"])
    return model


def load_run(path: str) -> LoadedRun:
    """The run in folder ``path`` (a ``fastebm train`` --out) or checkpoint file ``path``.

    Example::

        run = fastebm.load_run("runs/rbm")
        v = run.model.sample(16)            # [16, 64] digits from the trained RBM
    """
    from .jobs import JOBS

    folder, checkpoint = ((path, os.path.join(path, CHECKPOINT)) if os.path.isdir(path)
                          else (os.path.dirname(path) or ".", path))
    if not os.path.isfile(checkpoint):
        raise FileNotFoundError(f"no checkpoint at {checkpoint}: train a run there first")
    state = load_checkpoint(checkpoint)
    job = JOBS.get(state.get("job"))
    if job is None or "config" not in state or "trainer" not in state:
        raise CheckpointError(f"{checkpoint} was not written by a fastebm job")
    model = load_trained(job.model(state["config"]), state, checkpoint)
    metrics_path = os.path.join(folder, "metrics.json")
    metrics = {}
    if os.path.isfile(metrics_path):
        with open(metrics_path) as f:
            metrics = json.load(f)
    return LoadedRun(job.name, model.eval(), dict(state["config"]), metrics, folder)
