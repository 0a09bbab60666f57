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
        raise ValueError(f"fastebm: argument '{name}' must be float32 or float64 (fastebm.ops also "
                         f"takes float16 and bfloat16, in float32 inside), got {t.dtype}")


def check_size(t: torch.Tensor, name: str, d: int, expected, what: str) -> None:
    if t.shape[d] != expected:
        raise ValueError(f"fastebm: argument '{name}' has shape {list(t.shape)} but dimension "
                         f"{d} must be {expected} ({what})")


def check_same_device(t: torch.Tensor, name: str, ref: torch.Tensor, ref_name: str) -> None:
    if t.device != ref.device:
        raise ValueError(f"fastebm: argument '{name}' is on {t.device} but '{ref_name}' is on "
                         f"{ref.device}")


def check_same_kind(t: torch.Tensor, name: str, ref: torch.Tensor, ref_name: str) -> None:
    if t.dtype != ref.dtype:
        raise ValueError(f"fastebm: argument '{name}' has dtype {t.dtype} but '{ref_name}' has "
                         f"{ref.dtype}")
    check_same_device(t, name, ref, ref_name)


def check_at_least(value: int, name: str, minimum: int) -> None:
    if value < minimum:
        raise ValueError(f"fastebm: argument '{name}' must be >= {minimum}, got {value}")


def check_same_shape(t: torch.Tensor, name: str, ref: torch.Tensor, ref_name: str) -> None:
    check_same_kind(t, name, ref, ref_name)
    check_shape_as(t, name, ref, ref_name)


def check_shape_as(t: torch.Tensor, name: str, ref: torch.Tensor, ref_name: str) -> None:
    if t.shape != ref.shape:
        raise ValueError(f"fastebm: argument '{name}' has shape {list(t.shape)} but '{ref_name}' "
                         f"has {list(ref.shape)}")


def check_scalar(value: float, name: str, dtype: torch.dtype, positive: bool = False) -> None:
    largest = torch.finfo(dtype).max
    if not (math.isfinite(value) and abs(value) <= largest and (not positive or value > 0)):
        raise ValueError(f"fastebm: argument '{name}' must be {'> 0 and ' if positive else ''}"
                         f"finite in {dtype} (|{name}| <= {largest:g}), got {value:g}")


def check_out(out: torch.Tensor, like: torch.Tensor, like_name: str) -> None:
    """checks.cpp output_for's checks of a given ``out``: like's shape, dtype and device,
    contiguous."""
    check_same_shape(out, "out", like, like_name)
    if not out.is_contiguous():
        raise ValueError("fastebm: argument 'out' must be contiguous")


def register_out_fake(name: str, default_fake, like_name: str) -> None:
    """The fake kernel of op ``name``'s ``.out`` overload: the default overload's fake kernel's
    checks (``default_fake`` of the same positional arguments), then ``out``'s against the first
    argument (named ``like_name``)."""
    def fake(*args, out):
        default_fake(*args)
        check_out(out, args[0], like_name)

    torch.library.register_fake(f"fastebm::{name}.out")(fake)
