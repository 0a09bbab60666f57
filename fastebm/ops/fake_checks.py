"""The argument checks of the ops' fake (meta) kernels. Each mirrors the C++ check of the same
name (csrc/checks.cpp), same order, same message, so a traced call (torch.compile, meta tensors)
fails where and as the real call would."""

from __future__ import annotations

import math

import torch


def check_float_tensor(t: torch.Tensor, name: str, dim: int) -> None:
    if t.dim() != dim:
        raise ValueError(f"fastebm: argument '{name}' must have {dim} dimensions, got shape "
                         f"{list(t.shape)}")
    if t.dtype not in (torch.float32, torch.float64):
        raise ValueError(f"fastebm: argument '{name}' must be float32 or float64, got {t.dtype}")


def check_size(t: torch.Tensor, name: str, d: int, expected, what: str) -> None:
    if t.shape[d] != expected:
        raise ValueError(f"fastebm: argument '{name}' has shape {list(t.shape)} but dimension "
                         f"{d} must be {expected} ({what})")


def check_same_kind(t: torch.Tensor, name: str, ref: torch.Tensor, ref_name: str) -> None:
    if t.dtype != ref.dtype:
        raise ValueError(f"fastebm: argument '{name}' has dtype {t.dtype} but '{ref_name}' has "
                         f"{ref.dtype}")
    if t.device != ref.device:
        raise ValueError(f"fastebm: argument '{name}' is on {t.device} but '{ref_name}' is on "
                         f"{ref.device}")


def check_at_least(value: int, name: str, minimum: int) -> None:
    if value < minimum:
        raise ValueError(f"fastebm: argument '{name}' must be >= {minimum}, got {value}")


def check_same_shape(t: torch.Tensor, name: str, ref: torch.Tensor, ref_name: str) -> None:
    check_same_kind(t, name, ref, ref_name)
    if t.shape != ref.shape:
        raise ValueError(f"fastebm: argument '{name}' has shape {list(t.shape)} but '{ref_name}' "
                         f"has {list(ref.shape)}")


def check_scalar(value: float, name: str, dtype: torch.dtype, positive: bool = False) -> None:
    largest = torch.finfo(dtype).max
    if not (math.isfinite(value) and abs(value) <= largest and (not positive or value > 0)):
        raise ValueError(f"fastebm: argument '{name}' must be {'> 0 and ' if positive else ''}"
                         f"finite in {dtype} (|{name}| <= {largest:g}), got {value:g}")
