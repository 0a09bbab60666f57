"""Learning-rate schedules for the Trainer: functions of the global step (0-based) returning the
factor that multiplies every parameter group's base learning rate. Stateless, so a resumed run
follows the same schedule bit for bit. Any ``callable(step) -> float`` serves as well."""

from __future__ import annotations

import math
from typing import Callable

from ..checks import check_count, check_real

Schedule = Callable[[int], float]


def constant() -> Schedule:
    """factor(step) = 1."""
    return lambda step: 1.0


def _warm(warmup: int, rest: Schedule) -> Schedule:
    """Linear warm-up from 1/warmup to 1 over ``warmup`` steps, then ``rest(step - warmup)``."""
    return lambda step: (step + 1) / warmup if step < warmup else rest(step - warmup)


def cosine(total_steps: int, *, warmup: int = 0, final: float = 0.0) -> Schedule:
    """Cosine decay (Loshchilov & Hutter 2017) from 1 to ``final`` over ``total_steps`` steps
    after ``warmup`` linear warm-up steps: final + (1 - final)·(1 + cos(π t/T))/2, then final."""
    T = check_count(total_steps, "total_steps")
    check_count(warmup, "warmup", 0)
    final = check_real(final, "final", low=0.0, high=1.0)
    return _warm(warmup, lambda t: final + (1 - final) * (1 + math.cos(math.pi * min(t, T) / T)) / 2)


def linear(total_steps: int, *, warmup: int = 0, final: float = 0.0) -> Schedule:
    """Linear decay from 1 to ``final`` over ``total_steps`` steps after ``warmup`` steps."""
    T = check_count(total_steps, "total_steps")
    check_count(warmup, "warmup", 0)
    final = check_real(final, "final", low=0.0, high=1.0)
    return _warm(warmup, lambda t: 1 - (1 - final) * min(t, T) / T)


SCHEDULES = {"constant": constant, "cosine": cosine, "linear": linear}
