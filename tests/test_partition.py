"""Partition functions: exact enumeration against brute force, AIS / reverse AIS / bridge
sampling against exact log Z, and the fused rbm_ais op against its oracle."""

import functools
import math

import pytest
import torch

from fastebm import data, ops, reference
from fastebm.models import BernoulliRBM, GaussianBernoulliRBM
from fastebm.objectives import PCD
from fastebm.partition import (ais, base_rate_biases, bridge_sampling, exact_log_z,
                               log_likelihood, reverse_ais, sm_betas)
from fastebm.training.trainer import Trainer

from conftest import DEVICES, DTYPES
from stats import all_states
from test_rbm_models import random_rbm


def brute_force_log_z(model):
    """log Σ_v Σ_h exp(-E(v, h)) over both layers."""
    v, h = all_states(model.n_visible), all_states(model.n_hidden)
    E = torch.stack([model.energy(v, hh.expand(len(v), -1)) for hh in h], 1)
    return torch.logsumexp(-E.flatten(), 0)


@pytest.mark.parametrize("V,H", [(3, 5), (6, 4), (5, 5), (1, 7)])
def test_exact_log_z_against_brute_force(V, H):
    model = random_rbm(V, H, seed=V * 10 + H, scale=0.8)
    torch.testing.assert_close(exact_log_z(model), brute_force_log_z(model))


def test_exact_log_z_known_answers():
    # W = 0: Z factorises, log Z = Σ softplus(b) + Σ softplus(c).
    model = random_rbm(4, 3, seed=1)
    with torch.no_grad():
        model.W.zero_()
    expected = torch.nn.functional.softplus(model.b).sum() + torch.nn.functional.softplus(model.c).sum()
    torch.testing.assert_close(exact_log_z(model), expected)
    # One visible and one hidden unit, W = 1, b = c = 0: Z = 1 + 1 + 1 + e.
    single = BernoulliRBM(1, 1, dtype=torch.float64)
    with torch.no_grad():
        single.W.fill_(1.0)
    assert math.isclose(float(exact_log_z(single)), math.log(3 + math.e), rel_tol=1e-12)


def test_exact_log_z_grbm_against_quadrature():
    """V = 1: Z = Σ_h ∫ exp(-E(v, h)) dv by the trapezoid rule on a wide grid."""
    model = random_rbm(1, 3, seed=7, scale=0.6, cls=GaussianBernoulliRBM)
    grid = torch.linspace(-30, 30, 200001, dtype=torch.float64)[:, None]
    density = torch.exp(-model.free_energy(grid)).detach()
    log_z = math.log(torch.trapezoid(density, grid[:, 0]))
    assert math.isclose(float(exact_log_z(model)), log_z, rel_tol=1e-8)


def test_exact_log_z_refuses_large_models():
    with pytest.raises(ValueError, match="ais"):
        exact_log_z(BernoulliRBM(100, 64))


def test_log_likelihood_sums_to_one():
    model = random_rbm(5, 3, seed=2)
    ll = log_likelihood(model, all_states(5), exact_log_z(model))
    assert math.isclose(float(torch.logsumexp(ll, 0)), 0.0, abs_tol=1e-10)


def test_sm_schedule():
    betas = sm_betas()
    assert len(betas) == 14500 and betas[0] == 0.0 and betas[-1] == 1.0
    assert all(b1 >= b0 for b0, b1 in zip(betas, betas[1:]))
    assert len(sm_betas(1000)) == 1000


# ---------------------------------------------------------------- the rbm_ais op

@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_rbm_ais_op_matches_reference(device, dtype):
    model = random_rbm(13, 7, seed=3)
    W, b, c = (p.detach().to(device, dtype) for p in (model.W, model.b, model.c))
    base_b = torch.randn(13, dtype=dtype, generator=torch.Generator().manual_seed(0)).to(device)
    v0 = torch.bernoulli(torch.full((9, 13), 0.5, dtype=dtype)).to(device)
    betas = [0.0, 0.1, 0.35, 0.5, 0.8, 1.0]
    log_w, v = torch.ops.fastebm.rbm_ais(v0, W, b, c, base_b, betas, 5)
    ref_w, ref_v = reference.rbm_ais(v0, W, b, c, base_b, betas, 5)
    if dtype == torch.float64:
        assert torch.equal(v, ref_v)
        torch.testing.assert_close(log_w, ref_w)
    else:  # a float32 draw may flip where u is within rounding of σ(·)
        assert (v != ref_v).float().mean() < 0.05


def test_rbm_ais_op_checks_and_opcheck():
    model = random_rbm(5, 4)
    W, b, c = (p.detach() for p in (model.W, model.b, model.c))
    v0 = torch.ones(3, 5, dtype=torch.float64)
    torch.library.opcheck(torch.ops.fastebm.rbm_ais.default, (v0, W, b, c, b.clone(), [0.0, 0.5, 1.0], 1))
    with pytest.raises(ValueError, match="betas"):
        ops.rbm_ais(v0, W, b, c, b, [0.0])
    with pytest.raises(ValueError, match="betas"):
        ops.rbm_ais(v0, W, b, c, b, [0.0, 1.5])
    with pytest.raises(ValueError, match="base_b"):
        ops.rbm_ais(v0, W, b, c, b[:2], [0.0, 1.0])
    with pytest.raises(ValueError, match="base_b"):
        ops.rbm_ais(v0, W, b, c, b * float("nan"), [0.0, 1.0])
    with pytest.raises(ValueError, match="v0"):
        ops.rbm_ais(v0[:, :2], W, b, c, b, [0.0, 1.0])
    with pytest.raises(ValueError, match="monotone"):
        ais(model, 4, betas=[0.0, 0.6, 0.4, 1.0])
    with pytest.raises(ValueError, match="n_chains"):
        ais(model, 0)
    with pytest.raises(TypeError):
        ais(torch.nn.Linear(3, 2), 4)


