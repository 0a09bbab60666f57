"""The seed an op call draws from its ``generator`` (never synchronising a device), and N(0, I)
draws made on the generator's device."""

from __future__ import annotations

import torch

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
    generator state gives the same seed (an int captured in a CUDA graph is a constant: ops
    called through :func:`op_seed` take a CUDA generator's state on the device instead).
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


def op_seed(generator: torch.Generator | None = None, *,
            noise: torch.Tensor | None = None) -> tuple[int, torch.Generator | None]:
    """The (seed, generator) arguments of one random op call. A CPU generator (or None) draws
    the seed here (:func:`draw_seed`) and the op gets no generator. A CUDA generator goes to the
    op itself (seed 0): its kernel takes the generator's Philox state as PyTorch's own CUDA RNG
    kernels do — read on the device when the kernel runs while a CUDA graph is captured, so each
    replay draws afresh — and keys its draws as :func:`draw_seed` would, advancing the offset by 4.
    ``noise`` given: the op draws nothing, (0, None), and the generator is not advanced.
    """
    check_generator(generator)
    if noise is not None:
        return 0, None
    if generator is not None and generator.device.type == "cuda":
        return 0, generator
    # draw_seed's CPU draw, inlined: a sampler calls this once per step
    return torch.empty((), dtype=torch.int64).random_(generator=generator).item(), None


def randn_like(x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """N(0, I) draws of x's shape and dtype on x's device, drawn on the generator's device (the
    CPU for None), so a CPU generator serves tensors anywhere."""
    device = "cpu" if generator is None else generator.device
    return torch.randn(x.shape, generator=generator, dtype=x.dtype, device=device).to(x.device)
