"""The Langevin family beyond the op contract: the ops against their formulas, and the samplers
against exact targets (a correlated Gaussian's moments, a bimodal mixture's CDF, a uniform box),
each check shown to fail on a wrong sampler."""

from __future__ import annotations

import math

import pytest
import torch
from scipy import stats as sps
from torch import nn

from fastebm import ops, reference
from fastebm.models import EnergyModel, GaussianEnergy, GaussianMixtureEnergy, energy_and_grad
from fastebm.samplers import HMCSampler, LangevinSampler
from fastebm.samplers import hmc as hmc_module

DTYPES = (torch.float32, torch.float64)


def gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


# ---------------------------------------------------------------- ops against formulas

@pytest.mark.parametrize("dtype", DTYPES)
def test_langevin_step_with_noise_is_the_formula(dtype):
    g = gen(1)
    x, grad, noise = (torch.randn(33, 7, generator=g, dtype=dtype) for _ in range(3))
    out = ops.langevin_step(x, grad, 0.37, noise=noise)
    torch.testing.assert_close(out, x - 0.37 * grad + math.sqrt(2 * 0.37) * noise, rtol=0, atol=0)


def test_langevin_step_is_differentiable():
    g = gen(2)
    x, grad, noise = (torch.randn(5, 3, generator=g, dtype=torch.float64, requires_grad=True)
                      for _ in range(3))
    assert torch.autograd.gradcheck(lambda a, b, c: ops.langevin_step(a, b, 0.1, noise=c),
                                    (x, grad, noise))


@pytest.mark.parametrize("dtype", DTYPES)
def test_mala_accept_equals_a_plain_pytorch_mala_step(dtype):
    """The op's decisions and kept rows against MALA written from the proposal densities
    (torch.distributions), with the op's own uniforms."""
    model = GaussianMixtureEnergy(torch.tensor([1.0, 2.0]), torch.tensor([[-1.0, 0.5], [1.5, 0.0]]),
                                  torch.tensor([[0.7, 1.0], [1.0, 0.5]])).to(dtype)
    g, eps = gen(3), 0.4
    x = torch.randn(500, 2, generator=g, dtype=dtype)
    energy, grad = energy_and_grad(model, x)
    proposal = x - eps * grad + math.sqrt(2 * eps) * torch.randn(500, 2, generator=g, dtype=dtype)
    energy_p, grad_p = energy_and_grad(model, proposal)
    seed = 99
    out = torch.ops.fastebm.mala_accept.default(x, proposal, energy, energy_p, grad, grad_p, eps, seed)

    def log_q(to, frm, grad_frm):  # log N(to; frm - ε∇E(frm), 2ε I)
        return torch.distributions.Normal(frm - eps * grad_frm, math.sqrt(2 * eps)).log_prob(to).sum(1)

    log_alpha = energy - energy_p + log_q(x, proposal, grad_p) - log_q(proposal, x, grad)
    accept = reference.uniforms(seed, 0, 500, dtype) < log_alpha.exp()
    assert 0.2 < accept.double().mean() < 0.98
    assert torch.equal(out[3], accept)
    torch.testing.assert_close(out[0], torch.where(accept[:, None], proposal, x), rtol=0, atol=0)
    torch.testing.assert_close(out[1], torch.where(accept, energy_p, energy), rtol=0, atol=0)
    torch.testing.assert_close(out[2], torch.where(accept[:, None], grad_p, grad), rtol=0, atol=0)


def test_mala_accept_rejects_a_nan_proposal_per_chain():
    x = torch.randn(4, 3, generator=gen(4), dtype=torch.float64)
    energy = 0.5 * x.square().sum(1)
    proposal = x.clone()  # log α = 0 where finite: accepted
    energy_p, grad_p = energy.clone(), x.clone()
    energy_p[1], grad_p[2, 0] = math.nan, math.nan
    x_new, _, _, accepted = ops.mala_accept(x, proposal, energy, energy_p, x, grad_p, 0.1)
    assert accepted.tolist() == [True, False, False, True]
    assert torch.equal(x_new, x)


def test_a_mala_step_traces_under_torch_compile_fullgraph():
    x = torch.randn(64, 3, generator=gen(25), dtype=torch.float64)

    def mala_step(x, seed: int):
        energy, grad = 0.5 * x.square().sum(1), x
        prop = torch.ops.fastebm.langevin_step(x, grad, 0.3, None, seed)
        return torch.ops.fastebm.mala_accept(x, prop, energy, 0.5 * prop.square().sum(1), grad,
                                             prop, 0.3, seed + 1)

    compiled = torch.compile(mala_step, fullgraph=True, backend="aot_eager")
    assert all(torch.equal(a, b) for a, b in zip(compiled(x, 7), mala_step(x, 7)))


