"""The variational-inference family's op: the reparameterised Gaussian draw (Kingma & Welling
2014), fused, and its fake (meta) kernel; its autograd formula is C++ (csrc/vi_autograd.cpp)."""

from __future__ import annotations

import torch

from .fake_checks import check_float_tensor, check_same_shape
from .half import half_precision

from .seeds import op_seed


@half_precision
def reparameterize(mu: torch.Tensor, log_sigma: torch.Tensor, *,
                   generator: torch.Generator | None = None,
                   noise: torch.Tensor | None = None) -> torch.Tensor:
    """z = μ + exp(log σ) ⊙ ε, ε ~ N(0, I) drawn by the kernel's Philox (element i of the op's
    seed; or ε = ``noise``), in one fused pass; differentiable in mu and log_sigma (and noise):
    ∂z/∂μ = 1, ∂z/∂log σ = σ ⊙ ε, ∂z/∂ε = σ.

    Args:
        mu, log_sigma: any shape, the same, float32 or float64, finite.
        generator: source of the op's seed. noise: ε itself (mu's shape), instead of drawing.

    Returns:
        z, mu's shape (contiguous). Where no gradient is wanted (grad mode off, or no argument
        requires it) the op skips σ ⊙ ε, the backward pass's saved tensor.
    """
    seed, cuda_generator = op_seed(generator, noise=noise)
    wanted = torch.is_grad_enabled() and any(
        isinstance(a, torch.Tensor) and a.requires_grad for a in (mu, log_sigma, noise))
    return torch.ops.fastebm.reparameterize.default(mu, log_sigma, noise, seed, wanted,
                                                    cuda_generator)[0]


@torch.library.register_fake("fastebm::reparameterize")
def _reparameterize_fake(mu, log_sigma, noise, seed, keep_scaled=True, generator=None):
    check_float_tensor(mu, "mu", mu.dim())
    check_same_shape(log_sigma, "log_sigma", mu, "mu")
    if noise is not None:
        check_same_shape(noise, "noise", mu, "mu")
    z = torch.empty_like(mu, memory_format=torch.contiguous_format)
    return z, (torch.empty_like(z) if keep_scaled else mu.new_empty(0))
