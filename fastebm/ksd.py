"""The kernel Stein discrepancy (Liu, Lee & Jordan 2016; Chwialkowski, Strathmann & Gretton 2016)
between a sample and a model known only through its score ∇log p (an unnormalised density is
enough), and its goodness-of-fit test.

With the Stein kernel u of ``fastebm.ops.stein_kernel_matvec`` (the Stein operator applied to both
arguments of an RBF or IMQ kernel), KSD²(q, p) = E_{x, x' ~ q} u(x, x'): zero when q = p and, for
these kernels, positive otherwise. From x₁..xₙ ~ q:

    U-statistic  KSD²_u = Σ_{i≠j} u(xᵢ, xⱼ) / (n (n-1))     (unbiased; 0 in expectation under p)
    V-statistic  KSD²_v = Σ_{i,j} u(xᵢ, xⱼ) / n²            (biased, ≥ 0)

Under p, n·KSD² is a degenerate statistic whose null law the wild bootstrap reproduces:
B* = Σ εᵢ εⱼ u(xᵢ, xⱼ) / (same normaliser) with Rademacher εᵢ; the p-value is
(1 + #{B* ≥ KSD²}) / (1 + bootstrap draws). The statistic and every bootstrap draw come from one
tiled pass (U times [1, ε₁, .., ε_B]), O(n·(d + B)) memory.
"""

from __future__ import annotations

from typing import Callable, NamedTuple

import torch

from . import ops
from .checks import check_choice, check_count, check_real

#: The statistics ``ksd2`` and ``ksd_test`` compute.
STATISTICS = ("u", "v")


class KSDTest(NamedTuple):
    """A goodness-of-fit test's outcome: the statistic KSD² (U or V), its wild-bootstrap
    ``p_value`` (small: the sample did not come from the model) and the bandwidth h used."""

    ksd2: float
    p_value: float
    bandwidth: float


def score_of(energy: Callable[[torch.Tensor], torch.Tensor]
             ) -> Callable[[torch.Tensor], torch.Tensor]:
    """The score x -> ∇log p(x) = -∇ₓ E(x) of an energy ``energy`` (x [n, ...] -> [n]; a model's
    ``energy`` or ``free_energy``), by autograd: what ``ksd2`` and ``ksd_test`` take for a model
    known up to its normaliser."""
    def score(x: torch.Tensor) -> torch.Tensor:
        with torch.enable_grad():
            x = x.detach().requires_grad_(True)
            (grad,) = torch.autograd.grad(energy(x).sum(), x)
        return -grad
    return score


def _scores(x: torch.Tensor, score) -> torch.Tensor:
    """The model's score at x [n, d]: ``score`` itself, or ``score(x)`` for a callable; detached."""
    if callable(score):
        score = score(x.detach())
    if not isinstance(score, torch.Tensor):
        raise TypeError(f"score must be a tensor of ∇log p at x or a callable x -> ∇log p(x), "
                        f"got {type(score).__name__}")
    return score.detach()


def _bandwidth(x: torch.Tensor, bandwidth: float | None) -> float:
    """``bandwidth`` checked, or the median heuristic: the median squared pair distance (1 when
    it is 0), the scale at which the kernel sees the sample."""
    if bandwidth is not None:
        return check_real(bandwidth, "bandwidth", low=0.0, low_open=True)
    median = float(ops.pair_distance_median(x.detach()))
    return median if median > 0 else 1.0


def _check_samples(x) -> None:
    if not isinstance(x, torch.Tensor) or x.dim() != 2:
        raise ValueError(f"x must be [n, d] samples, got "
                         f"{list(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__}")


def _stein_sums(x: torch.Tensor, score, weights: torch.Tensor, kernel: str,
                bandwidth: float | None, beta: float, statistic: str):
    """(Σᵢ wᵢ_b (U w)ᵢ_b / normaliser for each column b of weights [n, m], in float64; h)."""
    check_choice(statistic, STATISTICS, "statistic")
    h = _bandwidth(x, bandwidth)
    s = _scores(x, score)
    uw = ops.stein_kernel_matvec(x.detach(), s, weights, h, kernel, beta,
                                 diagonal=statistic == "v")
    n = x.shape[0]
    normaliser = n * n if statistic == "v" else n * (n - 1)
    return (weights.double() * uw.double()).sum(0) / normaliser, h


def ksd2(x: torch.Tensor, score: torch.Tensor | Callable[[torch.Tensor], torch.Tensor],
         kernel: str = "rbf", bandwidth: float | None = None, beta: float = -0.5,
         statistic: str = "u") -> float:
    """KSD² of samples x [n, d] against the model whose score ∇log p is ``score`` ([n, d] at x,
    or a callable x -> ∇log p(x)): the U-statistic (unbiased, may be < 0) or the V-statistic
    (≥ 0). ``kernel`` "rbf" (exp(-‖r‖²/h)) or "imq" ((1 + ‖r‖²/h)^beta, -1 < beta < 0, which
    also detects non-convergence of heavy tails, Gorham & Mackey 2017); h = ``bandwidth`` or
    the median squared pair distance. Lower is closer; only differences far above the
    statistic's spread mean anything — ``ksd_test`` says which."""
    _check_samples(x)
    ones = torch.ones(x.shape[0], 1, dtype=x.dtype, device=x.device)
    sums, _ = _stein_sums(x, score, ones, kernel, bandwidth, beta, statistic)
    return float(sums[0])


def ksd_test(x: torch.Tensor, score: torch.Tensor | Callable[[torch.Tensor], torch.Tensor],
             kernel: str = "rbf", bandwidth: float | None = None, beta: float = -0.5,
             statistic: str = "v", n_bootstrap: int = 1000,
             generator: torch.Generator | None = None) -> KSDTest:
    """The KSD goodness-of-fit test of H₀: x [n, d] (i.i.d.) came from the model with score
    ``score``. The statistic as ``ksd2`` (V by default, Chwialkowski et al. 2016); its null law by
    ``n_bootstrap`` Rademacher wild-bootstrap draws from ``generator`` (on x's device; the
    default generator when None). p ~ uniform on (0, 1] under H₀; reject at level α when
    p ≤ α."""
    n_bootstrap = check_count(n_bootstrap, "n_bootstrap")
    _check_samples(x)
    signs = torch.randint(0, 2, (x.shape[0], n_bootstrap), generator=generator,
                          device=x.device).to(x.dtype).mul_(2).sub_(1)
    weights = torch.cat([torch.ones_like(signs[:, :1]), signs], 1)  # [n, 1 + B]
    sums, h = _stein_sums(x, score, weights, kernel, bandwidth, beta, statistic)
    stat, draws = sums[0], sums[1:]
    p_value = (1 + int((draws >= stat).sum())) / (1 + n_bootstrap)
    return KSDTest(float(stat), p_value, h)
