"""What a CLI job declares: its arguments (each with its one default, choices and check), its
cross-argument checks, and how it trains, measures and draws. ``fastebm.cli`` builds the parser
from these declarations; nothing about a job is written anywhere else."""

from __future__ import annotations

import argparse
import contextlib
import os
import time
from dataclasses import dataclass, field
from typing import Any, Callable

import torch
from torch import nn

from ..checks import check_count, check_real
from ..plots import training_curves
from ..runs import CHECKPOINT
from ..samplers import tempering_ladder
from ..training.schedules import SCHEDULES
from ..training.trainer import Trainer
from ..run_loading import load_trained
from .verdicts import Versus, verdicts


def _float_list(text: str) -> list[float]:
    return [float(x) for x in text.split(",")]


_KINDS = {int: "an integer", float: "a number", _float_list: "comma-separated numbers"}


def _typed(parse: Callable[[str], Any], check: Callable[[Any], Any] = lambda x: x):
    """An argparse type: parse the text, then check the value; errors become one-line messages."""
    def convert(text: str):
        try:
            value = parse(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {_KINDS.get(parse, parse.__name__)}, "
                                             f"got {text!r}") from None
        try:
            return check(value)
        except (ValueError, TypeError) as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None
    convert.__name__ = parse.__name__
    return convert


def count(minimum: int = 1):
    """An integer flag >= minimum."""
    return _typed(int, lambda v: check_count(v, "value", minimum))


def real(**bounds):
    """A float flag within ``bounds`` (check_real's low/high/low_open/high_open), finite in
    float32 (what every job computes in)."""
    return _typed(float, lambda v: check_real(v, "value", dtype=torch.float32, **bounds))


def ladder(text: str) -> list[float]:
    """Parallel tempering's inverse temperatures, e.g. "1,0.9,0.8"."""
    return _typed(_float_list, tempering_ladder)(text)


@dataclass(frozen=True)
class Arg:
    """One flag: ``--name`` (dest name with _ for -), its type (parse and check), default, help;
    ``choices``; ``resume_may_change``: a resumed run may give another value; ``evaluate``: also
    an option of ``fastebm evaluate`` (same default); ``only``: {flag dest: values} under which
    the flag applies (e.g. ``{"method": ("pcd",)}``; metrics.json leaves it out otherwise)."""

    flag: str
    type: Callable[[str], Any] | None
    default: Any
    help: str
    choices: tuple | None = None
    resume_may_change: bool = False
    evaluate: bool = False
    only: dict | None = None

    def applies(self, config: dict) -> bool:
        return not self.only or all(config.get(k) in v for k, v in self.only.items())

    @property
    def dest(self) -> str:
        return self.flag.lstrip("-").replace("-", "_")

    def add_to(self, parser: argparse.ArgumentParser) -> None:
        if self.type is None:  # a switch
            parser.add_argument(self.flag, action="store_true", help=self.help)
            return
        shown = f"{self.help} (default: {self.default})" if self.default is not None else self.help
        parser.add_argument(self.flag, type=self.type, default=self.default, choices=self.choices,
                            help=shown)


def device_arg(default: str, what: str, only: dict | None = None) -> Arg:
    """A job's ``--device`` flag: cpu, cuda, or auto (CUDA where torch has a device)."""
    return Arg("--device", str, default, f"where {what} (auto: CUDA where there is a device; "
               "under torchrun each process takes cuda:LOCAL_RANK)",
               choices=("auto", "cpu", "cuda"), resume_may_change=True, evaluate=True, only=only)


def job_device(config: dict) -> torch.device:
    """The configuration's ``--device``: auto is CUDA where torch has a device, else the CPU; a
    CUDA device is the process's own under torchrun (LOCAL_RANK), made current. ``cuda``
    without a device is a ValueError (the jobs' checks call this before any work)."""
    name = config["device"]
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    if name == "cpu":
        return torch.device("cpu")
    if not torch.cuda.is_available():
        raise ValueError("--device cuda: no CUDA device here (or torch is a CPU build)")
    index = int(os.environ.get("LOCAL_RANK", torch.cuda.current_device()))
    if index >= torch.cuda.device_count():
        raise ValueError(f"--device cuda: this process (LOCAL_RANK {index}) has no GPU of its own "
                         f"({torch.cuda.device_count()} visible): start one process per GPU, or "
                         f"--device cpu")
    torch.cuda.set_device(index)
    return torch.device("cuda", index)


def training_args(*, epochs: int, batch_size: int, lr: float, optimizer: str = "adam",
                  lr_schedule: str = "constant") -> list[Arg]:
    """The optimisation flags every job has, with the job's defaults."""
    return [
        Arg("--epochs", count(), epochs, "epochs in total (a resumed run continues to this)",
            resume_may_change=True),
        Arg("--batch-size", count(), batch_size, "examples per step"),
        Arg("--optimizer", str, optimizer, "fused optimizer",
            choices=("adam", "sgd")),
        Arg("--lr", real(low=0.0, low_open=True), lr, "learning rate"),
        Arg("--lr-schedule", str, lr_schedule, "learning-rate schedule over the run's steps",
            choices=tuple(SCHEDULES)),
        Arg("--momentum", real(low=0.0, high=1.0, high_open=True), 0.9, "SGD momentum",
            only={"optimizer": ("sgd",)}),
        Arg("--weight-decay", real(low=0.0), 0.0, "L2 weight decay"),
    ]


