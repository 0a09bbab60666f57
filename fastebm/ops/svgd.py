"""The SVGD family's ops: the Stein variational direction with the RBF kernel and the kernel Stein
discrepancy's Stein kernel times weights, both tiled (no n×n matrix is ever stored), and the exact
median of the squared pair distances that sets their bandwidths."""

from __future__ import annotations

from typing import NamedTuple

import torch

from ..checks import check_integer, check_number
from .fake_checks import (check_float_tensor, check_same_kind, check_same_shape, check_scalar,
                          check_size)
from .half import half_precision


class SteinDirection(NamedTuple):
    """The Stein variational direction ``phi`` [..., n, d] and the RBF ``bandwidth`` h it used
    ([] or [S])."""

    phi: torch.Tensor
    bandwidth: torch.Tensor


@half_precision
def svgd_rbf(x: torch.Tensor, score: torch.Tensor, bandwidth: float | None = None,
             rows: tuple[int, int] | None = None) -> SteinDirection:
    """SteinDirection(φ, h) for particles x and their scores ∇log p(x), both [n, d] or [S, n, d] (S independent
    particle sets), with k(x, y) = exp(-‖x - y‖²/h) (Liu & Wang 2016):

        φᵢ = (1/n) Σⱼ [k(xⱼ, xᵢ) scoreⱼ + (2/h) k(xⱼ, xᵢ) (xᵢ - xⱼ)].

    h = ``bandwidth``, or (None) med / log(n + 1) per set with med the exact median of
    ‖xᵢ - xⱼ‖² over the n(n-1)/2 pairs i < j (numpy's median: the mean of the two middle values
    for an even count; h = 1 when med = 0): from all pairs for sets of at most 256 particles,
    else by counting passes over distances computed on the fly, bracketed by a sample's
    quantiles. Extra memory O(n·d). h: [] or [S], x's dtype. Not differentiable (φ is an update
    direction).

    ``rows`` = (begin, end): φ of particles begin .. end - 1 alone ([..., end - begin, d]), the
    sums still over all n particles: those rows of the whole call, bit for bit (a rank's share
    of distributed SVGD)."""
    if bandwidth is not None:
        bandwidth = check_number(bandwidth, "bandwidth")
    if rows is not None:
        rows = [check_integer(r, "rows") for r in rows]
    return SteinDirection(*torch.ops.fastebm.svgd_rbf.default(x, score, bandwidth, rows))


@torch.library.register_fake("fastebm::svgd_rbf")
def _svgd_rbf_fake(x, score, bandwidth, rows=None):
    _check_particles(x)
    check_same_shape(score, "score", x, "x")
    if bandwidth is not None:
        _check_bandwidth(bandwidth, x.dtype)
    n = x.shape[-2]
    begin, end = (0, n) if rows is None else _row_range(rows, n)
    return x.new_empty((*x.shape[:-2], end - begin, x.shape[-1])), x.new_empty(x.shape[:-2])


@half_precision
def pair_distance_median(x: torch.Tensor) -> torch.Tensor:
    """The exact median of ‖xᵢ - xⱼ‖² over the n(n-1)/2 pairs i < j of particles x [n, d]
    ([] out) or of each set of x [S, n, d] ([S] out): numpy's median (the mean of the two middle
    values for an even count), the one ``svgd_rbf``'s default bandwidth divides by log(n + 1).
    Extra memory O(n·d)."""
    return torch.ops.fastebm.pair_distance_median.default(x)


#: The base kernels of ``stein_kernel_matvec`` (and of ``fastebm.ksd``).
STEIN_KERNELS = ("rbf", "imq")


