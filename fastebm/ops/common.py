"""What every op wrapper shares: the seed it draws, the chunked run of long multi-step ops, and the
argument checks of the fake (meta) kernels, which mirror csrc/checks.cpp message for message."""

from __future__ import annotations

import math
import time
from collections.abc import Callable

import torch
from tqdm.auto import tqdm

from ..checks import check_generator

_MASK64 = (1 << 64) - 1


def _mix64(x: int) -> int:
    """splitmix64's finaliser (Steele, Lea & Flood 2014): a bijection of 64-bit words."""
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9 & _MASK64
    x = (x ^ (x >> 27)) * 0x94D049BB133111EB & _MASK64
    return x ^ (x >> 31)


def draw_seed(generator: torch.Generator | None = None) -> int:
    """One 64-bit seed (as a non-negative int64) for an op call, never synchronising a device.

    A CPU generator (or None: torch's default CPU generator) draws it. A CUDA generator is not
    read back from the device: its Philox seed and offset live on the host, so the seed is a mix
    of (initial_seed, offset) and the offset advances by 4 as for any torch draw; the same
    generator state gives the same seed. (A CUDA graph captures that seed as a constant: replaying
    it replays the same draws.)
    """
    return draw_seeds(1, generator)[0]


def draw_seeds(n: int, generator: torch.Generator | None = None) -> list[int]:
    """The seeds of n successive :func:`draw_seed` calls, drawn at once (one int64 tensor
    of n words from a CPU generator is the same stream as n tensors of one)."""
    check_generator(generator)
    if generator is None or generator.device.type == "cpu":
        return torch.empty(n, dtype=torch.int64).random_(generator=generator).tolist()
    seeds = []
    for _ in range(n):
        offset = generator.get_offset()
        generator.set_offset(offset + 4)
        seeds.append(_mix64(_mix64(generator.initial_seed()) ^ offset) >> 1)
    return seeds


def randn_like(x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """N(0, I) draws of x's shape and dtype on x's device, drawn on the generator's device (the
    CPU for None), so a CPU generator serves tensors anywhere."""
    device = "cpu" if generator is None else generator.device
    return torch.randn(x.shape, generator=generator, dtype=x.dtype, device=device).to(x.device)


#: Seconds of work per call of a chunked op: how soon Ctrl-C is honoured.
CHUNK_SECONDS = 0.25


def run_chunked(total: int, first_chunk: int, run: Callable[[int, int], None], *,
                desc: str | None = None) -> None:
    """Calls run(start, n) over consecutive chunks covering steps [0, total), each sized to take
    about CHUNK_SECONDS (from the first chunk's pace), so that KeyboardInterrupt, which Python
    delivers between calls, arrives within about that long. With ``desc`` a tqdm bar appears once
    the run has taken 2 seconds."""
    bar = tqdm(total=total, desc=desc, delay=2.0, disable=desc is None, leave=False)
    try:
        start, chunk = 0, max(1, min(first_chunk, total))
        while start < total:
            n = min(chunk, total - start)
            began = time.perf_counter()
            run(start, n)
            elapsed = time.perf_counter() - began
            start += n
            bar.update(n)
            chunk = max(1, min(16 * n, int(n * CHUNK_SECONDS / max(elapsed, 1e-6))))
    finally:
        bar.close()


# ---------------------------------------------------------------- fake-kernel checks
# Each mirrors the C++ check of the same name (csrc/checks.cpp), same order, same message, so a
# traced call (torch.compile, meta tensors) fails where and as the real call would.

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


def check_positive_finite(value: float, name: str) -> None:
    if not (math.isfinite(value) and value > 0):
        raise ValueError(f"fastebm: argument '{name}' must be finite and > 0, got {value:g}")
