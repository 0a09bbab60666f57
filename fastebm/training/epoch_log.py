"""The Trainer's per-epoch console line: the epoch's mean training metrics (what the objective
returns per step, e.g. ``train_loss``) beside the callbacks' metrics, printed every few epochs."""

from __future__ import annotations

import math

#: Lines a whole run prints at most (plus the first and last epoch).
LINES_PER_RUN = 20


def report_every(epochs: int) -> int:
    """Epochs between console lines for a run of ``epochs``: 1 up to 20 epochs, then the
    multiple that gives ~20 lines (jobs measure their slower per-epoch metrics on these too)."""
    return max(1, epochs // LINES_PER_RUN)


def is_reported(epoch: int, epochs: int) -> bool:
    """Whether (1-based) ``epoch`` of ``epochs`` gets a console line."""
    return epoch in (1, epochs) or epoch % report_every(epochs) == 0


class EpochMeans:
    """Running means of the steps' scalar metrics over one epoch."""

    def __init__(self):
        self.sums: dict[str, float] = {}
        self.counts: dict[str, int] = {}

    def add(self, metrics: dict) -> None:
        for name, value in metrics.items():
            if isinstance(value, (int, float)) and math.isfinite(value):
                self.sums[name] = self.sums.get(name, 0.0) + float(value)
                self.counts[name] = self.counts.get(name, 0) + 1

    def means(self) -> dict:
        """{"train_<name>": mean over the epoch's steps}."""
        return {f"train_{k}": v / self.counts[k] for k, v in self.sums.items()}


def epoch_line(record: dict, epochs: int) -> str:
    """``epoch 3/100  train_loss=0.0412  test_log_likelihood=-21.3`` (4 significant digits)."""
    shown = [f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}"
             for k, v in record.items() if k not in ("epoch", "step")]
    return "  ".join([f"epoch {record['epoch']}/{epochs}", *shown])
