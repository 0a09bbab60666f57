"""What a reproduction is: a name, its flags, and ``run(config, run, progress) -> metrics``
(writing its figures through ``run.path``); the CLI (``fastebm reproduce``) checks the flags,
makes the folder, runs it, writes metrics.json and prints ``summary_keys`` and the verdicts."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from ..jobs.base import Arg
from ..jobs.verdicts import Versus, verdicts


@dataclass(frozen=True)
class Reproduction:
    name: str
    help: str
    args: list[Arg]
    run: Callable[[dict, object, bool], dict]
    summary_keys: tuple[str, ...]
    checks: tuple[Versus, ...] = field(default=())

    def reproduce(self, config: dict, run, progress: bool) -> dict:
        """The row's metrics (its configuration and verdicts included), written to metrics.json."""
        metrics = {**config, **self.run(config, run, progress)}
        metrics["verdicts"] = verdicts(self.checks, metrics)
        run.write_metrics(metrics)
        return metrics
