"""What every sampler of a continuous energy (Langevin / MALA, HMC) shares: argument checks,
chain starts (uniform in a box or N(0, I)), the step loop with progress, Ctrl-C between steps and
step-size adaptation to a target acceptance rate, and a persistent replay buffer
(Du & Mordatch 2019). A sampler supplies one transition, ``_step``.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from tqdm.auto import tqdm

from ..checks import check_count, check_generator, check_real
from ..models.energy import check_states, energy_and_grad
from .cuda_graph import GraphedLoops, graph_generator


def _check_box(box) -> tuple[float, float] | None:
    if box is None:
        return None
    if not isinstance(box, (tuple, list)) or len(box) != 2:
        raise TypeError(f"box must be a (low, high) pair or None, got {box!r}")
    low, high = check_real(box[0], "box[0]"), check_real(box[1], "box[1]")
    if not low < high:
        raise ValueError(f"box must have low < high, got {box!r}")
    return low, high


class ContinuousSampler:
    """Chains on an EnergyFunction's p(x) ∝ exp(-E(x)) (models/energy.py).

    Args:
        model: an EnergyFunction (``event_shape``, ``energy``, optional ``energy_and_grad``).
        step_size: ε > 0.
        n_steps: transitions per :meth:`sample` call.
        box: (low, high) bounds of every coordinate, or None (see the sampler for how it keeps
            chains inside).
        buffer_size: > 0 keeps a persistent replay buffer of that many states; :meth:`sample`
            then starts its chains from buffer states (a fraction ``reinit_prob`` from ``init``)
            and writes the results back. 0: every call starts from ``init``.
        reinit_prob: in [0, 1].
        init: (n, generator) -> [n, *event_shape] chain starts; default uniform in the box, or
            N(0, I) without one.
        target_accept: for a Metropolis-adjusted sampler: the acceptance rate :meth:`run` steers
            ε to when ``adapt``.
        adapt_rate: the adaptation's gain: log ε += adapt_rate · (acceptance - target).
        progress: show a tqdm bar on runs longer than 2 seconds.
        cuda_graph: run each :meth:`run`'s step loop as one CUDA graph (samplers/cuda_graph.py:
            CUDA chains, a CUDA generator or None for the device's default one; no ``adapt``).
    """

    #: Whether the transition is Metropolis-adjusted (has an acceptance rate).
    adjusted = True

    def __init__(self, model, step_size: float, n_steps: int = 1, *, box=None,
                 buffer_size: int = 0, reinit_prob: float = 0.05, init: Callable | None = None,
                 target_accept: float | None = None, adapt_rate: float = 0.05,
                 progress: bool = True, cuda_graph: bool = False):
        if not hasattr(model, "energy") or not hasattr(model, "event_shape"):
            raise TypeError("model must have event_shape and energy(x) (models.energy.EnergyFunction)")
        self.model = model
        self.step_size = check_real(step_size, "step_size", low=0.0, low_open=True)
        self.n_steps = check_count(n_steps, "n_steps")
        self.box = _check_box(box)
        self.buffer_size = check_count(buffer_size, "buffer_size", 0)
        self.reinit_prob = check_real(reinit_prob, "reinit_prob", low=0.0, high=1.0)
        if init is not None and not callable(init):
            raise TypeError("init must be callable (n, generator) -> states, or None")
        self.init = init
        if target_accept is not None:
            if not self.adjusted:
                raise ValueError("target_accept needs a Metropolis-adjusted sampler (mala=True): "
                                 "an unadjusted one has no acceptance rate")
            target_accept = check_real(target_accept, "target_accept", low=0.0, high=1.0,
                                       low_open=True, high_open=True)
        self.target_accept = target_accept
        self.adapt_rate = check_real(adapt_rate, "adapt_rate", low=0.0)
        self.progress = progress
        self.cuda_graph = bool(cuda_graph)
        self._graphs = GraphedLoops()
        self.buffer: torch.Tensor | None = None
        self.accept_rate: float | None = None

    # ------------------------------------------------------------------ starts
    def initial_states(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """[n, *event_shape] chain starts from ``init``."""
        check_count(n, "n")
        if self.init is not None:
            return check_states(self.model, self.init(n, generator), "init(n, generator)")
        like = next(iter(self.model.parameters()), None) if hasattr(self.model, "parameters") else None
        dtype = torch.get_default_dtype() if like is None else like.dtype
        shape = (n, *self.model.event_shape)
        if self.box is None:
            x = torch.randn(shape, generator=generator, dtype=dtype)
        else:
            low, high = self.box
            x = low + (high - low) * torch.rand(shape, generator=generator, dtype=dtype)
        return x if like is None else x.to(like.device)

    # ------------------------------------------------------------------ chains
    def run(self, x: torch.Tensor, n_steps: int | None = None, *,
            generator: torch.Generator | None = None, adapt: bool = False) -> torch.Tensor:
        """n_steps (default: the sampler's) steps of every chain from x [B, *event_shape];
        returns the states. With ``adapt`` (an adjusted sampler with a target) ε follows the
        acceptance rate: use it in warm-up only (an adapting chain is not exactly p-invariant).
        ``accept_rate`` holds the run's mean acceptance."""
        x = check_states(self.model, x)
        n_steps = self.n_steps if n_steps is None else check_count(n_steps, "n_steps")
        check_generator(generator)
        if adapt and self.target_accept is None:
            raise ValueError("adapt=True needs a target_accept")
        if self.cuda_graph:
            if adapt:
                raise ValueError("adapt=True changes ε between steps, which a CUDA graph cannot: "
                                 "adapt in an eager run, then sample with cuda_graph=True")
            generator = graph_generator(x, generator)
            key = (tuple(x.shape), x.dtype, x.device, id(generator), n_steps, self.step_size)
            x, accepted = self._graphs.run(
                key, x, lambda start: self._loop(start, n_steps, generator, False), generator)
        else:
            fused = None if adapt else self._run_fused(x, n_steps, generator)
            if fused is not None:
                return fused
            x, accepted = self._loop(x, n_steps, generator, adapt)
        self.accept_rate = float(accepted) / n_steps if self.adjusted else None
        return x

    def _loop(self, x: torch.Tensor, n_steps: int, generator, adapt: bool
              ) -> tuple[torch.Tensor, torch.Tensor]:
        """(the states after n_steps steps from x, the sum over steps of the mean acceptance:
        a 0-d float64 tensor on x's device)."""
        state = energy_and_grad(self.model, x) if self.adjusted else None
        accepted = torch.zeros((), dtype=torch.float64, device=x.device)
        self._start = x  # the caller's tensor: a step may overwrite its own results, not it
        source = self._randomness(n_steps, generator)
        for _ in tqdm(range(n_steps), delay=2.0, disable=not self.progress, leave=False,
                      desc=type(self).__name__):
            x, state, acc = self._step(x, state, source)
            if acc is not None:
                accepted = accepted + acc.double().mean()
                if adapt:
                    rate = float(acc.double().mean())
                    self.step_size *= math.exp(self.adapt_rate * (rate - self.target_accept))
        self._start = None
        return x, accepted

    def _run_fused(self, x: torch.Tensor, n_steps: int, generator) -> torch.Tensor | None:
        """The whole run in one fused call where the sampler and model allow it (setting
        ``accept_rate``), else None: the step loop runs."""
        return None

    def _randomness(self, n_steps: int, generator):
        """What each of a run's n_steps steps draws from (handed to ``_step``): the generator."""
        return generator

    def _step(self, x: torch.Tensor, state, randomness):
        """One transition of every chain, drawing from ``randomness`` (``_randomness``):
        (x, (E(x), ∇E(x)) or None, accepted [B] or None)."""
        raise NotImplementedError

    def _outside_is_rejected(self, proposal: torch.Tensor, energy: torch.Tensor) -> torch.Tensor:
        """E(x') with +inf where the proposal left the box: p restricted to the box rejects it."""
        if self.box is None:
            return energy
        outside = ((proposal < self.box[0]) | (proposal > self.box[1])).flatten(1).any(1)
        return energy.masked_fill(outside, math.inf)

    def sample(self, n: int, *, generator: torch.Generator | None = None) -> torch.Tensor:
        """[n, *event_shape] states after ``n_steps`` steps: from fresh starts, or with a replay
        buffer from n buffer states (each re-initialised with probability ``reinit_prob``),
        which are then replaced by the results."""
        check_count(n, "n")
        if not self.buffer_size:
            return self.run(self.initial_states(n, generator), generator=generator)
        if n > self.buffer_size:
            raise ValueError(f"n = {n} exceeds buffer_size = {self.buffer_size}")
        if self.buffer is None:
            self.buffer = self.initial_states(self.buffer_size, generator)
        index = torch.randperm(self.buffer_size, generator=generator)[:n].to(self.buffer.device)
        start = self.buffer[index]
        fresh = torch.rand(n, generator=generator).to(start.device) < self.reinit_prob
        if fresh.any():
            start[fresh] = self.initial_states(int(fresh.sum()), generator).to(start)
        x = self.run(start, generator=generator)
        self.buffer[index] = x.detach()
        return x

    def state_dict(self) -> dict:
        return {"step_size": self.step_size, "buffer": self.buffer}

    def load_state_dict(self, state: dict) -> None:
        self.step_size = check_real(state["step_size"], "step_size", low=0.0, low_open=True)
        self.buffer = state["buffer"]
