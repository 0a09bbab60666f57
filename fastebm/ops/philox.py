"""The raw Philox4x32-10 op (Salmon et al. 2011): the generator behind every fastebm draw."""

from __future__ import annotations

import torch


def philox4x32(counter: torch.Tensor, *, seed: int) -> torch.Tensor:
    """Raw Philox4x32-10 blocks.

    Args:
        counter: [N, 4] int64 words in [0, 2^32).
        seed: the 64-bit key (low word first); any int, taken modulo 2^64.

    Returns:
        [N, 4] int64 words in [0, 2^32).
    """
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise TypeError(f"seed must be an int, got {type(seed).__name__}")
    seed %= 1 << 64
    return torch.ops.fastebm.philox4x32.default(counter, seed - (1 << 64) if seed >> 63 else seed)


@torch.library.register_fake("fastebm::philox4x32")
def _philox_fake(counter, seed):
    if counter.dim() != 2 or counter.shape[1] != 4:
        raise ValueError(f"fastebm: argument 'counter' must have shape [N, 4], got "
                         f"{list(counter.shape)}")
    if counter.dtype != torch.int64:
        raise ValueError(f"fastebm: argument 'counter' must be int64, got {counter.dtype}")
    return torch.empty_like(counter, memory_format=torch.contiguous_format)
