"""The diffusion family's ops: fused reverse steps of DDPM (Ho et al. 2020) and DDIM (Song et al.
2021) with per-sample timesteps and no host synchronisation, and the Gaussian and binomial
reverse kernels of Sohl-Dickstein et al. 2015; their fake (meta) kernels.

ᾱ = alphas_cumprod [T]: ᾱ_t = Π_{s<=t} (1 - β_s), in (0, 1) and strictly decreasing.
"""

from __future__ import annotations

import torch

from .fake_checks import (check_float_tensor, check_same_kind, check_same_shape, check_scalar,
                          register_out_fake)
from .half import half_precision
from .outputs import into

from .seeds import op_seed

#: The DDPM reverse variances: σ² = β̃_t = β_t(1-ᾱ_{t-1})/(1-ᾱ_t) or σ² = β_t.
VARIANCES = ("fixed_small", "fixed_large")


def timesteps(t, x: torch.Tensor, name: str = "t") -> torch.Tensor:
    """t as the int64 tensor of the ops, on x's device: [1] for an int or a 0-d tensor (every
    row's timestep: the op runs x as one row), or a [B] integer tensor as it is (one timestep per
    sample, B = x.shape[0])."""
    if isinstance(t, bool) or not isinstance(t, (int, torch.Tensor)):
        raise TypeError(f"{name} must be an int or an integer tensor, got {type(t).__name__}")
    if not isinstance(x, torch.Tensor) or x.dim() < 1:
        raise ValueError(f"x_t must be a tensor [B, ...] with a batch dimension, got "
                         f"{list(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__}")
    if isinstance(t, int) and not -2**63 <= t < 2**63:
        raise ValueError(f"{name} must be a timestep in [0, T) (int64), got {t}")
    if isinstance(t, int):
        return torch.full((1,), t, dtype=torch.int64, device=x.device)
    if t.is_floating_point() or t.is_complex() or t.dtype == torch.bool:
        raise ValueError(f"fastebm: argument '{name}' must be an integer tensor, got {t.dtype}")
    return (t.reshape(1) if t.dim() == 0 else t).to(torch.int64)


def cumulative_alphas(alphas_cumprod, x: torch.Tensor) -> torch.Tensor:
    """ᾱ [T] in x's dtype; a list or array is refused (it would be copied to the device at every
    step: make it a tensor once)."""
    if not isinstance(alphas_cumprod, torch.Tensor):
        raise TypeError(f"alphas_cumprod must be a torch.Tensor [T] (e.g. torch.tensor(values, "
                        f"device=x_t.device), made once), got {type(alphas_cumprod).__name__}")
    return alphas_cumprod.to(x.dtype)


@half_precision(exempt=("alphas_cumprod",))
def ddpm_step(x_t: torch.Tensor, noise_pred: torch.Tensor, t, alphas_cumprod: torch.Tensor, *,
              variance: str = "fixed_small", clip_sample: float | None = None,
              generator: torch.Generator | None = None, noise: torch.Tensor | None = None,
              out: torch.Tensor | None = None) -> torch.Tensor:
    """One DDPM reverse step x_t -> x_{t-1} (Ho et al. 2020, ε-prediction), one fused pass:

        x̂₀ = (x_t - √(1-ᾱ_t)·ε)/√ᾱ_t   (clamped to ±clip_sample if given),
        μ = √ᾱ_{t-1}β_t/(1-ᾱ_t)·x̂₀ + √α_t(1-ᾱ_{t-1})/(1-ᾱ_t)·x_t,  β_t = 1 - ᾱ_t/ᾱ_{t-1},
        x_{t-1} = μ + σ_t·z,  σ_t² = β_t(1-ᾱ_{t-1})/(1-ᾱ_t) ("fixed_small") or β_t ("fixed_large"),
        ᾱ_{-1} = 1 and no noise at t = 0.

    Args:
        x_t: [B, ...] float32 or float64.
        noise_pred: the network's predicted noise ε̂(x_t, t), x_t's shape.
        t: int (every sample's), or int tensor [B] (a timestep per sample), in [0, T).
        alphas_cumprod: ᾱ [T] (cast to x_t's dtype), in (0, 1), strictly decreasing.
        variance: "fixed_small" or "fixed_large". clip_sample: > 0 or None.
        generator: source of the op's seed (z keyed by (seed, element)). noise: z given instead.
        out: written instead of a fresh tensor (x_t's shape, dtype and device, contiguous; may be
            x_t itself, so a loop keeps one buffer).

    Returns x_{t-1} [B, ...]. The coefficients are read from ᾱ on the device per row: no host
    synchronisation (value checks aside, see fastebm.set_cuda_value_checks). Not differentiable:
    the result carries no autograd graph (a sampling step; train through the network's loss).
    """
    if variance not in VARIANCES:
        raise ValueError(f"variance must be one of {VARIANCES}, got {variance!r}")
    seed, cuda_generator = op_seed(generator, noise=noise)
    return into(torch.ops.fastebm.ddpm_step, out,
                x_t, noise_pred, timesteps(t, x_t), cumulative_alphas(alphas_cumprod, x_t),
                VARIANCES.index(variance), None if clip_sample is None else float(clip_sample),
                noise, seed, cuda_generator)