@half_precision
def stein_kernel_matvec(x: torch.Tensor, score: torch.Tensor, weights: torch.Tensor,
                        bandwidth: float, kernel: str = "rbf", beta: float = -0.5,
                        diagonal: bool = True) -> torch.Tensor:
    """U w [n, m] for particles x [n, d], their scores sᵢ = ∇log p(xᵢ) [n, d] and weights
    w [n, m], U the Stein kernel of the kernel Stein discrepancy (Liu, Lee & Jordan 2016;
    Chwialkowski et al. 2016) with r = xᵢ - xⱼ, a = 2/h:

        u(xᵢ, xⱼ) = sᵢᵀsⱼ k + sᵢᵀ∇ⱼk + sⱼᵀ∇ᵢk + tr ∇ᵢ∇ⱼk,
        "rbf": k = exp(-‖r‖²/h),        u = k [sᵢᵀsⱼ + a sᵢᵀr - a sⱼᵀr + a d - a² ‖r‖²]
        "imq": k = (1 + ‖r‖²/h)^beta,   -1 < beta < 0 (Gorham & Mackey 2017)

    (U w)ᵢ = Σⱼ u(xᵢ, xⱼ) wⱼ, j = i left out when ``diagonal`` is False (the U-statistic). Tiled
    as ``svgd_rbf`` (U is never stored: extra memory O(n·(d + m))); deterministic, not
    differentiable. ``fastebm.ksd`` builds the discrepancy and its test on it."""
    bandwidth = check_number(bandwidth, "bandwidth")
    beta = check_number(beta, "beta")
    if kernel not in STEIN_KERNELS:
        raise ValueError(f"fastebm: argument 'kernel' must be 'rbf' or 'imq', got {kernel!r}")
    if not isinstance(diagonal, bool):
        raise TypeError(f"diagonal must be a bool, got {type(diagonal).__name__}")
    return torch.ops.fastebm.stein_kernel_matvec.default(x, score, weights, bandwidth, kernel,
                                                         beta, diagonal)


@torch.library.register_fake("fastebm::pair_distance_median")
def _pair_distance_median_fake(x):
    _check_particles(x)
    return x.new_empty(x.shape[:-2])


@torch.library.register_fake("fastebm::stein_kernel_matvec")
def _stein_kernel_matvec_fake(x, score, weights, bandwidth, kernel="rbf", beta=-0.5,
                              diagonal=True):
    if x.dim() != 2:
        raise ValueError(f"fastebm: argument 'x' must be [n, d] particles, got shape "
                         f"{list(x.shape)}")
    check_same_shape(score, "score", x, "x")
    check_float_tensor(weights, "weights", 2)
    check_same_kind(weights, "weights", x, "x")
    check_size(weights, "weights", 0, x.shape[0], "n, the number of particles")
    if weights.shape[1] < 1:
        raise ValueError(f"fastebm: argument 'weights' needs at least one column, got shape "
                         f"{list(weights.shape)}")
    _check_particles(x)
    _check_bandwidth(bandwidth, x.dtype)
    if kernel not in STEIN_KERNELS:
        raise ValueError(f"fastebm: argument 'kernel' must be 'rbf' or 'imq', got '{kernel}'")
    if not -1 < beta < 0:
        raise ValueError(f"fastebm: argument 'beta' (the IMQ kernel's power) must lie in (-1, 0), "
                         f"got {beta:g}")
    return weights.new_empty(weights.shape)


def _check_particles(x):
    """The op's messages for particles x [n, d] / [S, n, d] it cannot take."""
    if x.dim() not in (2, 3):
        raise ValueError(f"fastebm: argument 'x' must be [n, d] or [S, n, d] particles, got shape "
                         f"{list(x.shape)}")
    check_float_tensor(x, "x", x.dim())
    if x.shape[-2] < 2:
        raise ValueError(f"fastebm: argument 'x' needs at least 2 particles per set, got n = "
                         f"{x.shape[-2]}")
    if x.shape[-1] < 1 or (x.dim() == 3 and x.shape[0] < 1):
        raise ValueError(f"fastebm: argument 'x' has an empty dimension: {list(x.shape)}")


def _check_bandwidth(bandwidth, dtype):
    check_scalar(bandwidth, "bandwidth", dtype, positive=True)
    if bandwidth < torch.finfo(dtype).tiny:
        raise ValueError(f"fastebm: argument 'bandwidth' is {bandwidth:g}, below the smallest "
                         f"normal {dtype} ({torch.finfo(dtype).tiny:g})")


def _row_range(rows, n: int) -> tuple[int, int]:
    """(begin, end) of a valid ``rows``; the op's message for a bad one."""
    if len(rows) != 2:
        raise ValueError(f"fastebm: argument 'rows' must be [begin, end), got {list(rows)}")
    begin, end = rows
    if not 0 <= begin < end <= n:
        raise ValueError(f"fastebm: argument 'rows' must be [begin, end) with 0 <= begin < end <= "
                         f"n = {n}, got [{begin}, {end})")
    return begin, end