def positive_list(text: str) -> list[float]:
    """Comma-separated finite numbers > 0, e.g. inverse temperatures "0.3,0.44,0.6"."""
    return _typed(_float_list, lambda values: [check_real(v, "each value", low=0.0, low_open=True,
                                                          dtype=torch.float32)
                                               for v in values])(text)


#: Flags of every job's run: seed, folder, resume, checkpoints, progress.
RUN_ARGS = [
    Arg("--seed", count(0), 0, "seed of the initial weights, data order and sampling"),
    Arg("--out", str, None, "the run folder (default: runs/<job>; diffusion: runs/diffusion-<kind>)"),
    Arg("--resume", None, False, "continue the checkpoint in --out"),
    Arg("--checkpoint-every", count(0), 0, "steps between checkpoints; 0 = every epoch",
        resume_may_change=True),
    Arg("--no-progress", None, False, "no progress bars"),
    Arg("--shards", count(), None, "shards of each step's data, chains and generators (default: "
        "the number of processes); one process with --shards N trains what N torchrun "
        "processes do, and a run resumes on any number of processes that divides it"),
]
#: Flags of every ``fastebm sample`` run: seed, folder, progress.
SAMPLE_RUN_ARGS = [Arg("--seed", count(0), 0, "seed of the chains' starts and draws"),
                   Arg("--out", str, None, "the output folder (default: runs/<job>-sample)"),
                   Arg("--no-progress", None, False, "no progress bars")]


@dataclass(frozen=True)
class Setup:
    """A job's configuration built: ``train`` the training data [N, ...], ``model``,
    ``objective``, ``data`` what the job measures against (e.g. a data.Split) and ``extra`` the
    job's own (e.g. the svgd job's pixel standardisation)."""

    train: torch.Tensor
    model: nn.Module
    objective: Any
    data: Any = None
    extra: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Context:
    """How a measurement runs: ``progress`` bars; ``history`` the per-epoch records (the saved
    ones when evaluating); the run's ``blocks`` (shards), ``distributed`` and this process's
    ``rank``, for measurements that every rank shares."""

    progress: bool
    history: list
    blocks: int = 1
    distributed: bool = False
    rank: int = 0


@dataclass(frozen=True)
class Measured:
    """A measurement: ``metrics`` for metrics.json, ``samples`` [N, ...] in data space
    (samples.pt) and ``pictures``, whatever the job's ``draw`` shows."""

    metrics: dict
    samples: torch.Tensor
    pictures: Any = None