@half_precision(exempt=("alphas_cumprod",))
def ddim_step(x_t: torch.Tensor, noise_pred: torch.Tensor, t, t_prev, alphas_cumprod: torch.Tensor,
              eta: float = 0.0, *, generator: torch.Generator | None = None,
              noise: torch.Tensor | None = None, out: torch.Tensor | None = None) -> torch.Tensor:
    """One DDIM step x_t -> x_{t_prev} (Song et al. 2021), one fused pass:

        σ = η·√((1-ᾱ_p)/(1-ᾱ_t))·√(1-ᾱ_t/ᾱ_p),
        x_p = √ᾱ_p·x̂₀ + √(1-ᾱ_p-σ²)·ε + σ·z,  x̂₀ = (x_t - √(1-ᾱ_t)·ε)/√ᾱ_t,

    ᾱ_p = ᾱ_{t_prev}, or 1 for t_prev = -1 (the last step, to x₀). η = 0 is deterministic.

    Args:
        x_t, noise_pred: [B, ...]. t, t_prev: ints or int tensors [B], -1 <= t_prev < t < T.
        alphas_cumprod: ᾱ [T]. eta: η >= 0. generator, noise, out: as :func:`ddpm_step`.

    Returns x_{t_prev} [B, ...], without an autograd graph (as :func:`ddpm_step`).
    """
    seed, cuda_generator = op_seed(generator, noise=noise)
    return into(torch.ops.fastebm.ddim_step, out,
                x_t, noise_pred, timesteps(t, x_t), timesteps(t_prev, x_t, "t_prev"),
                cumulative_alphas(alphas_cumprod, x_t), float(eta), noise, seed, cuda_generator)


@half_precision
def gaussian_diffusion_step(x_t: torch.Tensor, mu: torch.Tensor, var: torch.Tensor,
                            noise_var: torch.Tensor, *, generator: torch.Generator | None = None,
                            noise: torch.Tensor | None = None,
                            out: torch.Tensor | None = None) -> torch.Tensor:
    """The reverse step of Sohl-Dickstein et al. 2015's Gaussian diffusion, with the paper's
    parameterisation of the network's outputs (m, b) at x_t fused in:

        x_{t-1} ~ N(μ, σ²),  μ = x_t·√(1-β_t) + m·√β_t,  σ² = sigmoid(b + logit β_t).

    Args:
        x_t, mu (m), var (b): [B, ...]. noise_var: β_t [B] in (0, 1) (per sample), or a float or
            [1] tensor (every sample's: the op runs x as one row).
        generator, noise, out: as :func:`ddpm_step`.
    """
    if not isinstance(noise_var, torch.Tensor):
        noise_var = torch.full((1,), float(noise_var), dtype=x_t.dtype, device=x_t.device)
    seed, cuda_generator = op_seed(generator, noise=noise)
    return into(torch.ops.fastebm.gaussian_diffusion_step, out, x_t, mu, var, noise_var, noise,
                seed, cuda_generator)


@half_precision
def binomial_diffusion_step(p: torch.Tensor, *, generator: torch.Generator | None = None,
                            out: torch.Tensor | None = None) -> torch.Tensor:
    """x ~ Bernoulli(p) element-wise (p in [0, 1], any shape): a step of Sohl-Dickstein et al.
    2015's binomial diffusion, forward (p = x(1-β) + β/2) or reverse (p from the network);
    ``out`` as :func:`ddpm_step`'s (p's shape; may be p itself)."""
    return into(torch.ops.fastebm.binomial_diffusion_step, out, p, *op_seed(generator))


