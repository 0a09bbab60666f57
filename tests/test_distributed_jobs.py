"""Every CLI job under torchrun: two gloo processes (``torchrun --nproc-per-node 2 -m fastebm
train <job>``) end with the checkpoint one process with ``--shards 2`` writes (model, optimizer,
every shard's chains, buffers and generator), bit for bit; rank 0 alone writes the run folder.
Both sides run one thread per process, so the GEMMs of the neural models round alike."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
import torch

from fastebm.training.checkpoint import load_checkpoint

from test_distributed import free_port

JOBS = {
    "rbm": ["--data", "digits", "--hidden", "16", "--epochs", "2", "--ais-betas", "100",
            "--ais-chains", "20", "--lr-schedule", "constant"],  # runs of 1 and 2 epochs resume
    "ebm": ["--data", "moons", "--epochs", "2", "--sample-steps", "20"],
    "diffusion": ["--kind", "ddpm", "--timesteps", "50", "--network", "mlp", "--hidden", "32",
                  "--depth", "1", "--epochs", "1", "--sampler", "ddim", "--sample-steps", "10"],
    "vae": ["--hidden", "32", "--epochs", "1", "--iwae-samples", "10", "--variance-samples", "5"],
    "svgd": ["--hidden", "4", "--epochs", "1", "--sample-particles", "20", "--sample-steps", "5"],
    "ising": ["--L", "8", "--samples", "200", "--burn-in", "20", "--epochs", "2"],
}


def train(launcher: list[str], job: str, out, *extra: str) -> None:
    argv = [*launcher, "-m", "fastebm", "train", job, *JOBS[job], "--no-progress", "--out",
            str(out), *extra]
    done = subprocess.run([sys.executable, *argv], capture_output=True, text=True, timeout=300,
                          env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]


def same(a, b) -> bool:
    """Nested dicts / lists / tensors equal exactly."""
    if isinstance(a, torch.Tensor):
        return isinstance(b, torch.Tensor) and a.dtype == b.dtype and torch.equal(a, b)
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    return a == b


def torchrun() -> list[str]:
    return ["-m", "torch.distributed.run", "--nproc-per-node", "2", "--master-addr", "127.0.0.1",
            "--master-port", str(free_port())]


@pytest.mark.parametrize("job", sorted(JOBS))
def test_two_torchrun_processes_train_what_one_process_with_two_shards_does(job, tmp_path):
    train(torchrun(), job, tmp_path / "two")
    train([], job, tmp_path / "one", "--shards", "2")
    two = load_checkpoint(tmp_path / "two" / "checkpoint.pt")["trainer"]
    one = load_checkpoint(tmp_path / "one" / "checkpoint.pt")["trainer"]
    assert len(two["shards"]) == 2 and not same(two["shards"][0], two["shards"][1])
    for key in ("model", "optimizer", "shards", "epoch", "global_step"):
        assert same(two[key], one[key]), key
    assert sorted(os.listdir(tmp_path / "two")) == sorted(os.listdir(tmp_path / "one"))
    # The measurements too (rbm: AIS chains split over the ranks, a block a shard).
    metrics = [json.loads((tmp_path / sub / "metrics.json").read_text()) for sub in ("two", "one")]
    for m in metrics:
        m.pop("train_seconds"), m.pop("shards")
    assert metrics[0] == metrics[1]


def test_a_torchrun_run_resumes_in_one_process_and_back(tmp_path):
    """rbm: epoch 1 on two processes, epoch 2 resumed in one (the checkpoint's 2 shards), equals
    two epochs in one process with --shards 2; and one process's first epoch resumes on two."""
    train(torchrun(), "rbm", tmp_path / "a", "--epochs", "1")
    train([], "rbm", tmp_path / "a", "--resume")
    train([], "rbm", tmp_path / "b", "--shards", "2", "--epochs", "1")
    train(torchrun(), "rbm", tmp_path / "b", "--shards", "2", "--resume")
    train([], "rbm", tmp_path / "c", "--shards", "2")
    whole = load_checkpoint(tmp_path / "c" / "checkpoint.pt")["trainer"]
    for sub in "ab":
        resumed = load_checkpoint(tmp_path / sub / "checkpoint.pt")["trainer"]
        assert resumed["epoch"] == 2
        for key in ("model", "optimizer", "shards"):
            assert same(resumed[key], whole[key]), (sub, key)
