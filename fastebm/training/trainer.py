"""The training loop: mini-batch optimisation of any model with any objective on any data, with
learning-rate schedules, EMA, gradient clipping, callbacks, a tqdm progress bar, atomic
checkpoints that resume bit for bit, and torch.distributed data parallelism."""

from __future__ import annotations

import copy
import math
import os
from collections.abc import Iterable
from contextlib import nullcontext
from typing import Callable

import torch
import torch.distributed as dist
from tqdm.auto import tqdm

from ..checks import check_count, check_real, check_tensor_finite, checked
from ..models.base import check_visible
from .checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from .distributed import join_process_group
from .ema import EMA
from .epoch_log import EpochMeans, epoch_line, is_reported
from .optim import build_optimizer

#: Most steps one fused multi-step call makes (objective.run_steps): how soon Ctrl-C is honoured.
STEPS_PER_CALL = 32


class TrainingDiverged(ValueError):
    """A step gave a NaN / Inf loss, gradient or weight: training stops, and the checkpoint keeps
    the last good weights."""


def _all_finite(tensors: list[torch.Tensor]) -> bool:
    """Whether every tensor holds only finite values: one norm per tensor in one foreach call
    (a NaN or Inf makes its norm one; so would float32 weights past ~1e19, diverged by any
    measure), one host sync."""
    return not tensors or bool(torch.stack(torch._foreach_norm(tensors)).isfinite().all())


def _is_scheduler(schedule) -> bool:
    return isinstance(schedule, torch.optim.lr_scheduler.LRScheduler)


def _check_data(model, data, like: torch.Tensor):
    """A tensor [N, ...] checked once (finite; in the model's domain for a GibbsModel) and moved
    to the model's device (and dtype, when floating); an iterable is passed through."""
    if not isinstance(data, torch.Tensor):
        if not isinstance(data, Iterable):
            raise TypeError(f"data must be a tensor [N, ...] or an iterable of batches (e.g. a "
                            f"DataLoader), got {type(data).__name__}")
        return data
    if data.dim() < 1 or len(data) == 0:
        raise ValueError(f"data must be a non-empty [N, ...] tensor, got shape {list(data.shape)}")
    if hasattr(model, "visible_domain") and hasattr(model, "n_visible"):
        return check_visible(model, data, "data")
    if data.is_floating_point():
        check_tensor_finite(data, "data")
        return data.to(like)
    return data.to(like.device)


