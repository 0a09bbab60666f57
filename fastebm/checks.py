"""Argument checks for fastebm's Python entry points (models, samplers, objectives, estimators,
Trainer, CLI): each raises ValueError or TypeError naming the argument, so a bad call fails at
once, clearly, and never turns into a silent number."""

from __future__ import annotations

import contextlib
import contextvars
import math
import numbers

import torch

_CHECKED: contextvars.ContextVar = contextvars.ContextVar("fastebm_checked", default=None)


def check_count(value, name: str, minimum: int = 1) -> int:
    """An integer >= minimum (bools and floats such as 1.5 refused); returned as int."""
    value = check_integer(value, name)
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return int(value)


def check_integer(value, name: str) -> int:
    """An integer of any sign (bools and floats such as 2.0 refused: an op checks the range)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {value!r}")
    return int(value)


def check_number(value, name: str) -> float:
    """A real number of any value (bools refused: an op checks the range); returned as float."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {value!r}")
    return float(value)


def check_real(value, name: str, *, low: float | None = None, high: float | None = None,
               low_open: bool = False, high_open: bool = False,
               dtype: torch.dtype | None = None) -> float:
    """A finite real number in [low, high] (open ends where asked), and finite in ``dtype`` when
    given (1e39 is a finite Python float but not a float32); returned as float."""
    value = check_number(value, name)
    if dtype is not None and math.isfinite(value) and abs(value) > torch.finfo(dtype).max:
        raise ValueError(f"{name} must be finite in {dtype} (|{name}| <= "
                         f"{torch.finfo(dtype).max:g}), got {value:g}")
    below = low is not None and (value <= low if low_open else value < low)
    above = high is not None and (value >= high if high_open else value > high)
    if not math.isfinite(value) or below or above:
        lo = "-inf" if low is None else f"{low:g}"
        hi = "inf" if high is None else f"{high:g}"
        span = f"{'(' if low_open else '['}{lo}, {hi}{')' if high_open else ']'}"
        raise ValueError(f"{name} must be finite and in {span}, got {value}")
    return value


def check_choice(value, choices: tuple, name: str):
    """One of ``choices`` (a ValueError naming them otherwise)."""
    if value not in choices:
        raise ValueError(f"{name} must be one of {choices}, got {value!r}")
    return value


def check_beta(beta, name: str = "beta") -> float:
    """An inverse temperature: finite, in [0, 1]."""
    return check_real(beta, name, low=0.0, high=1.0)


def check_generator(generator, name: str = "generator") -> None:
    if generator is not None and not isinstance(generator, torch.Generator):
        raise TypeError(f"{name} must be a torch.Generator or None, got {type(generator).__name__}")


def check_samples(x, name: str, n_features: int, *, binary: bool, allow_empty: bool = False,
                  like: torch.Tensor | None = None) -> torch.Tensor:
    """x [B, n_features]: a float tensor of finite values (in {0, 1} when ``binary``), non-empty
    unless allowed; returned converted to ``like``'s dtype and device."""
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(x).__name__}")
    if x.dim() != 2 or x.shape[1] != n_features:
        raise ValueError(f"{name} must have shape [N, {n_features}], got {list(x.shape)}")
    if len(x) == 0 and not allow_empty:
        raise ValueError(f"{name} is empty (0 rows)")
    if x.dtype.is_complex:
        raise TypeError(f"{name} must be real-valued, got {x.dtype}")
    if x is _CHECKED.get():
        return x if like is None else x.to(like)
    binary_ok = binary and bool(x.eq(0).logical_or_(x.eq(1)).all())  # binary implies finite
    if not binary_ok and x.is_floating_point() and not torch.isfinite(x).all():
        raise ValueError(f"{name} contains NaN or Inf")
    if binary and not binary_ok:
        bad = x[(x != 0) & (x != 1)][0].item()
        raise ValueError(f"{name} must be binary (values in {{0, 1}}) for this model, "
                         f"found {bad:g}; binarise it first (e.g. x > 0.5)")
    return x if like is None else x.to(like)


@contextlib.contextmanager
def checked(x: torch.Tensor):
    """Within the block :func:`check_samples` takes this very tensor object as checked and
    skips its value pass (shape and dtype are still checked): for a batch sliced from data that
    was checked whole once, as the Trainer's are."""
    token = _CHECKED.set(x)
    try:
        yield
    finally:
        _CHECKED.reset(token)


def check_tensor_finite(t: torch.Tensor, name: str) -> None:
    if not torch.isfinite(t).all():
        raise ValueError(f"{name} contains NaN or Inf")


def check_log_z(log_z, name: str = "log_z") -> float:
    """A finite float from a number, a one-element tensor or anything with ``__float__`` (the
    LogZ estimators return)."""
    if isinstance(log_z, torch.Tensor):
        if log_z.numel() != 1:
            raise ValueError(f"{name} must be one number, got a tensor of shape {list(log_z.shape)}")
        log_z = log_z.item()
    try:
        value = float(log_z)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a number, a one-element tensor or a LogZ, "
                        f"got {type(log_z).__name__}") from None
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value}")
    return value