# ---------------------------------------------------------------- estimators vs exact

@functools.lru_cache(maxsize=1)
def trained_digits_rbm():
    """A 64-16 RBM after 10 PCD epochs on digits (built once per session; not mutated)."""
    split = data.digits()
    model = BernoulliRBM(64, 16, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        model.b.copy_(base_rate_biases(split.train, 64))
    Trainer(model, PCD(100, 1), split.train, lr=5e-3, progress=False).fit(10)
    return model, split


def random_20x12():
    model = BernoulliRBM(20, 12)
    g = torch.Generator().manual_seed(11)
    with torch.no_grad():
        model.W.copy_(0.5 * torch.randn(20, 12, generator=g))
        model.b.copy_(0.5 * torch.randn(20, generator=g))
        model.c.copy_(0.5 * torch.randn(12, generator=g))
    return model


@pytest.mark.parametrize("which", ["random_20x12", "digits_64x16"])
def test_ais_and_reverse_ais_bracket_exact(which):
    if which == "random_20x12":
        model, train = random_20x12(), None
        v_init = model.sample(200, 1000, generator=torch.Generator().manual_seed(1))
    else:
        model, split = trained_digits_rbm()
        train, v_init = split.train, split.train[:200]
    exact = float(exact_log_z(model))
    g = torch.Generator().manual_seed(2)
    fwd = ais(model, 200, 14500, data=train, generator=g)
    rev = reverse_ais(model, v_init, 14500, data=train, generator=g)
    assert abs(fwd.log_z - exact) < 0.1 and abs(rev.log_z - exact) < 0.1
    # AIS is a stochastic lower bound, reverse AIS an upper one: within 3 standard errors.
    assert fwd.log_z < exact + 3 * fwd.stderr
    assert rev.log_z > exact - 3 * rev.stderr
    assert 0 < fwd.stderr < 0.1 and 0 < rev.stderr < 0.1


def test_blocked_ais_brackets_exact_and_checks_blocks():
    """Chains in 4 blocks with their own generators (as on 4 ranks): still within 0.1 nats."""
    model = random_20x12()
    exact = float(exact_log_z(model))
    g = torch.Generator().manual_seed(2)
    v_init = model.sample(200, 1000, generator=torch.Generator().manual_seed(1))
    fwd = ais(model, 200, 14500, generator=g, blocks=4)
    rev = reverse_ais(model, v_init, 14500, generator=g, blocks=4)
    assert abs(fwd.log_z - exact) < 0.1 and abs(rev.log_z - exact) < 0.1
    assert len(fwd.log_weights) == 200 and len(rev.log_weights) == 200
    with pytest.raises(ValueError, match="blocks"):
        ais(model, 3, 10, blocks=4)
    with pytest.raises(ValueError, match="blocks"):
        ais(model, 3, 10, blocks=0)
    with pytest.raises(RuntimeError, match="torch.distributed"):
        ais(model, 3, 10, distributed=True)


def test_ais_tolerance_has_power():
    """The 0.1-nat check above can fail: from a uniform base model with 3 betas, AIS on the
    digits RBM is off by nats."""
    model, _ = trained_digits_rbm()
    est = ais(model, 200, betas=[0.0, 0.5, 1.0], generator=torch.Generator().manual_seed(0))
    assert est.log_z < float(exact_log_z(model)) - 1.0


def test_bridge_sampling_between_two_models():
    model_b = random_20x12()
    model_a = random_20x12()
    with torch.no_grad():
        model_a.W.mul_(0.8)
        model_a.c.mul_(0.5)
    g = torch.Generator().manual_seed(3)
    samples_a = model_a.sample(4000, 500, generator=g)
    samples_b = model_b.sample(4000, 500, generator=g)
    est = bridge_sampling(model_a, model_b, samples_a, samples_b,
                          log_z_a=float(exact_log_z(model_a)))
    assert abs(est.log_z - float(exact_log_z(model_b))) < 0.1
    assert 0 < est.stderr < 0.1
    with pytest.raises(ValueError):
        bridge_sampling(model_a, model_b, samples_a[:1], samples_b)


def test_grbm_ais_and_reverse_ais_bracket_exact():
    model = random_rbm(5, 8, seed=21, scale=0.5, cls=GaussianBernoulliRBM)
    exact = float(exact_log_z(model))
    g = torch.Generator().manual_seed(4)
    fwd = ais(model, 200, 3000, generator=g)
    rev = reverse_ais(model, model.sample(200, 500, generator=g), 3000, generator=g)
    assert abs(fwd.log_z - exact) < 0.1 and abs(rev.log_z - exact) < 0.1
    assert fwd.log_z < exact + 3 * fwd.stderr and rev.log_z > exact - 3 * rev.stderr