class Trainer:
    """Mini-batch training of ``model`` with ``objective`` on ``data``.

    ``data`` is a tensor [N, ...] ([N, V] vectors, [N, C, H, W] images, [N, d] points), checked
    once (finite; binary for a binary model) and visited each epoch in a permutation drawn from
    (seed, epoch), or any iterable of batches such as a DataLoader (a batch that is a tuple or
    list gives its first element; a DataLoader that shuffles is re-seeded from (seed, epoch)
    each epoch, so resuming mid-epoch replays the same order). Sampling uses a generator seeded
    with seed + rank whose state is checkpointed.

    Each step: zero the gradients, ``objective.compute_grads(model, batch, generator)`` (sets
    .grad, returns metrics), average gradients across ranks, clip their global norm to
    ``grad_clip``, set the learning rate to base · ``schedule(global_step)``, step the optimizer,
    update the EMA. After each epoch every callback ``cb(trainer)`` runs; the dicts they return
    join the epoch's record in ``history``.

    A checkpoint (``checkpoint`` path) holds the model, optimizer, EMA, objective (persistent
    chains), generator, position and history; it is written atomically every
    ``checkpoint_every`` steps (0: never mid-epoch), after every epoch and on Ctrl-C.
    ``Trainer.resume`` continues from it bit for bit.

    **Shards.** The run is split into ``shards`` S (default: the number of processes): shard s
    takes rows s·⌊N/S⌋ .. (s+1)·⌊N/S⌋ - 1 of every epoch's permutation, batches of
    ``batch_size`` (so S·batch_size examples a step), and has its own sampling generator
    (seed + s) and its own copy of the objective's state (persistent chains, replay buffers).
    Each step the gradient is the mean of the shards' gradients. Under torchrun (WORLD_SIZE > 1;
    gloo on CPU, NCCL on CUDA) rank r holds shards r·S/W .. (r+1)·S/W - 1 and the sum is
    all-reduced; rank 0 writes checkpoints holding every shard's chains and generator. So the
    result does not depend on the number of processes W: one process with ``shards=2`` computes
    what two processes compute (within float rounding of the gradient sum), and a checkpoint
    resumes on any W that divides its S (``Trainer.resume`` keeps the checkpoint's S), bit for
    bit; another W is refused with an error naming the shards. A DataLoader is not sharded by
    the Trainer (give it a DistributedSampler; shards must then equal W).

    Args:
        model: an nn.Module. objective: has compute_grads / state_dict / load_state_dict.
        data: a tensor [N, ...] or an iterable of batches.
        optimizer: a ``torch.optim.Optimizer`` over the model's parameters (e.g.
            ``fastebm.training.Adam(model.parameters(), lr=1e-3)``; its own lr), a callable
            ``params -> torch.optim.Optimizer``, or "adam" / "sgd" (fastebm.training's fused
            versions, built with ``lr``, ``momentum``, ``weight_decay``).
        schedule: ``step -> factor`` of the base learning rates (fastebm.training.schedules), or a
            ``torch.optim.lr_scheduler`` instance on this optimizer (stepped after every
            optimizer step, its state checkpointed), or None.
        ema: EMA decay in [0, 1) (``trainer.ema``; ``with trainer.ema.swapped_in(): ...``).
        grad_clip: max global gradient norm, or None.
        batch_size: examples per step and shard (tensor data). seed: data order and sampling.
        shards: S >= 1, a multiple of the number of processes (default: that number).
        callbacks: ``cb(trainer) -> dict | None`` after every epoch.
        progress: show a tqdm bar.
    """

    def __init__(self, model, objective, data, *,
                 optimizer: str | Callable | torch.optim.Optimizer = "adam",
                 lr: float = 1e-3, momentum: float = 0.9, weight_decay: float = 0.0,
                 batch_size: int = 100, seed: int = 0, schedule: Callable | None = None,
                 ema: float | None = None, grad_clip: float | None = None,
                 callbacks: list[Callable] = (), checkpoint: str | None = None,
                 checkpoint_every: int = 0, progress: bool = True, shards: int | None = None):
        self.batch_size = check_count(batch_size, "batch_size")
        self.seed = check_count(seed, "seed", 0)
        self.checkpoint_every = check_count(checkpoint_every, "checkpoint_every", 0)
        if grad_clip is not None:
            check_real(grad_clip, "grad_clip", low=0.0, low_open=True)
        if schedule is not None and not callable(schedule) and not _is_scheduler(schedule):
            raise TypeError(f"schedule must be a callable step -> factor or a "
                            f"torch.optim.lr_scheduler instance, got {type(schedule).__name__}")
        if not callable(getattr(objective, "compute_grads", None)):
            raise TypeError(f"objective must be a fastebm objective (compute_grads(model, batch, "
                            f"generator), e.g. fastebm.objectives.PCD), got "
                            f"{type(objective).__name__}")
        if hasattr(objective, "check_model"):
            objective.check_model(model)
        params = list(model.parameters())
        if not params:
            raise ValueError("the model has no parameters to train")
        self.rank, self.world = join_process_group(params[0].device)
        self.shards = self.world if shards is None else check_count(shards, "shards")
        if self.shards % self.world:
            raise ValueError(f"shards ({self.shards}: chains, buffers and generators of the run's "
                             f"shards) cannot be split evenly over {self.world} processes: run a "
                             f"number of processes that divides {self.shards}")
        self.model = model
        self.params = params  # listed once: a step walks them several times
        self.data = _check_data(model, data, params[0])
        if isinstance(self.data, torch.Tensor) and len(self.data) // self.shards < 1:
            raise ValueError(f"{len(self.data)} examples cannot be shared by {self.shards} shards")
        if not isinstance(self.data, torch.Tensor) and self.shards != self.world:
            raise ValueError(f"shards ({self.shards}) must equal the number of processes "
                             f"({self.world}) for an iterable of batches")
        per_rank = self.shards // self.world
        self.local_shards = range(self.rank * per_rank, (self.rank + 1) * per_rank)
        # Shard objectives share the model (a sampler refers to it), not their state.
        self.objectives = [objective] + [copy.deepcopy(objective, {id(model): model})
                                         for _ in self.local_shards[1:]]
        self.optimizer = build_optimizer(optimizer, params, lr, momentum, weight_decay)
        if _is_scheduler(schedule) and schedule.optimizer is not self.optimizer:
            raise ValueError("schedule is a torch.optim.lr_scheduler of another optimizer: build "
                             "it on the optimizer given to the Trainer")
        self.base_lrs = [group.get("initial_lr", group["lr"]) for group in self.optimizer.param_groups]
        self.schedule, self.grad_clip = schedule, grad_clip
        self.ema = None if ema is None else EMA(model, ema)
        self.callbacks = list(callbacks)
        self.checkpoint, self.progress = checkpoint, progress
        self.generators = [torch.Generator().manual_seed(self.seed + s) for s in self.local_shards]
        self.epoch, self.step_in_epoch, self.global_step = 0, 0, 0
        self.history: list[dict] = []
        self.extra: dict = {}  # more fields for the checkpoint (e.g. the CLI's job config)
        if self.world > 1:
            for p in params:
                dist.broadcast(p.data, 0)

    @property
    def objective(self):
        """The first local shard's objective (the only one when shards equal processes)."""
        return self.objectives[0]

    @property
    def generator(self) -> torch.Generator:
        """The first local shard's sampling generator."""
        return self.generators[0]

    # ------------------------------------------------------------------ data order
    def steps_per_epoch(self) -> int | None:
        if isinstance(self.data, torch.Tensor):
            return math.ceil((len(self.data) // self.shards) / self.batch_size)
        return len(self.data) if hasattr(self.data, "__len__") else None

    def _epoch_seed(self, epoch: int) -> int:
        return self.seed * 1_000_003 + epoch

    def _epoch_rows(self, epoch: int) -> list[torch.Tensor]:
        """This rank's shards' rows of tensor data for an epoch ([⌊N/S⌋, ...] each), in the
        order drawn from (seed, epoch)."""
        g = torch.Generator().manual_seed(self._epoch_seed(epoch))
        perm = torch.randperm(len(self.data), generator=g)
        share = len(self.data) // self.shards
        return [self.data.index_select(0, perm[s * share:(s + 1) * share]) for s in self.local_shards]

    def _remaining_batches(self, rows: list[torch.Tensor] | None):
        """(step, batches) of the epoch from step_in_epoch on, one batch per local shard: slices
        of each shard's ``rows`` (tensor data in the epoch's order), or the iterable's batches,
        replayed from its start and skipped up to there (a resume mid-epoch)."""
        if rows is not None:
            B = self.batch_size
            return ((i // B, [r[i:i + B] for r in rows])
                    for i in range(self.step_in_epoch * B, len(rows[0]), B))
        return ((step, [batch]) for step, batch in enumerate(self._loader_batches(self.epoch))
                if step >= self.step_in_epoch)

    def _loader_batches(self, epoch: int):
        """An iterable's batches for an epoch, its shuffling (if any) seeded from (seed, epoch)."""
        sampler = getattr(self.data, "sampler", None)
        if sampler is not None and hasattr(sampler, "generator"):
            if sampler.generator is None:
                sampler.generator = torch.Generator()
            sampler.generator.manual_seed(self._epoch_seed(epoch))
        if sampler is not None and hasattr(sampler, "set_epoch"):
            sampler.set_epoch(epoch)
        return (b[0] if isinstance(b, (tuple, list)) else b for b in self.data)

    # ------------------------------------------------------------------ the loop
    def fit(self, epochs: int) -> list[dict]:
        """Train until ``epochs`` epochs are done in total (a resumed trainer continues)."""
        check_count(epochs, "epochs", 0)
        try:
            while self.epoch < epochs:
                self._run_epoch(epochs)
        except KeyboardInterrupt:
            self.save()
            raise
        return self.history

    def _step(self, batches: list) -> dict:
        """One step over this rank's shards' ``batches``; the first shard's metrics."""
        if isinstance(batches[0], torch.Tensor) and not isinstance(self.data, torch.Tensor):
            batches = [batches[0].to(self.base_device)]
        metrics, summed = [], None  # the local shards' gradients, added in shard order
        for objective, generator, batch in zip(self.objectives, self.generators, batches):
            for p in self.params:  # zero_grad(set_to_none=True) without its profiler scope
                p.grad = None
            trusted = checked(batch) if isinstance(self.data, torch.Tensor) else nullcontext()
            try:
                with trusted:  # a slice of the data checked whole at construction
                    metrics.append(objective.compute_grads(self.model, batch, generator))
            except ValueError as exc:  # after good steps: the weights made a NaN / Inf inside
                if self.global_step == 0 or not any(
                        word in str(exc) for word in ("NaN", "Inf", "overflow", "diverged")):
                    raise
                self._diverged(str(exc))
            grads = [p.grad for p in self.params]
            summed = grads if summed is None else [
                g if a is None else a if g is None else a + g for a, g in zip(summed, grads)]
        if len(batches) > 1:  # one shard's gradients are in place already
            for p, g in zip(self.params, summed):
                p.grad = g
        self._average_grads()
        loss = metrics[0].get("loss", 0.0) if isinstance(metrics[0], dict) else 0.0
        if not math.isfinite(loss):
            self._diverged("the loss is NaN or Inf")
        if self.grad_clip is not None:
            torch.nn.utils.clip_grad_norm_(self.params, self.grad_clip)
        if self.schedule is not None and not _is_scheduler(self.schedule):
            factor = float(self.schedule(self.global_step))
            for group, base in zip(self.optimizer.param_groups, self.base_lrs):
                group["lr"] = base * factor
        self.optimizer.step()
        if _is_scheduler(self.schedule):
            self.schedule.step()
        if self.ema is not None:
            self.ema.update()
        return metrics[0]

    def _diverged(self, what: str):
        raise TrainingDiverged(
            f"training diverged at epoch {self.epoch + 1} step {self.step_in_epoch + 1} ({what}): "
            f"lower the learning rate (--lr); "
            + (f"{self.checkpoint} keeps the last good weights"
               if self.checkpoint and os.path.exists(self.checkpoint)
               else "no checkpoint was written"))

    @property
    def base_device(self) -> torch.device:
        return self.params[0].device

    def _run_epoch(self, epochs: int) -> None:
        bar = tqdm(total=self.steps_per_epoch(), initial=self.step_in_epoch,
                   disable=not self.progress or self.rank,
                   desc=f"epoch {self.epoch + 1}/{epochs}", leave=False)
        with bar:
            if self.history:  # the last epoch's metrics stay on the bar
                bar.set_postfix({k: v for k, v in self.history[-1].items() if k != "step"},
                                refresh=False)
            rows = self._epoch_rows(self.epoch) if isinstance(self.data, torch.Tensor) else None
            if rows is not None and self._fusable():
                self._run_fused(bar, rows)
            means = EpochMeans()
            for step, batch in self._remaining_batches(rows):
                step_metrics = self._step(batch)
                means.add(step_metrics)
                self.step_in_epoch, self.global_step = step + 1, self.global_step + 1
                if self.checkpoint_every and self.global_step % self.checkpoint_every == 0:
                    self.save()
                bar.update(1)
                if step_metrics and step % 10 == 0:
                    bar.set_postfix(step_metrics, refresh=False)
        # A NaN / Inf weight (a NaN gradient makes one) fails the next step's loss or the model's
        # checks; one check per epoch catches a weight that the loss does not see.
        if not _all_finite(self.params):
            self._diverged("a gradient or weight became NaN or Inf")
        self.epoch, self.step_in_epoch = self.epoch + 1, 0
        record = {"epoch": self.epoch, "step": self.global_step, **means.means()}
        for callback in self.callbacks:
            record.update(callback(self) or {})
        self.history.append(record)
        if self.progress and not self.rank and is_reported(self.epoch, epochs):
            tqdm.write(epoch_line(record, epochs))
        self.save()

    def _fusable(self) -> bool:
        """Whether tensor data's steps may run several per call (objective.run_steps): one
        process, and nothing asked for between steps (schedule, EMA, clipping, checkpoints)."""
        return (self.shards == 1 and self.schedule is None and self.ema is None and self.grad_clip is None
                and not self.checkpoint_every and hasattr(self.objective, "run_steps"))

    def _run_fused(self, bar, rows: torch.Tensor) -> None:
        """The epoch's remaining steps over its ``rows``, up to STEPS_PER_CALL per
        objective.run_steps call, the bits of the per-step loop; stops at once when the objective
        declines (the step-by-step loop continues)."""
        B = self.batch_size
        n_steps = self.steps_per_epoch()
        while self.step_in_epoch < n_steps:
            n = min(STEPS_PER_CALL, n_steps - self.step_in_epoch)
            chunk = rows[0][self.step_in_epoch * B:(self.step_in_epoch + n) * B]
            if not self.objective.run_steps(self.model, self.optimizer, chunk, B, self.generator):
                return
            if not _all_finite(self.params):
                self._diverged("a weight became NaN or Inf")
            self.step_in_epoch += n
            self.global_step += n
            bar.update(n)

    def _average_grads(self) -> None:
        """The local sum of the shards' gradients -> their mean over all shards."""
        if self.shards == 1:
            return
        for p in self.params:
            if p.grad is not None:
                if self.world > 1:
                    dist.all_reduce(p.grad, op=dist.ReduceOp.SUM)
                p.grad /= self.shards

    # ------------------------------------------------------------------ checkpoints
    def _local_states(self) -> list[dict]:
        """What differs between shards: the sampling generator and the objective's chains."""
        return [{"generator": g.get_state(), "objective": o.state_dict()}
                for g, o in zip(self.generators, self.objectives)]

    def state_dict(self) -> dict:
        """The trainer's state; ``shards`` holds every shard's own part, in shard order.
        A collective call under torch.distributed: every rank must make it."""
        shards = self._local_states()
        if self.world > 1:
            ranks = [None] * self.world
            dist.all_gather_object(ranks, shards)
            shards = [part for rank in ranks for part in rank]
        return {"model": self.model.state_dict(), "optimizer": self.optimizer.state_dict(),
                "lr_scheduler": self.schedule.state_dict() if _is_scheduler(self.schedule) else None,
                "ema": None if self.ema is None else self.ema.state_dict(),
                "shards": shards, "epoch": self.epoch, "step_in_epoch": self.step_in_epoch,
                "global_step": self.global_step, "history": self.history, "seed": self.seed,
                "batch_size": self.batch_size, "base_lrs": self.base_lrs}

    def load_state_dict(self, state: dict) -> None:
        if state["batch_size"] != self.batch_size or state["seed"] != self.seed:
            raise CheckpointError("checkpoint was written with another batch_size or seed")
        if len(state["shards"]) != self.shards:
            raise CheckpointError(f"checkpoint holds {len(state['shards'])} shards (chains and "
                                  f"generators), this run has {self.shards}")
        if state["base_lrs"] != self.base_lrs or (state["ema"] is None) != (self.ema is None):
            raise CheckpointError("checkpoint was written with another learning rate or EMA setting")
        try:
            self.model.load_state_dict(state["model"])
        except RuntimeError as exc:
            raise CheckpointError(f"the checkpoint's weights do not fit this model "
                                  f"({str(exc).splitlines()[-1].strip()})") from None
        self.optimizer.load_state_dict(state["optimizer"])
        if _is_scheduler(self.schedule) and state.get("lr_scheduler") is not None:
            self.schedule.load_state_dict(state["lr_scheduler"])
        if self.ema is not None:
            self.ema.load_state_dict(state["ema"])
        for s, objective, generator in zip(self.local_shards, self.objectives, self.generators):
            objective.load_state_dict(state["shards"][s]["objective"])
            generator.set_state(state["shards"][s]["generator"])
        self.epoch, self.step_in_epoch = state["epoch"], state["step_in_epoch"]
        self.global_step, self.history = state["global_step"], list(state["history"])

    def save(self) -> None:
        """Write the checkpoint (no-op without a checkpoint path). Under torch.distributed every
        rank contributes its chains and generator; rank 0 writes."""
        if not self.checkpoint:
            return
        if not _all_finite(self.params):
            self._diverged("a weight is NaN or Inf: not saved")
        state = self.state_dict()
        if not self.rank:
            save_checkpoint({"trainer": state, **self.extra}, self.checkpoint)

    @classmethod
    def resume(cls, checkpoint: str, model, objective, data, **kwargs) -> "Trainer":
        """A trainer restored from ``checkpoint``: same arguments as the original run, on any
        number of processes that divides the checkpoint's shards (``shards`` defaults to the
        checkpoint's)."""
        state = load_checkpoint(checkpoint)
        if "trainer" not in state or "shards" not in state["trainer"]:
            raise CheckpointError(f"{checkpoint} holds no trainer state of this version")
        if kwargs.get("shards") is None:
            kwargs["shards"] = len(state["trainer"]["shards"])
        trainer = cls(model, objective, data, checkpoint=checkpoint, **kwargs)
        try:
            trainer.load_state_dict(state["trainer"])
        except CheckpointError as exc:
            raise CheckpointError(f"{checkpoint}: {exc}") from None
        return trainer
