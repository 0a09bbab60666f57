"""Ancestral sampling of an ε-prediction diffusion model: DDPM (Ho et al. 2020) over every
timestep, or DDIM (Song et al. 2021) over an evenly spaced subset, each step one fused op
(ops.ddpm_step / ops.ddim_step) after one denoiser call."""

from __future__ import annotations

import torch
from tqdm.auto import tqdm

from .. import ops
from ..checks import check_choice, check_count, check_generator, check_real
from ..models.diffusion import (KNOWN_AT, R_POWERS, NoiseSchedule, check_inpainting, r_weight,
                                replace_known)
from ..ops.half import working_dtype
from .cuda_graph import GraphedLoops, graph_generator

METHODS = ("ddpm", "ddim")


class ReverseDiffusionSampler:
    """x_T ~ N(0, I) -> x_0 by the reverse process of ``denoiser`` under ``schedule``.

    Args:
        denoiser: ``net(x_t, t) -> ε̂`` (x_t [B, ...], t int64 [B]), e.g. models.MLPDenoiser.
        schedule: the NoiseSchedule it was trained under.
        method: "ddpm" (every t from T-1 to 0) or "ddim".
        n_steps: DDIM's number of steps (timesteps ⌊k·T/n_steps⌋, k = n_steps-1 .. 0); DDPM: T.
        eta: DDIM's η (0: deterministic; 1: DDPM-like noise).
        variance: DDPM's "fixed_small" (β̃_t) or "fixed_large" (β_t).
        clip_sample: bound on x̂₀ at each step, or None.
        progress: a tqdm bar on runs longer than 2 seconds.
        cuda_graph: run the whole reverse loop as one CUDA graph (samplers/cuda_graph.py: x_T
            on a GPU, a CUDA generator or None for the device's default one; without inpainting
            or r).
    """

    def __init__(self, denoiser, schedule: NoiseSchedule, *, method: str = "ddpm",
                 n_steps: int | None = None, eta: float = 0.0, variance: str = "fixed_small",
                 clip_sample: float | None = None, progress: bool = True,
                 cuda_graph: bool = False):
        if not callable(denoiser):
            raise TypeError("denoiser must be callable: net(x_t, t) -> eps")
        if not isinstance(schedule, NoiseSchedule):
            raise TypeError(f"schedule must be a NoiseSchedule, got {type(schedule).__name__}")
        if method not in METHODS:
            raise ValueError(f"method must be one of {METHODS}, got {method!r}")
        if variance not in ops.diffusion.VARIANCES:
            raise ValueError(f"variance must be one of {ops.diffusion.VARIANCES}, got {variance!r}")
        self.denoiser, self.schedule, self.method = denoiser, schedule, method
        T = schedule.n_timesteps
        self.n_steps = T if n_steps is None else check_count(n_steps, "n_steps")
        if method == "ddpm" and self.n_steps != T:
            raise ValueError(f"DDPM steps through every timestep: n_steps must be T = {T} or None")
        if self.n_steps > T:
            raise ValueError(f"n_steps = {self.n_steps} exceeds the schedule's T = {T}")
        self.eta = check_real(eta, "eta", low=0.0)
        self.variance = variance
        self.clip_sample = None if clip_sample is None else check_real(
            clip_sample, "clip_sample", low=0.0, low_open=True)
        self.progress = progress
        self.cuda_graph = bool(cuda_graph)
        self._graphs = GraphedLoops()

    def timesteps(self) -> list[int]:
        """The timesteps visited, from the noisiest down."""
        T = self.schedule.n_timesteps
        return [k * T // self.n_steps for k in range(self.n_steps - 1, -1, -1)]

    def sample(self, n: int, event_shape, *, dtype=torch.float32, device="cpu",
               generator: torch.Generator | None = None, **inpainting) -> torch.Tensor:
        """[n, *event_shape] samples x_0 from fresh x_T ~ N(0, I) (drawn from ``generator``,
        which then drives the steps); ``inpainting``: :meth:`run`'s known, mask and resample."""
        check_count(n, "n")
        check_generator(generator)
        x_T = ops.seeds.randn_like(torch.empty((n, *event_shape), dtype=dtype, device=device),
                                    generator)
        return self.run(x_T, generator=generator, **inpainting)

    @torch.no_grad()
    def run(self, x_T: torch.Tensor, *, known: torch.Tensor | None = None,
               mask: torch.Tensor | None = None, resample: int = 1, known_at: str = "renoised",
               log_r=None, r_power: str = "constant",
               generator: torch.Generator | None = None) -> torch.Tensor:
        """x_0 [B, ...] from x_T [B, ...].

        Inpainting (``known`` [B, ...] and a bool ``mask`` of x_T's shape, True where known):
        the model's p(x₀) multiplied by a delta on the known coordinates (Sohl-Dickstein et al.
        2015, section 2.5) by replacement: after every step the known coordinates are set to a
        draw of q(x_t' | known) at the step's new noise level t' (the known values themselves
        after the last step), so the unknown ones are denoised in their context (RePaint without
        resampling, Lugmayr et al. 2022). The known coordinates of the result are exactly
        ``known``. Replacement is approximate: the unknown coordinates' law is not exactly the
        model's conditional. ``resample`` = U > 1 takes each step U times, re-noising the result
        back to the step's level in between (RePaint's resampling with jump 1; U model calls per
        step), which brings it closer (tests/test_diffusion.py measures by how much).
        ``known_at="fixed"`` holds the known coordinates at ``known`` itself through the whole
        chain (the paper's delta r, the same at every t) instead of re-noising them: the network
        then sees clean values at noisy levels (tests/test_diffusion.py measures the bias).

        A smooth r (``log_r``: x [B, ...] -> log r(x) [B], differentiable; DDPM only) multiplies
        p(x₀) as the paper's section 2.5 states it: each step's Gaussian N(μ, σ_t²) is perturbed
        to N(μ + w_t σ_t² ∇log r(μ), σ_t²), w_t = 1 (``r_power="constant"``) or (T - t)/T
        (``"annealed"``: r^((T-t)/T) at step t)."""
        if not isinstance(x_T, torch.Tensor) or not x_T.is_floating_point() or x_T.dim() < 1:
            raise TypeError("x_T must be a floating-point tensor [B, ...]")
        if not torch.isfinite(x_T).all():
            raise ValueError("x_T contains NaN or Inf")
        check_generator(generator)
        known = check_inpainting(x_T, known, mask)
        resample = check_count(resample, "resample")
        fixed = check_choice(known_at, KNOWN_AT, "known_at") == "fixed"
        if log_r is not None and (not callable(log_r) or self.method != "ddpm"):
            raise ValueError("log_r must be callable, and r perturbs DDPM's Gaussian steps "
                             "(method='ddpm')")
        check_choice(r_power, R_POWERS, "r_power")
        ac = self.schedule.alphas_cumprod.to(x_T.device, working_dtype(x_T.dtype))
        ts = self.timesteps()
        if self.cuda_graph:
            if known is not None or log_r is not None:
                raise ValueError("cuda_graph=True runs the plain reverse loop: inpainting (known, "
                                 "mask) and r (log_r) need cuda_graph=False")
            generator = graph_generator(x_T, generator)
            key = (tuple(x_T.shape), x_T.dtype, x_T.device, id(generator))
            return self._graphs.run(key, x_T, lambda x: self._plain_loop(x, ts, ac, generator),
                                    generator)[0]
        x = x_T
        for i in tqdm(range(len(ts)), delay=2.0, disable=not self.progress, leave=False,
                      desc=f"{self.method.upper()} sampling"):
            t = ts[i]
            t_prev = ts[i + 1] if i + 1 < len(ts) else -1
            for u in range(resample if known is not None and t_prev >= 0 else 1):
                if u:  # back to level t: q(x_t | x_t_prev) = N(√(ᾱ_t/ᾱ_p) x, (1 - ᾱ_t/ᾱ_p) I)
                    ratio = ac[ts[i]] / ac[t_prev]
                    x = ratio.sqrt() * x + (1 - ratio).sqrt() * ops.seeds.randn_like(x, generator)
                if log_r is None:
                    x = self._step(x, t, t_prev, ac, generator, out=None if x is x_T else x)
                else:
                    weight = r_weight(r_power, t, self.schedule.n_timesteps)
                    x = self._perturbed_step(x, t, ac, generator, log_r, weight)
                if known is not None:
                    level = None if t_prev < 0 or fixed else ac[t_prev]  # None: known itself
                    x = replace_known(x, known, mask, level, generator)
        return x

    def _plain_loop(self, x: torch.Tensor, ts: list[int], ac: torch.Tensor, generator
                    ) -> tuple[torch.Tensor]:
        """(x_0,): every step written into x itself (the graphed loop's static buffer)."""
        for t, t_prev in zip(ts, ts[1:] + [-1]):
            x = self._step(x, t, t_prev, ac, generator, out=x)
        return (x,)

    def _perturbed_step(self, x, t: int, ac: torch.Tensor, generator, log_r,
                        weight: float) -> torch.Tensor:
        """DDPM's step from t with its mean moved by r: N(μ + weight σ_t² ∇log r(μ), σ_t²)."""
        noise_pred = self.denoiser(x, torch.full((len(x),), t, dtype=torch.int64, device=x.device))
        mean = ops.ddpm_step(x, noise_pred, t, ac, variance=self.variance,
                             clip_sample=self.clip_sample, noise=torch.zeros_like(x))
        if t == 0:
            return mean
        beta = 1 - ac[t] / ac[t - 1]
        var = beta if self.variance == "fixed_large" else beta * (1 - ac[t - 1]) / (1 - ac[t])
        with torch.enable_grad():
            at = mean.detach().requires_grad_()
            (grad,) = torch.autograd.grad(log_r(at).sum(), at)
        return mean + weight * var * grad + var.sqrt() * ops.seeds.randn_like(x, generator)

    def _step(self, x, t: int, t_prev: int, ac: torch.Tensor, generator,
              out: torch.Tensor | None) -> torch.Tensor:
        """One reverse step from level t to t_prev, one denoiser call (at t as int64 [B]; the
        step op takes the int: one coefficient row for the whole batch), written into ``out``
        (x itself after the first step: the loop keeps one buffer)."""
        noise_pred = self.denoiser(x, torch.full((len(x),), t, dtype=torch.int64, device=x.device))
        if self.method == "ddpm":
            return ops.ddpm_step(x, noise_pred, t, ac, variance=self.variance,
                                 clip_sample=self.clip_sample, generator=generator, out=out)
        return ops.ddim_step(x, noise_pred, t, t_prev, ac, self.eta, generator=generator,
                             out=out)