# ---------------------------------------------------------------- fake kernels

def _check_batched(x, name):
    check_float_tensor(x, name, x.dim())
    if x.dim() < 1:
        raise ValueError(f"fastebm: argument '{name}' must have a batch dimension, got a scalar")


def _check_timesteps(t, name, x):
    if t.dim() != 1 or t.dtype != torch.int64:
        raise ValueError(f"fastebm: argument '{name}' must be a 1-D int64 tensor of timesteps, "
                         f"got {t.dtype} of shape {list(t.shape)}")
    if t.device != x.device:
        raise ValueError(f"fastebm: argument '{name}' is on {t.device} but 'x_t' is on {x.device}")
    _check_per_row(t, name, x)


def _check_per_row(v, name, x):
    if v.shape[0] not in (1, x.shape[0]):
        raise ValueError(f"fastebm: argument '{name}' has shape {list(v.shape)} but must have one "
                         f"value per row of 'x_t' ({x.shape[0]}) or one for every row (1)")


def _reverse_fake(x_t, noise_pred, t, t_prev, alphas_cumprod, noise):
    _check_batched(x_t, "x_t")
    check_same_shape(noise_pred, "noise_pred", x_t, "x_t")
    if noise is not None:
        check_same_shape(noise, "noise", x_t, "x_t")
    _check_timesteps(t, "t", x_t)
    if t_prev is not None:
        _check_timesteps(t_prev, "t_prev", x_t)
    check_float_tensor(alphas_cumprod, "alphas_cumprod", 1)
    check_same_kind(alphas_cumprod, "alphas_cumprod", x_t, "x_t")
    if alphas_cumprod.shape[0] < 1:
        raise ValueError("fastebm: argument 'alphas_cumprod' is empty")
    return torch.empty_like(x_t, memory_format=torch.contiguous_format)


@torch.library.register_fake("fastebm::ddpm_step")
def _ddpm_step_fake(x_t, noise_pred, t, alphas_cumprod, variance, clip_sample, noise, seed,
                    generator=None):
    out = _reverse_fake(x_t, noise_pred, t, None, alphas_cumprod, noise)
    if variance not in (0, 1):
        raise ValueError(f"fastebm: argument 'variance' must be 0 (fixed_small) or 1 "
                         f"(fixed_large), got {variance}")
    if clip_sample is not None:
        check_scalar(clip_sample, "clip_sample", x_t.dtype, positive=True)
    return out


@torch.library.register_fake("fastebm::ddim_step")
def _ddim_step_fake(x_t, noise_pred, t, t_prev, alphas_cumprod, eta, noise, seed, generator=None):
    out = _reverse_fake(x_t, noise_pred, t, t_prev, alphas_cumprod, noise)
    check_scalar(eta, "eta", x_t.dtype)
    if eta < 0:
        raise ValueError(f"fastebm: argument 'eta' must be >= 0, got {eta:g}")
    return out


@torch.library.register_fake("fastebm::gaussian_diffusion_step")
def _gaussian_diffusion_step_fake(x_t, mu, var, noise_var, noise, seed, generator=None):
    _check_batched(x_t, "x_t")
    check_same_shape(mu, "mu", x_t, "x_t")
    check_same_shape(var, "var", x_t, "x_t")
    if noise is not None:
        check_same_shape(noise, "noise", x_t, "x_t")
    check_float_tensor(noise_var, "noise_var", 1)
    check_same_kind(noise_var, "noise_var", x_t, "x_t")
    _check_per_row(noise_var, "noise_var", x_t)
    return torch.empty_like(x_t, memory_format=torch.contiguous_format)


@torch.library.register_fake("fastebm::binomial_diffusion_step")
def _binomial_diffusion_step_fake(p, seed, generator=None):
    check_float_tensor(p, "p", p.dim())
    return torch.empty_like(p, memory_format=torch.contiguous_format)


for _name, _fake, _like in (("ddpm_step", _ddpm_step_fake, "x_t"), ("ddim_step", _ddim_step_fake, "x_t"),
                            ("gaussian_diffusion_step", _gaussian_diffusion_step_fake, "x_t"),
                            ("binomial_diffusion_step", _binomial_diffusion_step_fake, "p")):
    register_out_fake(_name, _fake, _like)
