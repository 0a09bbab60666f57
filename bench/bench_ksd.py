"""The kernel Stein discrepancy side by side in one process, float32, RBF kernel at a given
bandwidth, the score given:

- KSD² (the U-statistic): fastebm's tiled ``stein_kernel_matvec`` with w = 1 (every CPU ISA path
  at 5,000 × 16, the best path elsewhere) against the dense PyTorch way — the n × n Stein kernel
  from ``torch.cdist`` and three Gram matrices (sᵢᵀsⱼ, sᵢᵀxⱼ), then its off-diagonal sum — eager
  and under ``torch.compile``;
- the goodness-of-fit test with 1,000 wild-bootstrap draws: fastebm (one tiled pass over
  [1, ε₁, .., ε₁₀₀₀]) against the dense Stein kernel times the same weights (one GEMM), beside the
  GEMM floor of that product (2 n² × 1,001 flop at the machine's float32 GEMM rate).

The dense forms hold n² floats several times over (5,000 particles: ~0.5 GB); fastebm holds the
particles, scores and weights.
"""

from __future__ import annotations

import torch

from fastebm import ops

from common import isa_paths, markdown_table, on_path, side_by_side

GRID = [(1000, 2), (5000, 2), (2000, 16), (5000, 16)]
QUICK_GRID = [(1000, 2), (2000, 16)]
DRAWS = 1000
ISA_SHAPE = (5000, 16)


def dense_stein_kernel(x: torch.Tensor, s: torch.Tensor, h: float) -> torch.Tensor:
    """[n, n] u(xᵢ, xⱼ) = k [sᵢᵀsⱼ + a (sᵢᵀr - sⱼᵀr) + a d - a² ‖r‖²], r = xᵢ - xⱼ, a = 2/h."""
    d, a = x.shape[1], 2 / h
    r2 = torch.cdist(x, x).square()
    s_dot_x = s @ x.T                                   # sᵢᵀxⱼ
    own = (s * x).sum(1)                                 # sᵢᵀxᵢ
    cross = (own[:, None] - s_dot_x) - (s_dot_x.T - own[None, :])  # sᵢᵀr - sⱼᵀr
    return torch.exp(-r2 / h) * (s @ s.T + a * cross + a * d - a * a * r2)


def dense_ksd2(x: torch.Tensor, s: torch.Tensor, h: float) -> torch.Tensor:
    u = dense_stein_kernel(x, s, h)
    n = x.shape[0]
    return (u.sum() - u.diagonal().sum()) / (n * (n - 1))


def contenders(n: int, d: int, isas: list[str]) -> tuple[dict, dict]:
    g = torch.Generator().manual_seed(0)
    x = torch.randn(n, d, generator=g)
    s = -x + 0.1 * torch.randn(n, d, generator=g)
    h = float(ops.pair_distance_median(x))
    ones = torch.ones(n, 1)
    signs = torch.cat([ones, torch.randint(0, 2, (n, DRAWS), generator=g).float() * 2 - 1], 1)
    compiled = torch.compile(dense_ksd2)
    statistic = {isa: on_path(isa, lambda: ops.stein_kernel_matvec(x, s, ones, h, diagonal=False))
                 for isa in isas}
    statistic |= {"dense": lambda: dense_ksd2(x, s, h), "compiled": lambda: compiled(x, s, h)}
    test = {isa: on_path(isa, lambda: ops.stein_kernel_matvec(x, s, signs, h)) for isa in isas}
    test["dense"] = lambda: dense_stein_kernel(x, s, h) @ signs
    return statistic, test


def run(min_run_time: float = 1.0, gemm_gflops: float = 100.0, quick: bool = False) -> str:
    best = isa_paths()[0]
    stat_rows, test_rows = [], []
    for n, d in QUICK_GRID if quick else GRID:
        isas = isa_paths() if (n, d) == ISA_SHAPE else [best]
        statistic, test = contenders(n, d, isas)
        ts, tt = side_by_side(statistic, min_run_time), side_by_side(test, min_run_time)
        floor = 2 * n * n * (DRAWS + 1) / (gemm_gflops * 1e9)
        for isa in isas:
            stat_rows.append([f"{n:,} × {d}", isa, f"{ts[isa] * 1e3:.1f}",
                              f"{ts['dense'] * 1e3:.1f}", f"{ts['compiled'] * 1e3:.1f}",
                              f"**{ts['dense'] / ts[isa]:.1f}×**",
                              f"**{ts['compiled'] / ts[isa]:.1f}×**"])
            test_rows.append([f"{n:,} × {d}", isa, f"{tt[isa] * 1e3:.0f}",
                              f"{tt['dense'] * 1e3:.0f}", f"**{tt['dense'] / tt[isa]:.2f}×**",
                              f"{floor * 1e3:.0f}", f"{tt[isa] / floor:.1f}×"])
    return ("### KSD² (U-statistic), float32, ms\n\n"
            + markdown_table(["n × d", "ISA path", "fastebm", "dense PyTorch", "torch.compile",
                              "vs dense", "vs compile"], stat_rows)
            + f"\n\n### KSD test with {DRAWS:,} bootstrap draws, float32, ms\n\n"
            + markdown_table(["n × d", "ISA path", "fastebm", "dense PyTorch (GEMM)",
                              "vs dense", "GEMM floor", "fastebm / floor"], test_rows))


if __name__ == "__main__":
    from common import machine_floor, machine_line

    floor = machine_floor()
    print(machine_line(floor) + "\n")
    print(run(gemm_gflops=floor["gemm_gflops"]))
