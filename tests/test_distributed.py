"""Data-parallel training and distributed estimators under torch.distributed (gloo, 2 processes
on this machine)."""

import datetime
import os
import socket

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from fastebm import data
from fastebm.training import trainer as train
from fastebm.training.checkpoint import load_checkpoint
from fastebm.models import BernoulliRBM
from fastebm.objectives import PCD
from fastebm.partition import ais, reverse_ais
from fastebm.samplers import SVGD
from fastebm.training.trainer import Trainer

from test_partition import random_20x12


def leave_group() -> None:
    """Wait (at most a minute) for the other rank before tearing gloo down: a rank that destroys
    the group while its peer still has messages in flight can abort the process."""
    try:
        dist.monitored_barrier(timeout=datetime.timedelta(seconds=60))
    except RuntimeError:
        pass  # the peer failed first: its own error is the one reported
    dist.destroy_process_group()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def join(rank: int, world: int, port: int) -> None:
    """This process as rank ``rank`` of ``world`` in torchrun's environment variables."""
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), RANK=str(rank),
                      WORLD_SIZE=str(world), LOCAL_RANK=str(rank))
    torch.set_num_threads(1)


def worker(rank: int, world: int, port: int, folder: str, epochs: int, resume: bool,
           die_after: int) -> None:
    """Train the digits RBM for ``epochs``; rank 1 dies (os._exit) after epoch ``die_after``'s
    steps, before that epoch's checkpoint, when ``die_after`` > 0."""
    join(rank, world, port)
    try:
        split = data.digits()
        model = BernoulliRBM(64, 16, generator=torch.Generator().manual_seed(rank))  # rank 0 wins
        die = [lambda t: os._exit(1) if rank == 1 and t.epoch == die_after else None]
        kwargs = dict(lr=5e-3, batch_size=50, seed=4, progress=False, callbacks=die)
        path = os.path.join(folder, "ckpt.pt")
        if resume:
            trainer = Trainer.resume(path, model, PCD(50, 1), split.train[:800], **kwargs)
        else:
            trainer = Trainer(model, PCD(50, 1), split.train[:800], checkpoint=path, **kwargs)
        assert (trainer.rank, trainer.world, trainer.steps_per_epoch()) == (rank, world, 8)
        trainer.fit(epochs)
        state = [p.detach() for p in model.parameters()] + [trainer.objective.sampler.chains]
        torch.save(state, os.path.join(folder, f"rank{rank}.pt"))
    finally:
        leave_group()


