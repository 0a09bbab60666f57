"""Oracle of the SVGD op: the dense n×n formulas, obviously right and O(n²) in memory."""

from __future__ import annotations

import math

import torch


def pair_distances(x: torch.Tensor) -> torch.Tensor:
    """[S, n, n] ‖xᵢ - xⱼ‖² of x [S, n, d] (the differences squared and summed)."""
    return (x[:, :, None, :] - x[:, None, :, :]).square().sum(-1)


def median_bandwidth(x: torch.Tensor) -> torch.Tensor:
    """[S] med / log(n + 1), med = numpy's median of ‖xᵢ - xⱼ‖² over the pairs i < j (1 when
    med = 0), for x [S, n, d]."""
    n = x.shape[1]
    i, j = torch.triu_indices(n, n, 1)
    pairs = pair_distances(x)[:, i, j].sort(1).values          # [S, n(n-1)/2]
    m = pairs.shape[1]
    med = 0.5 * (pairs[:, (m - 1) // 2] + pairs[:, m // 2])
    return torch.where(med > 0, med / math.log(n + 1), torch.ones_like(med))


def svgd_rbf(x: torch.Tensor, score: torch.Tensor, bandwidth: float | None = None,
             rows: tuple[int, int] | None = None):
    """Oracle of ``fastebm.ops.svgd_rbf``: K = exp(-D/h) dense, φ = (K score + (2/h)(x Σⱼ K -
    K x)) / n; ``rows`` (begin, end) keeps φ's particles begin .. end - 1."""
    batched = x.dim() == 3
    x3, s3 = (x, score) if batched else (x[None], score[None])
    h = (median_bandwidth(x3) if bandwidth is None
         else torch.full((x3.shape[0],), float(bandwidth), dtype=x.dtype, device=x.device))
    k = torch.exp(-pair_distances(x3) / h[:, None, None])         # [S, n, n]
    repulsion = x3 * k.sum(2, keepdim=True) - k @ x3
    phi = (k @ s3 + (2 / h[:, None, None]) * repulsion) / x3.shape[1]
    if rows is not None:
        phi = phi[:, rows[0]:rows[1]]
    return (phi, h) if batched else (phi[0], h[0])
