"""float16 and bfloat16 at the ops' boundary. The kernels compute in float32 (their per-element
math and Philox draws are written for float32 and float64), so a call whose floating tensors are
half precision runs on float32 copies of them — the very draws of a float32 call — and its
floating outputs are rounded back to that dtype. Under ``torch.autocast`` every op takes float32
(``register_float32_autocast``), as PyTorch's own numerically sensitive ops do."""

from __future__ import annotations

import functools
import inspect

import torch

#: The half-precision dtypes the ops take at their boundary.
HALF = (torch.float16, torch.bfloat16)


def _is_half(value) -> bool:
    return isinstance(value, torch.Tensor) and value.dtype in HALF


def working_dtype(dtype: torch.dtype) -> torch.dtype:
    """The dtype a sampler keeps its coefficients or state in for data of ``dtype``: float32 for
    float16 / bfloat16 (a bfloat16 ᾱ near 1 rounds to 1), else ``dtype`` itself."""
    return torch.promote_types(dtype, torch.float32)


def _widened(value):
    return value.float() if _is_half(value) else value


def _rounded(result, dtype: torch.dtype):
    """result's floating tensors (a tensor, or a tuple / NamedTuple of them) as ``dtype``."""
    if isinstance(result, torch.Tensor):
        return result.to(dtype) if result.is_floating_point() else result
    if isinstance(result, tuple):
        items = [_rounded(item, dtype) for item in result]
        return type(result)(*items) if hasattr(result, "_fields") else tuple(items)
    return result


def _half_dtype(arguments: dict, exempt: tuple[str, ...]) -> torch.dtype:
    """The call's half dtype; another floating dtype among its tensors (but the ``exempt``
    arguments, which the wrapper casts itself) is refused naming the argument."""
    first = next(name for name, value in arguments.items() if _is_half(value))
    dtype = arguments[first].dtype
    for name, value in arguments.items():
        if (name not in exempt and isinstance(value, torch.Tensor) and value.is_floating_point()
                and value.dtype != dtype):
            raise ValueError(f"fastebm: argument '{name}' has dtype {value.dtype} but "
                             f"'{first}' has {dtype}")
    return dtype


def half_precision(fn=None, *, exempt: tuple[str, ...] = ()):
    """Decorator of an op wrapper: its float16 / bfloat16 calls run in float32 (module doc).
    A call with no half-precision tensor is passed through untouched. ``out`` (where the
    wrapper has one) receives the rounded result. ``exempt``: tensor arguments the wrapper casts
    to the data's dtype itself (ᾱ), taken in any floating dtype."""
    if fn is None:
        return functools.partial(half_precision, exempt=exempt)
    signature = inspect.signature(fn)

    @functools.wraps(fn)
    def call(*args, **kwargs):
        half = None
        for value in (*args, *kwargs.values()):  # a loop without calls: samplers call per step
            if isinstance(value, torch.Tensor) and value.dtype in HALF:
                half = value
                break
        if half is None or torch.is_autocast_enabled(half.device.type):
            return fn(*args, **kwargs)  # float32 / float64, or autocast's float32 kernels
        arguments = signature.bind(*args, **kwargs).arguments
        dtype = _half_dtype(arguments, exempt)
        out = arguments.pop("out", None)
        result = _rounded(fn(**{name: _widened(value) for name, value in arguments.items()}),
                          dtype)
        if out is None:
            return result
        out.copy_(result)
        return out

    return call


def register_float32_autocast(*names: str) -> None:
    """Under ``torch.autocast`` (CPU and CUDA), the ops ``fastebm::<name>`` cast their floating
    inputs to float32 (a network's bfloat16 ε̂ beside a float32 x_t, say) and return float32."""
    for name in names:
        for device in ("cpu", "cuda"):
            torch.library.register_autocast(f"fastebm::{name}", device, torch.float32)
