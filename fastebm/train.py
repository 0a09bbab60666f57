"""The training loop: mini-batch optimisation of any fastebm objective, with a tqdm progress bar,
atomic checkpoints that resume bit for bit, and torch.distributed data parallelism."""

from __future__ import annotations

import math
import os
from typing import Callable

import torch
import torch.distributed as dist
from tqdm.auto import tqdm

from .checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from .optim import SGD, Adam


def _distributed() -> tuple[int, int]:
    """(rank, world size); joins the process group torchrun describes (WORLD_SIZE > 1)."""
    if int(os.environ.get("WORLD_SIZE", "1")) > 1 and not dist.is_initialized():
        dist.init_process_group("gloo")
    if dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


class Trainer:
    """Mini-batch training of ``model`` with ``objective`` on ``data`` [N, V].

    Each epoch visits the data in a permutation drawn from (seed, epoch), so an epoch's batches
    do not depend on what ran before; sampling uses a generator seeded with seed + rank whose
    state is checkpointed. A checkpoint (``checkpoint`` path) holds the model, optimizer,
    objective (persistent chains), generator, position and history; it is written atomically
    every ``checkpoint_every`` steps (0: never mid-epoch), after every epoch and on Ctrl-C.
    ``Trainer.resume`` continues from it bit for bit.

    Under torchrun (WORLD_SIZE > 1) each rank takes an equal shard of every epoch's permutation,
    gradients are averaged with all_reduce, and rank 0 writes checkpoints holding every rank's
    chains and generator, so a distributed run resumes bit for bit too (with the same number of
    processes).

    Args:
        model: an nn.Module. objective: has compute_grads / state_dict / load_state_dict.
        data: [N, V] training data. optimizer: "adam" or "sgd" (with ``momentum``), the fused
            fastebm.optim versions (one C++ call per step).
        lr, weight_decay: optimiser settings (weight decay as the optimiser's L2 term).
        batch_size: examples per step and rank. seed: data order and sampling.
        metrics_fn: called after every epoch with the trainer, returns {name: float}.
        progress: show a tqdm bar.
    """

    def __init__(self, model, objective, data: torch.Tensor, *, optimizer: str = "adam",
                 lr: float = 1e-3, momentum: float = 0.9, weight_decay: float = 0.0,
                 batch_size: int = 100, seed: int = 0, checkpoint: str | None = None,
                 checkpoint_every: int = 0, metrics_fn: Callable | None = None,
                 progress: bool = True):
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        if not (lr > 0 and math.isfinite(lr)):
            raise ValueError(f"lr must be a positive finite number, got {lr}")
        if weight_decay < 0 or not 0 <= momentum < 1:
            raise ValueError(f"need weight_decay >= 0 and 0 <= momentum < 1, got {weight_decay}, {momentum}")
        if data.dim() != 2 or len(data) == 0:
            raise ValueError(f"data must be a non-empty [N, V] tensor, got shape {tuple(data.shape)}")
        if not torch.isfinite(data).all():
            raise ValueError("data contains NaN or Inf")
        self.rank, self.world = _distributed()
        if len(data) // self.world < 1:
            raise ValueError(f"{len(data)} examples cannot be shared by {self.world} ranks")
        self.model, self.objective = model, objective
        self.data = data.to(next(model.parameters()))
        self.batch_size, self.seed = batch_size, seed
        self.checkpoint, self.checkpoint_every = checkpoint, checkpoint_every
        self.metrics_fn, self.progress = metrics_fn, progress
        self.optimizer_name = optimizer
        params = list(model.parameters())
        if optimizer == "adam":
            self.optimizer = Adam(params, lr=lr, weight_decay=weight_decay)
        elif optimizer == "sgd":
            self.optimizer = SGD(params, lr=lr, momentum=momentum, weight_decay=weight_decay)
        else:
            raise ValueError(f"optimizer must be 'adam' or 'sgd', got {optimizer!r}")
        self.generator = torch.Generator().manual_seed(seed + self.rank)
        self.epoch, self.step_in_epoch, self.global_step = 0, 0, 0
        self.history: list[dict] = []
        self.extra: dict = {}  # more fields for the checkpoint (e.g. the CLI's model config)
        if self.world > 1:
            for p in params:
                dist.broadcast(p.data, 0)

    # ------------------------------------------------------------------ data order
    def steps_per_epoch(self) -> int:
        return math.ceil((len(self.data) // self.world) / self.batch_size)

    def _epoch_order(self, epoch: int) -> torch.Tensor:
        """This rank's example indices for an epoch, a permutation drawn from (seed, epoch)."""
        g = torch.Generator().manual_seed(self.seed * 1_000_003 + epoch)
        perm = torch.randperm(len(self.data), generator=g)
        share = len(self.data) // self.world
        return perm[self.rank * share:(self.rank + 1) * share]

    # ------------------------------------------------------------------ the loop
    def fit(self, epochs: int) -> list[dict]:
        """Train until ``epochs`` epochs are done in total (a resumed trainer continues)."""
        try:
            while self.epoch < epochs:
                self._run_epoch(epochs)
        except KeyboardInterrupt:
            self.save()
            raise
        return self.history

    def _run_epoch(self, epochs: int) -> None:
        shuffled, n_steps = self.data[self._epoch_order(self.epoch)], self.steps_per_epoch()
        bar = tqdm(total=n_steps, initial=self.step_in_epoch, disable=not self.progress or self.rank,
                   desc=f"epoch {self.epoch + 1}/{epochs}", leave=False)
        with bar:
            if self.history:  # the last epoch's metrics stay on the bar
                bar.set_postfix({k: v for k, v in self.history[-1].items() if k != "step"},
                                refresh=False)
            for step in range(self.step_in_epoch, n_steps):
                batch = shuffled[step * self.batch_size:(step + 1) * self.batch_size]
                self.optimizer.zero_grad(set_to_none=True)
                step_metrics = self.objective.compute_grads(self.model, batch, self.generator)
                self._average_grads()
                self.optimizer.step()
                self.step_in_epoch, self.global_step = step + 1, self.global_step + 1
                if self.checkpoint_every and self.global_step % self.checkpoint_every == 0:
                    self.save()
                bar.update(1)
                if step_metrics and step % 10 == 0:
                    bar.set_postfix(step_metrics, refresh=False)
        self.epoch, self.step_in_epoch = self.epoch + 1, 0
        record = {"epoch": self.epoch, "step": self.global_step}
        if self.metrics_fn is not None:
            record.update(self.metrics_fn(self))
        self.history.append(record)
        if self.progress and not self.rank:
            tqdm.write(" ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}"
                                for k, v in record.items()))
        self.save()

    def _average_grads(self) -> None:
        if self.world == 1:
            return
        for p in self.model.parameters():
            if p.grad is not None:
                dist.all_reduce(p.grad, op=dist.ReduceOp.SUM)
                p.grad /= self.world

    # ------------------------------------------------------------------ checkpoints
    def _rank_state(self) -> dict:
        """What differs between ranks: the sampling generator and the objective's chains."""
        return {"generator": self.generator.get_state(), "objective": self.objective.state_dict()}

    def state_dict(self) -> dict:
        """The trainer's state; ``ranks`` holds every rank's own part (one entry per rank).
        A collective call under torch.distributed: every rank must make it."""
        ranks = [self._rank_state()]
        if self.world > 1:
            ranks = [None] * self.world
            dist.all_gather_object(ranks, self._rank_state())
        return {"model": self.model.state_dict(), "optimizer": self.optimizer.state_dict(),
                "ranks": ranks, "epoch": self.epoch, "step_in_epoch": self.step_in_epoch,
                "global_step": self.global_step, "history": self.history, "seed": self.seed,
                "batch_size": self.batch_size, "world": self.world,
                "optimizer_name": self.optimizer_name}

    def load_state_dict(self, state: dict) -> None:
        if state["batch_size"] != self.batch_size or state["seed"] != self.seed:
            raise CheckpointError("checkpoint was written with another batch_size or seed")
        if state["world"] != self.world:
            raise CheckpointError(f"checkpoint was written by {state['world']} processes, "
                                  f"this run has {self.world}")
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        own = state["ranks"][self.rank]
        self.objective.load_state_dict(own["objective"])
        self.generator.set_state(own["generator"])
        self.epoch, self.step_in_epoch = state["epoch"], state["step_in_epoch"]
        self.global_step, self.history = state["global_step"], list(state["history"])

    def save(self) -> None:
        """Write the checkpoint (no-op without a checkpoint path). Under torch.distributed every
        rank contributes its chains and generator; rank 0 writes."""
        if not self.checkpoint:
            return
        state = self.state_dict()
        if not self.rank:
            save_checkpoint({"trainer": state, **self.extra}, self.checkpoint)

    @classmethod
    def resume(cls, checkpoint: str, model, objective, data, **kwargs) -> "Trainer":
        """A trainer restored from ``checkpoint``: same arguments as the original run."""
        state = load_checkpoint(checkpoint)
        if "trainer" not in state:
            raise CheckpointError(f"{checkpoint} holds no trainer state")
        trainer = cls(model, objective, data, checkpoint=checkpoint, **kwargs)
        trainer.load_state_dict(state["trainer"])
        return trainer
