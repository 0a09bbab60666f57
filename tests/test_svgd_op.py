"""svgd_rbf against dense float64 formulas and numpy's median: φ for n up to 1,000 (relative
error 1e-9 in float64, 1e-4 in float32), the exact median bandwidth for odd and even pair
counts, from all pairs (small sets) and by counting passes (large sets, a misleading sample
included), with duplicate particles (ties, and a median of 0), d = 1, far-from-origin
particles, and the batched form against per-set calls."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from fastebm import ops, reference


def numpy_bandwidth(x: torch.Tensor) -> float:
    """med / log(n + 1) with numpy's median over the pairs i < j (float64 distances)."""
    a = x.double().numpy()
    n = len(a)
    i, j = np.triu_indices(n, 1)
    med = np.median(((a[i] - a[j]) ** 2).sum(1))
    return med / math.log(n + 1) if med > 0 else 1.0


def relative_error(phi: torch.Tensor, x: torch.Tensor, score: torch.Tensor, h) -> float:
    expected, _ = reference.svgd_rbf(x.double(), score.double(), float(h))
    return float((phi.double() - expected).abs().max() / expected.abs().max())


@pytest.mark.parametrize("dtype,tol", [(torch.float64, 1e-9), (torch.float32, 1e-4)])
@pytest.mark.parametrize("n,d", [(2, 1), (3, 3), (64, 1), (255, 7), (1000, 16), (999, 2)])
def test_phi_and_median_bandwidth_against_dense_float64(dtype, tol, n, d):
    g = torch.Generator().manual_seed(n * 100 + d)
    x = (3 * torch.randn(n, d, generator=g, dtype=torch.float64) - 2).to(dtype)
    score = torch.randn(n, d, generator=g, dtype=torch.float64).to(dtype)
    phi, h = ops.svgd_rbf(x, score)
    assert h.dtype == dtype and h.shape == ()
    assert abs(float(h) / numpy_bandwidth(x) - 1) < (1e-12 if dtype == torch.float64 else 1e-6)
    assert relative_error(phi, x, score, h) < tol
    phi_h, _ = ops.svgd_rbf(x, score, 0.37)
    assert relative_error(phi_h, x, score, 0.37) < tol


@pytest.mark.parametrize("n", [4, 5, 30, 31])  # pair counts 6, 10, 435, 465: even and odd
def test_median_with_ties_and_duplicates(n):
    """Particles on a coarse grid make many equal distances (ties at the median); duplicates
    add zero distances; numpy's mean of the two middle values for even counts."""
    g = torch.Generator().manual_seed(n)
    x = torch.randint(0, 3, (n, 2), generator=g).double()
    x[1] = x[0]
    for dtype, rel in ((torch.float64, 1e-12), (torch.float32, 1e-7)):  # float32 h: rounded once
        _, h = ops.svgd_rbf(x.to(dtype), torch.zeros(n, 2, dtype=dtype))
        assert float(h) == pytest.approx(numpy_bandwidth(x), rel=rel)


@pytest.mark.parametrize("n,grid", [(1500, False), (1502, False), (1502, True)])
def test_median_by_counting_passes_on_large_sets(n, grid):
    """Past 256 particles the median comes from counting passes bracketed by a sample: even
    (1500) and odd (1502) pair counts, float32 and float64, and ties (particles on a grid)."""
    g = torch.Generator().manual_seed(n)
    x = (torch.randint(0, 4, (n, 3), generator=g).double() if grid
         else torch.randn(n, 3, generator=g, dtype=torch.float64))
    for dtype, rel in ((torch.float64, 1e-12), (torch.float32, 1e-6)):
        _, h = ops.svgd_rbf(x.to(dtype), torch.zeros(n, 3, dtype=dtype))
        assert float(h) == pytest.approx(numpy_bandwidth(x.to(dtype)), rel=rel)


def test_median_when_the_sample_misleads():
    """Every second particle at the origin: the strided sample sees only zero distances, its
    bracket misses the median, and the passes fall back to every key."""
    g = torch.Generator().manual_seed(5)
    x = torch.randn(2000, 2, generator=g, dtype=torch.float64)
    x[::2] = 0
    for dtype, rel in ((torch.float64, 1e-12), (torch.float32, 1e-6)):
        _, h = ops.svgd_rbf(x.to(dtype), torch.zeros(2000, 2, dtype=dtype))
        assert float(h) == pytest.approx(numpy_bandwidth(x.to(dtype)), rel=rel)


def test_all_particles_equal_gives_bandwidth_one():
    x = torch.full((6, 3), 2.5, dtype=torch.float64)
    score = torch.randn(6, 3, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    phi, h = ops.svgd_rbf(x, score)
    assert float(h) == 1.0
    torch.testing.assert_close(phi, score.mean(0).expand(6, 3))  # k = 1: φ = mean score


def test_far_from_the_origin_and_tiny_spread():
    """Centring keeps float32 accurate for particles at 1e4 spread by 0.1 (the float32 spacing
    there is 1e-3; the dense formulas in float32 lose the distances)."""
    g = torch.Generator().manual_seed(1)
    x = (1e4 + 0.1 * torch.randn(300, 3, generator=g, dtype=torch.float64)).float()
    score = torch.randn(300, 3, generator=g, dtype=torch.float64).float()
    phi, h = ops.svgd_rbf(x, score)
    exact = x.double()
    expected, h64 = reference.svgd_rbf(exact - exact.mean(0), score.double())
    assert float(h) == pytest.approx(float(h64), rel=1e-3)
    assert float((phi.double() - expected).abs().max() / expected.abs().max()) < 1e-3


def test_batched_equals_per_set_calls():
    g = torch.Generator().manual_seed(2)
    x = torch.randn(4, 123, 5, generator=g, dtype=torch.float64) * torch.tensor([1, 2, 3, 4.0])[:, None, None]
    score = torch.randn(4, 123, 5, generator=g, dtype=torch.float64)
    phi, h = ops.svgd_rbf(x, score)
    assert h.shape == (4,)
    for s in range(4):
        one, h_s = ops.svgd_rbf(x[s], score[s])
        assert torch.equal(phi[s], one) and torch.equal(h[s], h_s)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_rows_are_those_rows_of_the_whole_call_bit_for_bit(dtype):
    """A rank's share of distributed SVGD: any row range (block-aligned or not, one particle, all
    of them) of a set large enough for the median's counting passes, batched and not."""
    g = torch.Generator().manual_seed(5)
    x = (3 * torch.randn(2, 600, 7, generator=g, dtype=torch.float64) + 1).to(dtype)
    score = torch.randn(2, 600, 7, generator=g, dtype=torch.float64).to(dtype)
    whole, h = ops.svgd_rbf(x, score)
    for begin, end in ((0, 600), (0, 300), (300, 600), (3, 4), (123, 457)):
        part, h_part = ops.svgd_rbf(x, score, rows=(begin, end))
        assert part.shape == (2, end - begin, 7) and torch.equal(h_part, h)
        assert torch.equal(part, whole[:, begin:end])
        one, _ = ops.svgd_rbf(x[1], score[1], 0.8, rows=(begin, end))
        assert torch.equal(one, ops.svgd_rbf(x[1], score[1], 0.8)[0][begin:end])