def single(folder, epochs: int, resume: bool = False) -> list:
    """The worker's run in this one process with shards=2: per shard, what that rank saves."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        model = BernoulliRBM(64, 16, generator=torch.Generator().manual_seed(0))
        kwargs = dict(lr=5e-3, batch_size=50, seed=4, progress=False, shards=2)
        path = os.path.join(folder, "ckpt.pt")
        rows = data.digits().train[:800]
        if resume:
            trainer = Trainer.resume(path, model, PCD(50, 1), rows, **kwargs)
        else:
            trainer = Trainer(model, PCD(50, 1), rows, checkpoint=path, **kwargs)
        assert trainer.steps_per_epoch() == 8
        trainer.fit(epochs)
    finally:
        torch.set_num_threads(threads)
    params = [p.detach() for p in model.parameters()]
    return [params + [o.sampler.chains] for o in trainer.objectives]


def run(folder, epochs: int, resume: bool = False, die_after: int = 0) -> list:
    mp.spawn(worker, args=(2, free_port(), str(folder), epochs, resume, die_after), nprocs=2,
             join=True)
    return [torch.load(folder / f"rank{r}.pt") for r in (0, 1)]


def test_two_process_training_keeps_replicas_identical_and_resumes(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "c").mkdir()
    full = run(tmp_path / "a", 3)
    p0, p1 = full
    assert all(torch.equal(a, b) for a, b in zip(p0[:3], p1[:3]))  # parameters agree
    assert not torch.equal(p0[3], p1[3])  # each rank has its own chains
    init = BernoulliRBM(64, 16, generator=torch.Generator().manual_seed(0))
    assert not torch.equal(p0[0], init.W.detach())
    # 2 epochs, stop, resume to 3 in new processes: the same as 3 uninterrupted epochs.
    run(tmp_path / "b", 2)
    resumed = run(tmp_path / "b", 3, resume=True)
    for ours, theirs in zip(resumed, full):
        assert all(torch.equal(a, b) for a, b in zip(ours, theirs))
    # Rank 1 dies in epoch 2: epoch 1's checkpoint stays whole, and a resume from it in new
    # processes ends where the uninterrupted run did.
    with pytest.raises(mp.ProcessExitedException):
        run(tmp_path / "c", 3, die_after=2)
    assert load_checkpoint(tmp_path / "c" / "ckpt.pt")["trainer"]["epoch"] == 1
    resumed = run(tmp_path / "c", 3, resume=True)
    for ours, theirs in zip(resumed, full):
        assert all(torch.equal(a, b) for a, b in zip(ours, theirs))


def ais_v_init():
    return random_20x12().sample(30, 200, generator=torch.Generator().manual_seed(1))


def ais_both(**kwargs) -> list[torch.Tensor]:
    """Forward and reverse AIS log-weights on the 20-12 test RBM, 30 chains, 300 betas."""
    model = random_20x12()
    fwd = ais(model, 30, 300, generator=torch.Generator().manual_seed(5), **kwargs)
    rev = reverse_ais(model, ais_v_init(), 300, burn_in=5,
                      generator=torch.Generator().manual_seed(6), **kwargs)
    return [fwd.log_weights, rev.log_weights, torch.tensor([fwd.log_z, rev.log_z])]


def ais_worker(rank: int, world: int, port: int, folder: str) -> None:
    join(rank, world, port)
    dist.init_process_group("gloo")
    try:
        torch.save(ais_both(distributed=True), os.path.join(folder, f"ais{rank}.pt"))
    finally:
        leave_group()


def test_ais_over_two_ranks_equals_one_process_with_the_same_blocks(tmp_path):
    mp.spawn(ais_worker, args=(2, free_port(), str(tmp_path)), nprocs=2, join=True)
    ranks = [torch.load(tmp_path / f"ais{r}.pt") for r in (0, 1)]
    one = ais_both(blocks=2)
    for got in ranks:  # every rank gets every chain's log-weight, in block order
        assert all(torch.equal(a, b) for a, b in zip(got, one))
    # The blocks are real: one block of 30 chains draws other bits.
    assert not torch.equal(ais_both()[0], one[0])


def test_shards_make_the_run_independent_of_the_number_of_processes(tmp_path, monkeypatch):
    """Two shards: one process equals two (parameters and every shard's chains); a checkpoint of
    either resumes on the other; three processes are refused."""
    for sub in "abc":
        (tmp_path / sub).mkdir()
    two = run(tmp_path / "a", 3)
    one = single(tmp_path / "b", 3)
    for ours, theirs in zip(one, two):
        assert all(torch.equal(a, b) for a, b in zip(ours, theirs))
    run(tmp_path / "c", 2)  # 2 processes -> 1
    for ours, theirs in zip(single(tmp_path / "c", 3, resume=True), two):
        assert all(torch.equal(a, b) for a, b in zip(ours, theirs))
    (tmp_path / "b" / "ckpt.pt").unlink()  # 1 process -> 2
    single(tmp_path / "b", 2)
    for ours, theirs in zip(run(tmp_path / "b", 3, resume=True), two):
        assert all(torch.equal(a, b) for a, b in zip(ours, theirs))
    model = BernoulliRBM(64, 16)
    rows = data.digits().train[:800]
    with pytest.raises(Exception, match="holds 2 shards"):
        Trainer(model, PCD(50, 1), rows, shards=1, batch_size=50, seed=4,
                progress=False).load_state_dict(
            load_checkpoint(tmp_path / "b" / "ckpt.pt")["trainer"])
    monkeypatch.setattr(train, "join_process_group", lambda device: (0, 3))  # rank 0 of 3
    with pytest.raises(ValueError, match="over 3 processes"):
        Trainer.resume(str(tmp_path / "b" / "ckpt.pt"), model, PCD(50, 1), rows, batch_size=50,
                       seed=4, progress=False)
    with pytest.raises(Exception, match="shards"):
        Trainer(model, PCD(50, 1), rows, shards=0, progress=False)


def svgd_run(particles: torch.Tensor, rule: str, bandwidth, distributed: bool = False):
    """SVGD on an anisotropic Gaussian (autograd score, per particle) from ``particles``."""
    scale = torch.tensor([0.5, 1.0, 2.0], dtype=particles.dtype)

    def log_prob(x):
        return -0.5 * ((x - 1) / scale).square().sum(-1)

    return SVGD(log_prob, step_size=0.05, rule=rule, bandwidth=bandwidth,
                progress=False).run(particles, 40, distributed=distributed)


def svgd_particles(dtype=torch.float64) -> torch.Tensor:
    return torch.randn(2, 101, 3, generator=torch.Generator().manual_seed(8), dtype=dtype)


SVGD_CASES = [("adagrad", None, torch.float64), ("adam", 0.7, torch.float32)]


def svgd_worker(rank: int, world: int, port: int, folder: str) -> None:
    join(rank, world, port)
    dist.init_process_group("gloo")
    try:
        mine = slice(0, 51) if rank == 0 else slice(51, 101)  # uneven shares
        torch.save([svgd_run(svgd_particles(dtype)[:, mine], rule, h, distributed=True)
                    for rule, h, dtype in SVGD_CASES], os.path.join(folder, f"svgd{rank}.pt"))
        with pytest.raises(ValueError, match="every rank's particles"):
            svgd_run(svgd_particles()[:, :4 + rank, :2 + rank], "sgd", None, distributed=True)
    finally:
        leave_group()


def test_svgd_over_two_ranks_equals_one_process(tmp_path):
    """101 particles split 51 + 50: the ranks' shares, in order, are the one-process run's
    particles bit for bit (median bandwidth with AdaGrad in float64, a fixed one with Adam in
    float32); ranks whose shares disagree in shape are refused on every rank."""
    mp.spawn(svgd_worker, args=(2, free_port(), str(tmp_path)), nprocs=2, join=True)
    ranks = [torch.load(tmp_path / f"svgd{r}.pt") for r in (0, 1)]
    for case, (rule, h, dtype) in enumerate(SVGD_CASES):
        one = svgd_run(svgd_particles(dtype), rule, h)
        assert torch.equal(torch.cat([ranks[0][case], ranks[1][case]], 1), one)
        assert not torch.equal(one, svgd_particles(dtype))
