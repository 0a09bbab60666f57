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
    med = pair_distance_median(x)
    return torch.where(med > 0, med / math.log(x.shape[1] + 1), torch.ones_like(med))


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


def pair_distance_median(x: torch.Tensor) -> torch.Tensor:
    """Oracle of ``fastebm.ops.pair_distance_median``: numpy's median of ‖xᵢ - xⱼ‖² over the pairs
    i < j of x [n, d] ([]) or of each set of x [S, n, d] ([S])."""
    x3 = x if x.dim() == 3 else x[None]
    n = x3.shape[1]
    i, j = torch.triu_indices(n, n, 1)
    pairs = pair_distances(x3)[:, i, j].sort(1).values
    m = pairs.shape[1]
    med = 0.5 * (pairs[:, (m - 1) // 2] + pairs[:, m // 2])
    return med if x.dim() == 3 else med[0]


def stein_kernel(x: torch.Tensor, score: torch.Tensor, bandwidth: float, kernel: str = "rbf",
                 beta: float = -0.5) -> torch.Tensor:
    """[n, n] Stein kernel u(xᵢ, xⱼ) = sᵢᵀsⱼ k + sᵢᵀ∇ⱼk + sⱼᵀ∇ᵢk + tr ∇ᵢ∇ⱼk of x, score [n, d]
    with k(x, y) = exp(-‖x - y‖²/h) ("rbf") or (1 + ‖x - y‖²/h)^beta ("imq"), its terms
    written out densely: with r = xᵢ - xⱼ, ∇ᵢk = k'(‖r‖²) 2r, ∇ⱼk = -k'(‖r‖²) 2r,
    tr ∇ᵢ∇ⱼk = -2d k'(‖r‖²) - 4‖r‖² k''(‖r‖²)."""
    d = x.shape[1]
    r = x[:, None, :] - x[None, :, :]                               # [n, n, d]
    r2 = r.square().sum(-1)
    if kernel == "rbf":
        k = torch.exp(-r2 / bandwidth)
        k1, k2 = -k / bandwidth, k / bandwidth**2                   # k', k''
    else:
        q = 1 + r2 / bandwidth
        k = q**beta
        k1 = beta * q ** (beta - 1) / bandwidth
        k2 = beta * (beta - 1) * q ** (beta - 2) / bandwidth**2
    s_i_r = (score[:, None, :] * r).sum(-1)
    s_j_r = (score[None, :, :] * r).sum(-1)
    return (score @ score.T * k - 2 * k1 * s_i_r + 2 * k1 * s_j_r
            - 2 * d * k1 - 4 * r2 * k2)


def stein_kernel_matvec(x, score, weights, bandwidth, kernel="rbf", beta=-0.5, diagonal=True):
    """Oracle of ``fastebm.ops.stein_kernel_matvec``: the dense U (diagonal zeroed when not
    ``diagonal``) times weights [n, m]."""
    u = stein_kernel(x, score, bandwidth, kernel, beta)
    if not diagonal:
        u = u - torch.diag_embed(u.diagonal())
    return u @ weights
