"""Data-parallel training under torch.distributed (gloo, 2 processes on this machine)."""

import os
import socket

import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from fastebm import data
from fastebm.models import BernoulliRBM
from fastebm.objectives import PCD
from fastebm.train import Trainer


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def worker(rank: int, world: int, port: int, folder: str) -> None:
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), RANK=str(rank),
                      WORLD_SIZE=str(world), LOCAL_RANK=str(rank))
    torch.set_num_threads(1)
    try:
        split = data.digits()
        model = BernoulliRBM(64, 16, generator=torch.Generator().manual_seed(rank))  # rank 0 wins
        trainer = Trainer(model, PCD(50, 1), split.train[:800], lr=5e-3, batch_size=50, seed=4,
                          checkpoint=os.path.join(folder, "ckpt.pt"), progress=False)
        assert (trainer.rank, trainer.world, trainer.steps_per_epoch()) == (rank, world, 8)
        trainer.fit(2)
        torch.save([p.detach() for p in model.parameters()], os.path.join(folder, f"rank{rank}.pt"))
    finally:
        dist.destroy_process_group()


def test_two_process_training_keeps_replicas_identical(tmp_path):
    mp.spawn(worker, args=(2, free_port(), str(tmp_path)), nprocs=2, join=True)
    p0, p1 = (torch.load(tmp_path / f"rank{r}.pt") for r in (0, 1))
    assert all(torch.equal(a, b) for a, b in zip(p0, p1))
    assert (tmp_path / "ckpt.pt").exists()  # written by rank 0 alone
    init = BernoulliRBM(64, 16, generator=torch.Generator().manual_seed(0))
    assert not torch.equal(p0[0], init.W.detach())
