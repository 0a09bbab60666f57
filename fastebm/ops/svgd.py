"""The SVGD family's op: the Stein variational direction with the RBF kernel, tiled (the n×n
kernel is never stored), with the exact median bandwidth."""

from __future__ import annotations

from typing import NamedTuple

import torch

from ..checks import check_integer, check_number
from .fake_checks import check_float_tensor, check_scalar, check_same_shape
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
    if x.dim() not in (2, 3):
        raise ValueError(f"fastebm: argument 'x' must be [n, d] or [S, n, d] particles, got shape "
                         f"{list(x.shape)}")
    check_float_tensor(x, "x", x.dim())
    check_same_shape(score, "score", x, "x")
    if x.shape[-2] < 2:
        raise ValueError(f"fastebm: argument 'x' needs at least 2 particles per set, got n = "
                         f"{x.shape[-2]}")
    if x.shape[-1] < 1 or (x.dim() == 3 and x.shape[0] < 1):
        raise ValueError(f"fastebm: argument 'x' has an empty dimension: {list(x.shape)}")
    if bandwidth is not None:
        check_scalar(bandwidth, "bandwidth", x.dtype, positive=True)
        if bandwidth < torch.finfo(x.dtype).tiny:
            raise ValueError(f"fastebm: argument 'bandwidth' is {bandwidth:g}, below the smallest "
                             f"normal {x.dtype} ({torch.finfo(x.dtype).tiny:g})")
    n = x.shape[-2]
    begin, end = (0, n) if rows is None else _row_range(rows, n)
    return x.new_empty((*x.shape[:-2], end - begin, x.shape[-1])), x.new_empty(x.shape[:-2])


def _row_range(rows, n: int) -> tuple[int, int]:
    """(begin, end) of a valid ``rows``; the op's message for a bad one."""
    if len(rows) != 2:
        raise ValueError(f"fastebm: argument 'rows' must be [begin, end), got {list(rows)}")
    begin, end = rows
    if not 0 <= begin < end <= n:
        raise ValueError(f"fastebm: argument 'rows' must be [begin, end) with 0 <= begin < end <= "
                         f"n = {n}, got [{begin}, {end})")
    return begin, end
