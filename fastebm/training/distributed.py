"""What distributed training, estimators and samplers share: joining and leaving the process
group torchrun describes, the group a call splits its work over, and gathering every rank's rows
in rank order."""

from __future__ import annotations

import os

import torch
import torch.distributed as dist


def join_process_group(device: torch.device) -> tuple[int, int]:
    """(rank, world size); joins the process group torchrun describes (WORLD_SIZE > 1), with
    NCCL for a model on CUDA and gloo on the CPU."""
    if int(os.environ.get("WORLD_SIZE", "1")) > 1 and not dist.is_initialized():
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    if dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def process_group(distributed: bool) -> tuple[int, int]:
    """(rank, world size) of a call's split: (0, 1) unless ``distributed``, which needs an
    initialised torch.distributed process group."""
    if not distributed:
        return 0, 1
    if not dist.is_available() or not dist.is_initialized():
        raise RuntimeError("distributed=True needs an initialised torch.distributed process group "
                           "(e.g. under torchrun); every rank must make the call")
    return dist.get_rank(), dist.get_world_size()


def leave_process_group() -> None:
    """Leave the process group the Trainer joined under torchrun, if any, once every rank is done
    (a barrier: a rank that destroys the group while its peer still has messages in flight, or
    that leaves its connections to interpreter exit, aborts), so each rank exits cleanly."""
    if dist.is_available() and dist.is_initialized():
        try:
            dist.barrier()
        except RuntimeError:
            pass  # a peer is gone (it failed or was killed): nothing is left to wait for
        dist.destroy_process_group()


def all_gather_rows(x: torch.Tensor, counts: list[int]) -> torch.Tensor:
    """[..., Σ counts, d]: every rank's x [..., counts[rank], d], concatenated in rank order
    (padded to the largest count for the all-gather, which needs equal shapes)."""
    most = max(counts)
    padded = torch.nn.functional.pad(x, (0, 0, 0, most - x.shape[-2])).contiguous()
    parts = [torch.empty_like(padded) for _ in counts]
    dist.all_gather(parts, padded)
    return torch.cat([part[..., :c, :] for part, c in zip(parts, counts)], -2)
