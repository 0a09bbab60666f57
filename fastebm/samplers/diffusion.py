"""Ancestral sampling of an ε-prediction diffusion model: DDPM (Ho et al. 2020) over every
timestep, or DDIM (Song et al. 2021) over an evenly spaced subset, each step one fused op
(ops.ddpm_step / ops.ddim_step) after one denoiser call."""

from __future__ import annotations

import torch
from tqdm.auto import tqdm

from .. import ops
from ..checks import check_count, check_generator, check_real
from ..models.diffusion import NoiseSchedule

METHODS = ("ddpm", "ddim")


class ReverseDiffusionSampler:
    """x_T ~ N(0, I) -> x_0 by the reverse process of ``denoiser`` under ``schedule``.

    Args:
        denoiser: ``net(x_t, t) -> ε̂`` (x_t [B, ...], t int64 [B]), e.g. models.MLPDenoiser.
        schedule: the NoiseSchedule it was trained under.
        method: "ddpm" (every t from T-1 to 0) or "ddim".
        steps: DDIM's number of steps (timesteps ⌊k·T/steps⌋, k = steps-1 .. 0); DDPM: T.
        eta: DDIM's η (0: deterministic; 1: DDPM-like noise).
        variance: DDPM's "fixed_small" (β̃_t) or "fixed_large" (β_t).
        clip_sample: bound on x̂₀ at each step, or None.
        progress: a tqdm bar on runs longer than 2 seconds.
    """

    def __init__(self, denoiser, schedule: NoiseSchedule, *, method: str = "ddpm",
                 steps: int | None = None, eta: float = 0.0, variance: str = "fixed_small",
                 clip_sample: float | None = None, progress: bool = True):
        if not callable(denoiser):
            raise TypeError("denoiser must be callable: net(x_t, t) -> eps")
        if not isinstance(schedule, NoiseSchedule):
            raise TypeError(f"schedule must be a NoiseSchedule, got {type(schedule).__name__}")
        if method not in METHODS:
            raise ValueError(f"method must be one of {METHODS}, got {method!r}")
        if variance not in ops.diffusion.VARIANCES:
            raise ValueError(f"variance must be one of {ops.diffusion.VARIANCES}, got {variance!r}")
        self.denoiser, self.schedule, self.method = denoiser, schedule, method
        T = schedule.steps
        self.steps = T if steps is None else check_count(steps, "steps")
        if method == "ddpm" and self.steps != T:
            raise ValueError(f"DDPM steps through every timestep: steps must be T = {T} or None")
        if self.steps > T:
            raise ValueError(f"steps = {self.steps} exceeds the schedule's T = {T}")
        self.eta = check_real(eta, "eta", low=0.0)
        self.variance = variance
        self.clip_sample = None if clip_sample is None else check_real(
            clip_sample, "clip_sample", low=0.0, low_open=True)
        self.progress = progress

    def timesteps(self) -> list[int]:
        """The timesteps visited, from the noisiest down."""
        T = self.schedule.steps
        return [k * T // self.steps for k in range(self.steps - 1, -1, -1)]

    def initial_noise(self, n: int, event_shape, *, dtype=torch.float32, device="cpu",
                      generator: torch.Generator | None = None) -> torch.Tensor:
        """[n, *event_shape] x_T ~ N(0, I)."""
        check_count(n, "n")
        return ops.common.randn_like(torch.empty((n, *event_shape), dtype=dtype, device=device),
                                     generator)

    @torch.no_grad()
    def sample(self, x_T: torch.Tensor, *, generator: torch.Generator | None = None) -> torch.Tensor:
        """x_0 [B, ...] from x_T [B, ...]."""
        if not isinstance(x_T, torch.Tensor) or not x_T.is_floating_point() or x_T.dim() < 1:
            raise TypeError("x_T must be a floating-point tensor [B, ...]")
        if not torch.isfinite(x_T).all():
            raise ValueError("x_T contains NaN or Inf")
        check_generator(generator)
        ac = self.schedule.alphas_cumprod.to(x_T.device, x_T.dtype)
        B, x = x_T.shape[0], x_T
        ts = self.timesteps()
        for i in tqdm(range(len(ts)), delay=2.0, disable=not self.progress, leave=False,
                      desc=f"{self.method.upper()} sampling"):
            t = torch.full((B,), ts[i], dtype=torch.int64, device=x.device)
            eps = self.denoiser(x, t)
            if self.method == "ddpm":
                x = ops.ddpm_step(x, eps, t, ac, variance=self.variance,
                                  clip_sample=self.clip_sample, generator=generator)
            else:
                t_prev = ts[i + 1] if i + 1 < len(ts) else -1
                x = ops.ddim_step(x, eps, t, t_prev, ac, self.eta, generator=generator)
        return x