@dataclass(frozen=True)
class Job:
    """A family's CLI job. It supplies

    - ``build(config) -> Setup``: data, model and objective of a configuration (seeded);
    - ``measure(setup, config, context) -> Measured``: metrics and samples of the trained model
      (run on rank 0 only, or on every rank with ``measure_on_every_rank``, where ranks > 0
      return None);
    - ``draw(setup, config, measured, context, run)``: the job's figures (samples.png, ...);
    - ``title(setup, config) -> str``; optionally ``epoch_metrics(setup, config, trainer) ->
      dict`` (the per-epoch curve) and ``ema(config)`` (the EMA decay of the weights, or None);

    and the job owns the rest: ``train`` (fit, measure with the EMA weights, draw, curves.png
    without the ``plotted_apart`` history keys, samples.pt, metrics.json) and ``evaluate`` (the
    same on the saved weights, with the ``evaluate`` options). ``run_folder(config)``: the
    default folder's name under runs/ where the job's name is not enough. ``check(config)`` raises ValueError
    for flag combinations no single flag's check sees, before any work. A job that also samples
    a model without training (``fastebm sample <job>``) gives ``sample(config, run, progress) ->
    metrics`` and its flags ``sample_args`` (checked by ``check`` too). ``model(config)``: the
    untrained model alone (default: ``build(config).model``), what ``fastebm.load_run`` loads a
    checkpoint into. ``summary_keys``: the metrics the console shows; ``verdicts``: the
    comparisons with the job's baselines and targets (metrics.json's "verdicts", the summary's
    last lines), or a function of the metrics giving them; ``references(metrics)``: {history key: {label: value}}, the dashed lines on
    curves.png (baselines, true parameters, the held-out floor)."""

    name: str
    help: str
    args: list[Arg]
    build: Callable[[dict], Setup]
    measure: Callable
    draw: Callable
    title: Callable[[Setup, dict], str]
    epoch_metrics: Callable | None = None
    ema: Callable[[dict], float | None] = lambda config: None
    measure_on_every_rank: bool = False
    plotted_apart: tuple[str, ...] = ()
    untrained_model: Callable[[dict], nn.Module] | None = None
    run_folder: Callable[[dict], str] | None = None
    check: Callable[[dict], None] = lambda config: None
    summary_keys: tuple[str, ...] = ()
    verdicts: tuple[Versus, ...] | Callable[[dict], tuple[Versus, ...]] = ()
    references: Callable[[dict], dict] = lambda metrics: {}
    sample: Callable | None = None
    sample_args: list[Arg] = field(default_factory=list)
    sample_help: str = ""
    all_args: list[Arg] = field(init=False)
    all_sample_args: list[Arg] = field(init=False)

    def __post_init__(self):
        object.__setattr__(self, "all_args", self.args + RUN_ARGS)
        object.__setattr__(self, "all_sample_args", self.sample_args + SAMPLE_RUN_ARGS)

    def resume_may_change(self) -> set[str]:
        return {a.dest for a in self.all_args if a.resume_may_change}

    def inapplicable(self, config: dict) -> set[str]:
        """The options of ``config`` that do not apply to it (another method's flags)."""
        return {a.dest for a in self.all_args if not a.applies(config)}

    def evaluate_args(self) -> list[Arg]:
        return [a for a in self.all_args if a.evaluate]

    def folder(self, config: dict) -> str:
        """The run's default folder under runs/: the job's name, or ``run_folder(config)``."""
        return self.run_folder(config) if self.run_folder else self.name

    def model(self, config: dict) -> nn.Module:
        """The job's untrained model of ``config``."""
        return (self.untrained_model or (lambda c: self.build(c).model))(config)

    def train(self, config: dict, run, progress: bool) -> dict:
        """Train into ``run`` (resuming its checkpoint), measure, draw and write: the metrics
        (rank 0; {} on other ranks)."""
        setup = self.build(config)
        callbacks = ([lambda trainer: self.epoch_metrics(setup, config, trainer)]
                     if self.epoch_metrics else [])
        trainer, seconds = fit(self.name, config, setup.model, setup.objective, setup.train, run,
                               progress, callbacks, self.ema(config))
        if trainer.rank and not self.measure_on_every_rank:
            return {}
        context = Context(progress, trainer.history, trainer.shards, trainer.world > 1,
                          trainer.rank)
        with trainer.ema.swapped_in() if trainer.ema else contextlib.nullcontext():
            measured = self.measure(setup, config, context)
        if trainer.rank:
            return {}
        run.written.append(CHECKPOINT)
        return self._report(setup, config, measured, context, run, {"train_seconds": seconds})

    def evaluate(self, config: dict, options: dict, state: dict, run) -> dict:
        """Re-measure the run's saved weights (the EMA average where kept) with ``options`` (the
        ``evaluate`` flags); rewrites metrics.json, samples.pt and the figures."""
        setup = self.build(config)
        load_trained(setup.model, state, run.checkpoint)
        setup.objective.load_state_dict(state["trainer"]["shards"][0]["objective"])
        config = {**config, **options}
        context = Context(progress=True, history=state["trainer"].get("history", []))
        return self._report(setup, config, self.measure(setup, config, context), context, run)

    def _report(self, setup: Setup, config: dict, measured: Measured, context: Context, run,
                extra: dict = {}) -> dict:
        metrics = {**config, **extra, **measured.metrics}
        checks = self.verdicts(metrics) if callable(self.verdicts) else self.verdicts
        metrics["verdicts"] = verdicts(checks, metrics)
        run.write_samples(measured.samples)
        self.draw(setup, config, measured, context, run)
        if context.history:
            training_curves([{k: v for k, v in record.items() if not k.startswith(self.plotted_apart)}
                             for record in context.history], run.path("curves.png"),
                            self.title(setup, config), self.references(metrics))
        run.write_metrics(metrics)
        return metrics


def fit(job: str, config: dict, model, objective, data, run, progress: bool,
        callbacks: list = (), ema: float | None = None) -> tuple[Trainer, float]:
    """Train ``model`` on tensor ``data`` with the job's training flags (``training_args`` and
    ``RUN_ARGS``), resuming the run's checkpoint when there is one (``run`` None: no checkpoint,
    a comparison run): (trainer, seconds). ``ema``: the Trainer's EMA decay of the parameters,
    or None."""
    kwargs = dict(optimizer=config["optimizer"], lr=config["lr"], momentum=config["momentum"],
                  weight_decay=config["weight_decay"], batch_size=config["batch_size"],
                  seed=config["seed"], checkpoint_every=config["checkpoint_every"],
                  callbacks=list(callbacks), progress=progress, ema=ema, shards=config["shards"])
    if run is not None and os.path.exists(run.checkpoint):
        trainer = Trainer.resume(run.checkpoint, model, objective, data, **kwargs)
    else:
        trainer = Trainer(model, objective, data, checkpoint=run and run.checkpoint, **kwargs)
    if config["lr_schedule"] != "constant":  # sized by the shards' steps per epoch
        steps = config["epochs"] * trainer.steps_per_epoch()
        trainer.schedule = SCHEDULES[config["lr_schedule"]](steps)
    trainer.extra = {"job": job, "config": config}
    start = time.perf_counter()
    trainer.fit(config["epochs"])
    return trainer, time.perf_counter() - start
