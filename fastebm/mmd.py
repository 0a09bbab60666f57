"""Maximum mean discrepancy (Gretton et al. 2012) between two samples: how far a model's samples
are from held-out data."""

from __future__ import annotations

from collections.abc import Sequence

import torch

from .checks import check_tensor_finite


def mmd2(x: torch.Tensor, y: torch.Tensor, bandwidths: Sequence[float] = (0.1, 0.3, 1.0)) -> float:
    """The unbiased estimate of MMD² (the U-statistic) between x [n, ...] and y [m, ...] with the
    kernel k(a, b) = Σ_ℓ exp(-‖a - b‖² / (2ℓ²)) over ``bandwidths`` ℓ (suited to standardised
    data):

        MMD² = mean_{i≠j} k(xᵢ, xⱼ) + mean_{i≠j} k(yᵢ, yⱼ) - 2 mean_{i,j} k(xᵢ, yⱼ).

    0 in expectation when x and y come from one distribution; O(n·m) memory."""
    if not (isinstance(x, torch.Tensor) and isinstance(y, torch.Tensor)):
        raise TypeError("x and y must be tensors")
    x, y = x.detach().flatten(1).double(), y.detach().flatten(1).double()
    if len(x) < 2 or len(y) < 2 or x.shape[1] != y.shape[1]:
        raise ValueError(f"x and y need >= 2 samples of one size, got {list(x.shape)} and {list(y.shape)}")
    check_tensor_finite(x, "x")
    check_tensor_finite(y, "y")

    def kernel(a, b):
        d2 = torch.cdist(a, b).square()
        return sum(torch.exp(-d2 / (2 * bw**2)) for bw in bandwidths)

    def within(a):
        k = kernel(a, a)
        return (k.sum() - k.diagonal().sum()) / (len(a) * (len(a) - 1))

    return float(within(x) + within(y) - 2 * kernel(x, y).mean())
