"""A run folder (``--out``): created and checked before any work, resumed only by the job and
configuration that wrote it, cleaned of temp files a killed run left, and the one place that
writes metrics.json and knows which files a command wrote."""

from __future__ import annotations

import glob
import json
import os
import tempfile

import torch

from .training.checkpoint import load_checkpoint

CHECKPOINT = "checkpoint.pt"
#: Options of an invocation, not of the run's configuration.
RUN_ONLY = {"out", "resume", "no_progress"}


class UsageError(Exception):
    """A user's mistake on the command line: printed as one line, no traceback."""


class Run:
    """The folder ``out`` of a job's run. ``Run.new(out)`` for a fresh run (the folder must not
    hold a checkpoint yet), ``Run.existing(out)`` to resume or evaluate one."""

    def __init__(self, out: str):
        self.out = out
        self.checkpoint = os.path.join(out, CHECKPOINT)
        self.written: list[str] = []
        self.omitted: set[str] = set()  # options that do not apply to the run: not in metrics.json

    @classmethod
    def new(cls, out: str, resumable: bool = True) -> "Run":
        """A fresh run in ``out``; ``resumable``: the command has --resume (say so when the
        folder holds a checkpoint)."""
        run = cls(out)
        if os.path.exists(run.checkpoint):
            hint = "pass --resume to continue it, or another --out" if resumable else \
                "pass another --out"
            raise UsageError(f"{run.checkpoint} exists: {hint}")
        run._prepare()
        return run

    @classmethod
    def existing(cls, out: str) -> "Run":
        run = cls(out)
        if not os.path.isfile(run.checkpoint):
            raise UsageError(f"no checkpoint at {run.checkpoint}: train into {out} first")
        run._prepare()
        return run

    def _prepare(self) -> None:
        """Create the folder, prove it writable, and remove the checkpoint temp files a killed
        run left (save_checkpoint's ``checkpoint.pt.*.tmp``)."""
        try:
            os.makedirs(self.out, exist_ok=True)
            with tempfile.TemporaryFile(dir=self.out):
                pass
        except OSError as exc:
            raise UsageError(f"cannot write to --out {self.out}: {exc.strerror}") from None
        for orphan in glob.glob(os.path.join(glob.escape(self.out), CHECKPOINT + ".*.tmp")):
            os.unlink(orphan)

    def saved(self, jobs) -> dict:
        """The checkpoint's contents; UsageError unless one of ``jobs`` (a name -> Job mapping)
        wrote it with a configuration of every option the job has."""
        state = load_checkpoint(self.checkpoint)
        if state.get("job") not in jobs or "config" not in state or "trainer" not in state:
            raise UsageError(f"{self.checkpoint} was written by job {state.get('job')!r}, "
                             f"not by {' or '.join(map(repr, jobs))}")
        missing = sorted(a.dest for a in jobs[state["job"]].all_args
                         if a.dest not in state["config"] and a.dest not in RUN_ONLY)
        if missing:
            raise UsageError(f"{self.checkpoint}: its saved configuration lacks "
                             f"{', '.join(missing)} (another fastebm version?)")
        return state

    def check_resume(self, job, config: dict, may_change: set[str]) -> dict:
        """The saved state (the checkpoint's contents), after checking that ``job`` (a Job) wrote
        it with a ``config`` that differs from this one only in ``may_change``."""
        state = self.saved({job.name: job})
        saved = state["config"]
        changed = {k: (saved.get(k), v) for k, v in config.items()
                   if k not in may_change and saved.get(k) != v}
        if changed:
            raise UsageError(f"{self.checkpoint} was written by another configuration "
                             f"(saved, asked): {changed}")
        return state

    def path(self, name: str) -> str:
        """The path of output ``name``, recorded as written."""
        self.written.append(name)
        return os.path.join(self.out, name)

    def write_metrics(self, metrics: dict) -> None:
        """metrics.json, without the ``omitted`` options; a re-measurement (no
        ``train_seconds``) keeps the training time the folder's metrics.json recorded."""
        metrics = {k: v for k, v in metrics.items() if k not in self.omitted}
        path = os.path.join(self.out, "metrics.json")
        if "train_seconds" not in metrics and os.path.isfile(path):
            with open(path) as f:
                recorded = json.load(f).get("train_seconds")
            if recorded is not None:
                metrics = {**metrics, "train_seconds": recorded}
        with open(self.path("metrics.json"), "w") as f:
            json.dump(metrics, f, indent=2)

    def write_samples(self, samples: torch.Tensor) -> None:
        """samples.pt: the run's final samples, a CPU tensor [N, ...] in data space."""
        torch.save(samples.detach().cpu().clone(), self.path("samples.pt"))

