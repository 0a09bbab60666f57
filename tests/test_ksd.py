"""The kernel Stein discrepancy and its goodness-of-fit test (fastebm.ksd): the dense Stein kernel
against its definition by autograd, the U-statistic's mean against quadrature of E u(x, x'),
p-values uniform under the model and small away from it. The op's contract (oracle, ISA paths,
bad inputs) runs from tests/opspec.py."""

import numpy as np
import pytest
import torch
from scipy import stats

from fastebm import ops, reference
from fastebm.ksd import ksd2, ksd_test, score_of


def gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def stein_kernel_by_autograd(x, score_fn, h, kernel, beta):
    """u(xᵢ, xⱼ) = sᵢᵀsⱼ k + sᵢᵀ∇ⱼk + sⱼᵀ∇ᵢk + tr ∇ᵢ∇ⱼk, each derivative of k by autograd."""
    def k(a, b):
        r2 = (a - b).square().sum()
        return torch.exp(-r2 / h) if kernel == "rbf" else (1 + r2 / h) ** beta

    n, d = x.shape
    u = torch.empty(n, n, dtype=x.dtype)
    for i in range(n):
        for j in range(n):
            a, b = x[i].clone().requires_grad_(), x[j].clone().requires_grad_()
            kij = k(a, b)
            grad_a, grad_b = torch.autograd.grad(kij, (a, b), create_graph=True)
            trace = sum(torch.autograd.grad(grad_b[c], a, retain_graph=True)[0][c] for c in range(d))
            si, sj = score_fn(x[i]), score_fn(x[j])
            u[i, j] = (si @ sj * kij + si @ grad_b + sj @ grad_a + trace).detach()
    return u


@pytest.mark.parametrize("kernel,beta", [("rbf", -0.5), ("imq", -0.5), ("imq", -0.3)])
def test_the_dense_stein_kernel_is_its_definition(kernel, beta):
    x = torch.randn(6, 3, generator=gen(0), dtype=torch.float64)
    A = torch.randn(3, 3, generator=gen(1), dtype=torch.float64)
    score_fn = lambda z: -z @ A @ A.T + 0.3  # noqa: E731  (any smooth score will do)
    expected = stein_kernel_by_autograd(x, score_fn, 1.7, kernel, beta)
    got = reference.stein_kernel(x, score_fn(x), 1.7, kernel, beta)
    torch.testing.assert_close(got, expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("kernel", ["rbf", "imq"])
def test_the_u_statistic_is_unbiased_for_the_population_ksd(kernel):
    """q = N(0.4, 1) against p = N(0, 1) in 1-D: the mean of 300 U-statistics (n = 60) matches
    E_{x, x' ~ q} u(x, x') by 80-point Gauss-Hermite quadrature within 4 standard errors, and the
    population value is far from 0."""
    mu, h = 0.4, 1.5
    nodes, w = np.polynomial.hermite_e.hermegauss(80)
    grid = torch.tensor(nodes + mu)[:, None]
    weights = torch.tensor(w / w.sum())
    exact = float(weights @ reference.stein_kernel(grid, -grid, h, kernel) @ weights)
    g = gen(2)
    values = []
    for _ in range(300):
        x = torch.randn(60, 1, generator=g, dtype=torch.float64) + mu
        values.append(ksd2(x, -x, kernel=kernel, bandwidth=h))
    values = np.array(values)
    se = values.std() / np.sqrt(len(values))
    assert exact > 10 * se
    assert abs(values.mean() - exact) < 4 * se, (values.mean(), exact, se)


@pytest.mark.parametrize("kernel,statistic", [("rbf", "v"), ("imq", "u")])
def test_p_values_are_uniform_when_the_sample_comes_from_the_model(kernel, statistic):
    g = gen(3)
    p_values = []
    for _ in range(150):
        x = torch.randn(120, 2, generator=g)
        p_values.append(ksd_test(x, -x, kernel, statistic=statistic, n_bootstrap=300,
                                 generator=g).p_value)
    assert stats.kstest(p_values, "uniform").pvalue > 1e-3


@pytest.mark.parametrize("kernel", ["rbf", "imq"])
@pytest.mark.parametrize("change", ["shifted", "wider"])
def test_a_sample_from_another_distribution_is_rejected(kernel, change):
    g = gen(4)
    z = torch.randn(300, 2, generator=g)
    x = z + 0.5 if change == "shifted" else 1.6 * z
    test = ksd_test(x, -x, kernel, generator=g)
    assert test.p_value <= 0.01, test


def test_the_v_statistic_is_never_negative_and_an_energys_score_is_the_tensor_one():
    g = gen(5)
    for _ in range(20):
        x = torch.randn(30, 3, generator=g, dtype=torch.float64)
        assert ksd2(x, -x, statistic="v") >= 0
    x = torch.randn(40, 2, generator=g, dtype=torch.float64)
    assert ksd2(x, score_of(lambda z: 0.5 * z.square().sum(1)), "imq") == ksd2(x, -x, "imq")


def test_the_median_bandwidth_is_the_svgd_median():
    """svgd_rbf's default h is the same median divided by log(n + 1)."""
    x = torch.randn(300, 4, generator=gen(6), dtype=torch.float64)
    h = ops.svgd_rbf(x, -x).bandwidth
    torch.testing.assert_close(ops.pair_distance_median(x) / np.log(301), h)
    assert ksd_test(x, -x, n_bootstrap=10).bandwidth == pytest.approx(float(
        ops.pair_distance_median(x)))


@pytest.mark.parametrize("call,match", [
    (lambda x: ksd2(x, -x, statistic="w"), "statistic"),
    (lambda x: ksd2(x[0], -x[0]), "x must be"),
    (lambda x: ksd2(x, -x, bandwidth=-1.0), "bandwidth"),
    (lambda x: ksd2(x, -x, kernel="gauss"), "kernel"),
    (lambda x: ksd2(x, -x[:, :1]), "score"),
    (lambda x: ksd2(x, -x, kernel="imq", beta=-2.0), "beta"),
    (lambda x: ksd_test(x, -x, n_bootstrap=0), "n_bootstrap"),
    (lambda x: ksd2(x, torch.full_like(x, float("nan"))), "score"),
])
def test_bad_input_is_refused_by_name(call, match):
    x = torch.randn(10, 2, generator=gen(7))
    with pytest.raises(ValueError, match=match):
        call(x)


def test_a_score_that_is_not_a_tensor_is_refused():
    x = torch.randn(10, 2, generator=gen(8))
    with pytest.raises(TypeError, match="score"):
        ksd2(x, [1.0, 2.0])