# ---------------------------------------------------------------- statistics

COV = torch.tensor([[1.0, 0.8], [0.8, 1.0]], dtype=torch.float64)
MEAN = torch.tensor([1.0, -1.0], dtype=torch.float64)


def ula_moments(noise_scale: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean and covariance of 4,000 ULA chains (ε = 0.01, 1,500 steps) on N(MEAN, COV); the
    noise ξ multiplied by noise_scale (1: the right sampler)."""
    model, g = GaussianEnergy(MEAN, torch.linalg.inv(COV)), gen(5)
    x = torch.randn(4000, 2, generator=g, dtype=torch.float64)
    for _ in range(1500):
        _, grad = energy_and_grad(model, x)
        noise = noise_scale * torch.randn(x.shape, generator=g, dtype=x.dtype)
        x = ops.langevin_step(x, grad, 0.01, noise=noise)
    return x.mean(0), torch.cov(x.T)


def moments_match(mean, cov) -> bool:
    return bool((mean - MEAN).abs().max() < 0.08 and (cov - COV).abs().max() < 0.08)


def test_ula_reproduces_a_correlated_gaussian():
    assert moments_match(*ula_moments(1.0))
    assert not moments_match(*ula_moments(1 / math.sqrt(2)))  # ξ·√ε: half the covariance


MIXTURE = GaussianMixtureEnergy(torch.tensor([1.0, 2.0]), torch.tensor([[-2.0], [2.0]]),
                                torch.ones(2, 1)).double()


class MixtureNet(nn.Module):
    """The mixture's energy as a plain network: no hooks, so samplers use autograd and one
    fused step per call."""

    def forward(self, x):
        return MIXTURE.energy(x)


def mixture_cdf(x):
    return sps.norm.cdf(x, -2, 1) / 3 + 2 * sps.norm.cdf(x, 2, 1) / 3


def mixture_pvalue(mala: bool, model=MIXTURE) -> float:
    """KS p-value of 2,000 independent chains after 600 steps (ε = 0.9) from N(0, 1) (equal mode
    weights: the chains must hop between modes to reach 1/3 : 2/3)."""
    sampler = LangevinSampler(model, 0.9, 600, mala=mala, progress=False)
    x = sampler.run(torch.randn(2000, 1, generator=gen(6), dtype=torch.float64), generator=gen(7))
    if mala:
        assert 0.5 < sampler.accept_rate < 1.0
    return sps.kstest(x[:, 0].numpy(), mixture_cdf).pvalue


@pytest.mark.parametrize("fused", [True, False], ids=["whole-chain kernel", "step by step"])
def test_mala_samples_a_bimodal_mixture_exactly(fused):
    model = MIXTURE if fused else EnergyModel(MixtureNet(), (1,))
    assert mixture_pvalue(True, model) > 1e-3
    assert mixture_pvalue(False, model) < 1e-3  # ULA at the same ε is visibly biased


def test_gmm_whole_chains_agree_with_the_step_by_step_sampler():
    start = torch.randn(2000, 1, generator=gen(20), dtype=torch.float64)
    fused = LangevinSampler(MIXTURE, 0.9, 600, mala=True, progress=False)
    stepwise = LangevinSampler(EnergyModel(MixtureNet(), (1,)), 0.9, 600, mala=True, progress=False)
    a, b = fused.run(start, generator=gen(21)), stepwise.run(start, generator=gen(22))
    assert abs(fused.accept_rate - stepwise.accept_rate) < 0.02
    assert sps.ks_2samp(a[:, 0].numpy(), b[:, 0].numpy()).pvalue > 1e-3
    ula = LangevinSampler(MIXTURE, 0.9, 600, progress=False).run(start, generator=gen(21))
    assert sps.ks_2samp(a[:, 0].numpy(), ula[:, 0].numpy()).pvalue < 1e-3  # a biased sampler


def test_gmm_ula_chains_match_their_oracle():
    args = (MIXTURE.log_weights, MIXTURE.means, MIXTURE.stds, 0.2, 15, False, 5, 2)
    x = torch.randn(50, 1, generator=gen(23), dtype=torch.float64)
    out, accepted = torch.ops.fastebm.gmm_langevin.default(x, *args)
    ref, ref_accepted = reference.gmm_langevin(x, *args)
    torch.testing.assert_close(out, ref)
    assert (accepted == 15).all() and torch.equal(accepted, ref_accepted)


def test_gmm_chains_in_chunks_are_one_call():
    x = torch.randn(30, 1, generator=gen(24), dtype=torch.float64)
    args = (MIXTURE.log_weights, MIXTURE.means, MIXTURE.stds, 0.3)
    whole = torch.ops.fastebm.gmm_langevin.default(x, *args, 9, True, 11, 0)
    first = torch.ops.fastebm.gmm_langevin.default(x, *args, 4, True, 11, 0)
    second = torch.ops.fastebm.gmm_langevin.default(first[0], *args, 5, True, 11, 4)
    assert torch.equal(whole[0], second[0]) and torch.equal(whole[1], first[1] + second[1])


class Flat(nn.Module):
    def forward(self, x):
        return torch.zeros(x.shape[0], dtype=x.dtype) + 0 * x.sum(1)


def box_pvalue(mala: bool) -> float:
    """KS p-value against U(0, 1) of chains on a flat energy restricted to the box [0, 1]."""
    sampler = LangevinSampler(EnergyModel(Flat(), (1,)), 0.02, 200, mala=mala, box=(0.0, 1.0),
                              progress=False)
    x = sampler.sample(2000, generator=gen(8))
    return sps.kstest(x[:, 0].double().numpy(), "uniform").pvalue


def test_mala_in_a_box_is_exact_where_clamped_ula_piles_up_at_the_walls():
    assert box_pvalue(mala=True) > 1e-3
    assert box_pvalue(mala=False) < 1e-3


@pytest.mark.parametrize("make,target", [
    (lambda: LangevinSampler(MIXTURE, 3.0, 300, mala=True, target_accept=0.6, progress=False), 0.6),
    (lambda: HMCSampler(MIXTURE, 3.0, 3, 200, target_accept=0.8, progress=False), 0.8),
], ids=["mala", "hmc"])
def test_adjusted_samplers_adapt_their_step_to_the_target_acceptance(make, target):
    sampler = make()
    x = sampler.run(torch.randn(500, 1, generator=gen(9), dtype=torch.float64), generator=gen(10),
                    adapt=True)
    assert sampler.step_size < 3.0
    sampler.run(x, 100, generator=gen(11))
    assert abs(sampler.accept_rate - target) < 0.1


def test_replay_buffer_persists_and_reinitialises():
    sampler = LangevinSampler(MIXTURE, 0.1, 5, buffer_size=100, reinit_prob=0.5, progress=False,
                              init=lambda n, g: 10 + torch.rand(n, 1, generator=g, dtype=torch.float64))
    first = sampler.sample(40, generator=gen(12))
    assert sampler.buffer.shape == (100, 1)
    # The 40 chains drift from [10, 11] towards the mode at 2 and are written back; the other
    # 60 buffer states are still the starts.
    assert first.shape == (40, 1) and (first < 10).all()
    assert (sampler.buffer < 10).sum() == 40
    assert not torch.equal(sampler.sample(40, generator=gen(13)), first)
    state = sampler.state_dict()
    clone = LangevinSampler(MIXTURE, 0.1, 5, buffer_size=100, progress=False)
    clone.load_state_dict(state)
    assert torch.equal(clone.buffer, sampler.buffer)


@pytest.mark.parametrize("mala", [False, True])
def test_a_run_is_its_steps_each_drawing_from_the_generator(mala):
    """The sampler draws its steps' seeds at once (ops.seeds.SeedStream): the bits of the same
    steps called one by one with the generator, which each draw their own seed."""
    model = GaussianEnergy(torch.zeros(3, dtype=torch.float64),
                           torch.eye(3, dtype=torch.float64) * 2)
    x0 = torch.randn(16, 3, generator=gen(20), dtype=torch.float64)
    run = LangevinSampler(model, 0.2, 7, mala=mala, progress=False).run(x0, generator=gen(21))
    g, x = gen(21), x0
    energy, grad = energy_and_grad(model, x)
    for _ in range(7):
        proposal = ops.langevin_step(x, grad, 0.2, generator=g)
        if not mala:
            x, grad = proposal, energy_and_grad(model, proposal)[1]
            continue
        energy_p, grad_p = energy_and_grad(model, proposal)
        x, energy, grad, _ = ops.mala_accept(x, proposal, energy, energy_p, grad, grad_p, 0.2,
                                             generator=g)
    assert torch.equal(run, x)


def test_same_seed_same_chains():
    def chains():
        sampler = LangevinSampler(MIXTURE, 0.3, 20, mala=True, progress=False)
        return sampler.run(torch.zeros(64, 1, dtype=torch.float64), generator=gen(14))
    assert torch.equal(chains(), chains())


# ---------------------------------------------------------------- HMC

def energy_drift(step: float) -> float:
    """Mean |H(end) - H(start)| of leapfrog trajectories of total time 2 on the mixture."""
    g = gen(15)
    x = torch.randn(256, 1, generator=g, dtype=torch.float64)
    p0 = torch.randn(256, 1, generator=g, dtype=torch.float64)
    energy0, grad = energy_and_grad(MIXTURE, x)
    x_t, p = ops.leapfrog_step(x, p0, grad, step, momentum_step=0.5)
    for _ in range(round(2 / step) - 1):
        x_t, p = ops.leapfrog_step(x_t, p, energy_and_grad(MIXTURE, x_t)[1], step)
    energy1, grad1 = energy_and_grad(MIXTURE, x_t)
    p_end = p - step / 2 * grad1
    return ((energy1 + p_end[:, 0] ** 2 / 2) - (energy0 + p0[:, 0] ** 2 / 2)).abs().mean().item()


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_leapfrog_without_a_mass_is_the_identity_mass(dtype):
    """inv_mass None (run as one row) gives the bits of inv_mass = 1 (run per row)."""
    x, p, grad = (torch.randn(101, 2, generator=gen(s), dtype=dtype) for s in range(3))
    unit = ops.leapfrog_step(x, p, grad, 0.1, momentum_step=0.5)
    ones = ops.leapfrog_step(x, p, grad, 0.1, inv_mass=torch.ones(2, dtype=dtype),
                             momentum_step=0.5)
    assert all(torch.equal(a, b) for a, b in zip(unit, ones))


def test_leapfrog_is_a_second_order_integrator():
    ratio = energy_drift(0.1) / energy_drift(0.05)
    assert 3.0 < ratio < 5.5, ratio  # |ΔH| = O(ε²): halving ε quarters it


def hmc_mixture_pvalue(monkeypatch, corrected: bool) -> float:
    if not corrected:  # the wrong sampler: every trajectory accepted
        def accept_all(x, x_prop, energy, energy_prop, grad, grad_prop, *args, **kwargs):
            return x_prop, energy_prop, grad_prop, torch.ones(len(x), dtype=torch.bool)
        monkeypatch.setattr(hmc_module.ops, "hmc_accept", accept_all)
    sampler = HMCSampler(MIXTURE, 1.5, 3, 300, progress=False)
    x = sampler.run(torch.randn(2000, 1, generator=gen(16), dtype=torch.float64), generator=gen(17))
    monkeypatch.undo()
    return sps.kstest(x[:, 0].numpy(), mixture_cdf).pvalue


def test_hmc_samples_a_bimodal_mixture_exactly(monkeypatch):
    assert hmc_mixture_pvalue(monkeypatch, corrected=True) > 1e-3
    assert hmc_mixture_pvalue(monkeypatch, corrected=False) < 1e-3


SCALES = torch.tensor([3.0, 0.5], dtype=torch.float64)


def hmc_gaussian_moments(monkeypatch, matched: bool):
    """An anisotropic N(0, diag(9, 0.25)) with inv_mass = the covariance (the preconditioned
    sampler); the wrong one accepts with the identity kinetic energy instead."""
    if not matched:
        accept = hmc_module.ops.hmc_accept
        monkeypatch.setattr(hmc_module.ops, "hmc_accept",
                            lambda *a, inv_mass=None, **k: accept(*a, inv_mass=None, **k))
    model = GaussianEnergy(torch.zeros(2, dtype=torch.float64), torch.diag(SCALES ** -2))
    sampler = HMCSampler(model, 0.5, 5, 200, inv_mass=SCALES ** 2, progress=False)
    x = sampler.run(torch.zeros(3000, 2, dtype=torch.float64), generator=gen(18))
    monkeypatch.undo()
    return x.std(0) / SCALES, sampler.accept_rate


def test_hmc_with_a_mass_matrix_reproduces_an_anisotropic_gaussian(monkeypatch):
    ratio, accept_rate = hmc_gaussian_moments(monkeypatch, matched=True)
    assert (ratio - 1).abs().max() < 0.05 and accept_rate > 0.8
    ratio, _ = hmc_gaussian_moments(monkeypatch, matched=False)
    assert (ratio - 1).abs().max() > 0.1


def test_hmc_rejects_diverging_trajectories():
    sampler = HMCSampler(GaussianEnergy(torch.zeros(1, dtype=torch.float64),
                                        torch.eye(1, dtype=torch.float64)), 50.0, 20, 1, progress=False)
    x0 = torch.ones(8, 1, dtype=torch.float64)
    assert torch.equal(sampler.run(x0, generator=gen(19)), x0) and sampler.accept_rate == 0


def test_hmc_refuses_a_bad_mass():
    for inv_mass in (torch.ones(3), -torch.ones(1), torch.full((1,), math.nan)):
        with pytest.raises(ValueError, match="inv_mass"):
            HMCSampler(MIXTURE, 0.1, inv_mass=inv_mass)
    with pytest.raises(ValueError, match="n_leapfrog"):
        HMCSampler(MIXTURE, 0.1, 0)


# ---------------------------------------------------------------- bad input

@pytest.mark.parametrize("kwargs,error,match", [
    (dict(step_size=0.0), ValueError, "step_size"), (dict(step_size=math.nan), ValueError, "step_size"),
    (dict(n_steps=0), ValueError, "n_steps"), (dict(box=(1.0, 0.0)), ValueError, "box"),
    (dict(box=3), TypeError, "box"), (dict(reinit_prob=2.0), ValueError, "reinit_prob"),
    (dict(target_accept=0.5), ValueError, "mala"),
    (dict(mala=True, target_accept=1.0), ValueError, "target_accept"),
    (dict(buffer_size=-1), ValueError, "buffer_size"), (dict(init=3), TypeError, "init"),
])
def test_sampler_refuses_bad_hyper_parameters(kwargs, error, match):
    with pytest.raises(error, match=match):
        LangevinSampler(MIXTURE, **{"step_size": 0.1, **kwargs})


@pytest.mark.parametrize("x,error,match", [
    (torch.zeros(3, 2, dtype=torch.float64), ValueError, "shape"),
    (torch.full((3, 1), math.nan, dtype=torch.float64), ValueError, "NaN"),
    (torch.zeros(3, 1, dtype=torch.long), TypeError, "floating"),
    ([[0.0]], TypeError, "Tensor"),
])
def test_sampler_refuses_bad_states(x, error, match):
    with pytest.raises(error, match=match):
        LangevinSampler(MIXTURE, 0.1, progress=False).run(x)


def test_sampler_refuses_a_model_without_energy():
    with pytest.raises(TypeError, match="energy"):
        LangevinSampler(nn.Linear(2, 1), 0.1)


def test_a_compiled_energy_gives_the_autograd_energy_and_gradient():
    net = nn.Sequential(nn.Linear(3, 8), nn.SiLU(), nn.Linear(8, 1)).double()
    x = torch.randn(16, 3, generator=gen(29), dtype=torch.float64)
    compiled = EnergyModel(net, (3,), compile=True).energy_and_grad(x)
    plain = energy_and_grad(EnergyModel(net, (3,)), x)
    for a, b in zip(compiled, plain):
        torch.testing.assert_close(a, b)
    assert not any(p.grad is not None for p in net.parameters())


def test_energy_model_checks_its_network_output():
    with pytest.raises(ValueError, match=r"\[B\] or \[B, 1\]"):
        EnergyModel(nn.Linear(2, 3), (2,)).energy(torch.zeros(4, 2))


def test_hmc_takes_inv_mass_to_the_chains_dtype_and_device_once():
    """A float32 inv_mass with float64 chains is converted at the first step and kept so (no
    copy per step), with the same draws as an inv_mass given in the chains' dtype."""
    start = torch.zeros(4, 1, dtype=torch.float64)
    runs = []
    for inv_mass in (torch.full((1,), 0.5), torch.full((1,), 0.5, dtype=torch.float64)):
        sampler = HMCSampler(MIXTURE, 0.1, 2, 3, inv_mass=inv_mass, progress=False)
        runs.append(sampler.run(start, generator=torch.Generator().manual_seed(0)))
        assert sampler.inv_mass.dtype == torch.float64
    assert torch.equal(runs[0], runs[1])
