"""The seed an op call draws from its ``generator`` (never synchronising a device), and N(0, I)
draws made on the generator's device."""

from __future__ import annotations

import torch

from ..checks import check_generator, check_integer

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


def op_seed(generator: torch.Generator | None = None, *, noise: torch.Tensor | None = None,
            seed: int | None = None) -> tuple[int, torch.Generator | None]:
    """The (seed, generator) arguments of one random op call. A CPU generator (or None) draws
    the seed here (:func:`draw_seed`) and the op gets no generator. A CUDA generator goes to the
    op itself (seed 0): its kernel takes the generator's Philox state as PyTorch's own CUDA RNG
    kernels do — read on the device when the kernel runs while a CUDA graph is captured, so each
    replay draws afresh — and keys its draws as :func:`draw_seed` would, advancing the offset by 4.
    ``noise`` given: the op draws nothing, (0, None), and the generator is not advanced.
    ``seed`` given (an int in [0, 2⁶³), e.g. one of :class:`SeedStream`'s): that seed, drawn by
    the caller; there is then no generator to give.
    """
    check_generator(generator)
    if seed is not None:
        if generator is not None:
            raise ValueError("give the op a generator or a seed, not both")
        seed = check_integer(seed, "seed")
        if not 0 <= seed < 2**63:
            raise ValueError(f"seed must be in [0, 2**63), got {seed}")
    if noise is not None:
        return 0, None
    if seed is not None:
        return seed, None
    if generator is not None and generator.device.type == "cuda":
        return 0, generator
    return draw_seed(generator), None


def _drawn(n: int, generator: torch.Generator | None, chunk: int = 4096):
    """n seeds of :func:`draw_seeds`, drawn as they are needed, ``chunk`` at a time."""
    while n > 0:
        k = min(n, chunk)
        yield from draw_seeds(k, generator)
        n -= k


class SeedStream:
    """Where the next n random op calls of a loop get their seeds, as keyword arguments of an
    op wrapper: ``op(..., **stream.next())``. A CPU generator (or None) draws the seeds 4,096 at
    a time (:func:`draw_seeds`: the very seeds that the calls would draw one by one when nothing
    else draws from it in between, without a tensor draw per call); a CUDA generator is handed
    to every call (:func:`op_seed`: its ops read its Philox state on the device, which a CUDA
    graph replays afresh).
    """

    def __init__(self, n: int, generator: torch.Generator | None = None):
        check_generator(generator)
        self._cuda = generator is not None and generator.device.type == "cuda"
        self._generator = generator
        self._seeds = iter(()) if self._cuda else _drawn(n, generator)

    def next(self) -> dict:
        """{"generator": the CUDA generator} or {"seed": the next drawn seed}."""
        return {"generator": self._generator} if self._cuda else {"seed": next(self._seeds)}


def randn_like(x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """N(0, I) draws of x's shape and dtype on x's device, drawn on the generator's device (the
    CPU for None), so a CPU generator serves tensors anywhere."""
    device = "cpu" if generator is None else generator.device
    return torch.randn(x.shape, generator=generator, dtype=x.dtype, device=device).to(x.device)
