"""float16 and bfloat16 through fastebm.ops: every op that takes them gives, in their dtype, the
bits of the float32 call on the same (widened) values, rounded — the same Philox draws; a call
mixing dtypes is refused naming the argument; under torch.autocast the ops take float32 (a
bfloat16 network output beside a float32 state); out= receives the rounded result."""

from __future__ import annotations

import pytest
import torch

from fastebm import ops

HALVES = [torch.float16, torch.bfloat16]


def gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def randn(*shape, seed: int = 1):
    return torch.randn(*shape, generator=gen(seed))


def binary(*shape, seed: int = 2):
    return (torch.rand(*shape, generator=gen(seed)) < 0.5).float()


def spins(*shape, seed: int = 3):
    return 2 * binary(*shape, seed=seed) - 1


def alphas():
    return torch.linspace(0.999, 0.02, 50)


def symmetric(n: int):
    a = 0.3 * randn(n, n, seed=4)
    return (a + a.T).fill_diagonal_(0)


#: op -> (wrapper call of (tensors, generator), its float32 tensors): the tensors are cast to the
#: dtype under test.
CALLS = {
    "bernoulli_sigmoid": (lambda a, g: ops.bernoulli_sigmoid(a[0], generator=g), [randn(9, 7)]),
    "rbm_gibbs": (lambda a, g: ops.rbm_gibbs(*a, 3, generator=g),
                  [binary(9, 6), 0.5 * randn(6, 4), randn(6), randn(4)]),
    "grbm_gibbs": (lambda a, g: ops.grbm_gibbs(*a, 3, generator=g),
                   [randn(9, 6), 0.3 * randn(6, 4), randn(6), randn(4), 0.5 + torch.rand(6)]),
    "rbm_cd_grad": (lambda a, g: ops.rbm_cd_grad(*a, 2, generator=g),
                    [binary(9, 6), binary(9, 6, seed=5), 0.5 * randn(6, 4), randn(6), randn(4)]),
    "grbm_cd_grad": (lambda a, g: ops.grbm_cd_grad(*a, 2, generator=g),
                     [randn(9, 6), randn(9, 6, seed=5), 0.3 * randn(6, 4), randn(6), randn(4),
                      0.5 + torch.rand(6)]),
    "rbm_ais": (lambda a, g: ops.rbm_ais(*a, [0.0, 0.5, 1.0], generator=g),
                [binary(9, 6), 0.5 * randn(6, 4), randn(6), randn(4), randn(6, seed=6)]),
    "grbm_ais": (lambda a, g: ops.grbm_ais(*a, [0.0, 0.5, 1.0], generator=g),
                 [randn(9, 6), 0.3 * randn(6, 4), randn(6), randn(4), 0.5 + torch.rand(6)]),
    "langevin_step": (lambda a, g: ops.langevin_step(*a, 0.1, generator=g), [randn(9, 3), randn(9, 3, seed=5)]),
    "mala_accept": (lambda a, g: ops.mala_accept(*a, 0.5, generator=g),
                    [randn(9, 3), randn(9, 3, seed=5), torch.rand(9), torch.rand(9),
                     randn(9, 3, seed=6), randn(9, 3, seed=7)]),
    "leapfrog_step": (lambda a, g: ops.leapfrog_step(*a, 0.1), [randn(9, 3), randn(9, 3, seed=5),
                                                               randn(9, 3, seed=6)]),
    "hmc_accept": (lambda a, g: ops.hmc_accept(*a, 0.5, generator=g),
                   [randn(9, 3), randn(9, 3, seed=5), torch.rand(9), torch.rand(9),
                    randn(9, 3, seed=6), randn(9, 3, seed=7), randn(9, 3, seed=8),
                    randn(9, 3, seed=9)]),
    "gmm_langevin": (lambda a, g: ops.gmm_langevin(*a, 0.1, 5, generator=g),
                     [randn(9, 2), torch.log(torch.tensor([0.3, 0.7])), randn(2, 2, seed=5),
                      0.5 + torch.rand(2, 2)]),
    "ddpm_step": (lambda a, g: ops.ddpm_step(*a, 17, alphas(), clip_sample=1.0, generator=g),
                  [randn(9, 3), randn(9, 3, seed=5)]),
    "ddim_step": (lambda a, g: ops.ddim_step(*a, 17, 9, alphas(), 0.5, generator=g),
                  [randn(9, 3), randn(9, 3, seed=5)]),
    "gaussian_diffusion_step": (lambda a, g: ops.gaussian_diffusion_step(*a, 0.05, generator=g),
                                [randn(9, 3), randn(9, 3, seed=5), randn(9, 3, seed=6)]),
    "binomial_diffusion_step": (lambda a, g: ops.binomial_diffusion_step(a[0], generator=g),
                                [torch.rand(9, 7)]),
    "svgd_rbf": (lambda a, g: ops.svgd_rbf(*a), [randn(20, 3), randn(20, 3, seed=5)]),
    "pair_distance_median": (lambda a, g: ops.pair_distance_median(*a), [randn(20, 3)]),
    "stein_kernel_matvec": (lambda a, g: ops.stein_kernel_matvec(*a, bandwidth=2.0, kernel="imq"),
                            [randn(20, 3), randn(20, 3, seed=5), randn(20, 2, seed=6)]),
    "bm_gibbs": (lambda a, g: ops.bm_gibbs(*a, 2, beta=0.7, generator=g),
                 [binary(9, 5), symmetric(5), randn(5)]),
    "ising_gibbs": (lambda a, g: ops.ising_gibbs(a[0], 2, beta=0.4, generator=g),
                    [spins(2, 8, 8)]),
    "reparameterize": (lambda a, g: ops.reparameterize(*a, generator=g),
                       [randn(9, 3), 0.3 * randn(9, 3, seed=5)]),
}


def as_list(result) -> list[torch.Tensor]:
    return list(result) if isinstance(result, tuple) else [result]


def test_the_table_covers_every_half_precision_op():
    assert set(CALLS) == set(ops.HALF_PRECISION_OPS)


@pytest.mark.parametrize("dtype", HALVES)
@pytest.mark.parametrize("name", CALLS)
def test_half_calls_are_the_rounded_float32_call(name, dtype):
    call, tensors = CALLS[name]
    half = [t.to(dtype) for t in tensors]
    got = as_list(call(half, gen(9)))
    expected = as_list(call([t.float() for t in half], gen(9)))
    for a, b in zip(got, expected):
        if b.is_floating_point():
            assert a.dtype == dtype and torch.equal(a, b.to(dtype)), name
        else:
            assert torch.equal(a, b), name


@pytest.mark.parametrize("dtype", HALVES)
def test_a_call_mixing_dtypes_is_refused_naming_the_argument(dtype):
    x = randn(9, 3)
    with pytest.raises(ValueError, match="argument 'noise_pred' has dtype torch.float32 but "
                                         f"'x_t' has {dtype}"):
        ops.ddpm_step(x.to(dtype), x, 17, alphas())
    with pytest.raises(ValueError, match="argument 'grad' has dtype"):
        ops.langevin_step(x.to(dtype), x.double(), 0.1)


@pytest.mark.parametrize("bad", [torch.int32, torch.float8_e4m3fn])
def test_a_dtype_no_op_takes_is_refused_naming_the_argument(bad):
    with pytest.raises(ValueError, match="argument 'x' must be float32 or float64"):
        ops.langevin_step(randn(9, 3).to(bad), randn(9, 3).to(bad), 0.1)


def test_under_autocast_the_ops_take_float32():
    """A bfloat16 ε̂ from a network under autocast beside the float32 state: the step runs in
    float32 on the widened ε̂, and a reparameterised draw stays differentiable."""
    x, eps = randn(9, 3), randn(9, 3, seed=5).bfloat16()
    with torch.autocast("cpu", dtype=torch.bfloat16):
        step = ops.ddpm_step(x, eps, 17, alphas(), generator=gen(9))
        mu = randn(9, 3).requires_grad_()
        z = ops.reparameterize(mu, eps, generator=gen(9))
    assert step.dtype == torch.float32
    assert torch.equal(step, ops.ddpm_step(x, eps.float(), 17, alphas(), generator=gen(9)))
    z.sum().backward()
    assert z.dtype == torch.float32 and torch.equal(mu.grad, torch.ones(9, 3))


@pytest.mark.parametrize("dtype", HALVES)
def test_out_receives_the_rounded_result(dtype):
    x, eps = randn(9, 3).to(dtype), randn(9, 3, seed=5).to(dtype)
    out = torch.empty(9, 3, dtype=dtype)
    assert ops.ddpm_step(x, eps, 17, alphas(), generator=gen(9), out=out) is out
    assert torch.equal(out, ops.ddpm_step(x, eps, 17, alphas(), generator=gen(9)))
    ops.langevin_step(x, eps, 0.1, generator=gen(9), out=x)  # in place, as the sampler does
    assert torch.equal(x, ops.langevin_step(randn(9, 3).to(dtype), eps, 0.1, generator=gen(9)))


@pytest.mark.parametrize("dtype", HALVES)
def test_half_samplers_reproduce_the_float32_samplers_moments(dtype):
    """DDPM with the closed-form optimal denoiser of Gaussian data (ᾱ kept in float32) and ULA
    on a Gaussian energy: half-precision runs give the means and standard deviations of the
    float32 runs, within a standard error (means) and 0.5 % (deviations)."""
    import math

    from fastebm.models import GaussianEnergy
    from fastebm.samplers import LangevinSampler, ReverseDiffusionSampler
    from test_diffusion import SCHEDULE, OptimalDenoiser

    denoiser = OptimalDenoiser(SCHEDULE)
    ddpm = ReverseDiffusionSampler(lambda x, t: denoiser(x.double(), t).to(x.dtype), SCHEDULE,
                                   progress=False)
    energy = GaussianEnergy(torch.zeros(2), torch.diag(torch.tensor([1.0, 4.0])))
    runs = {
        "ddpm": lambda d: ddpm.sample(20_000, (2,), dtype=d, generator=gen(0)),
        "ula": lambda d: LangevinSampler(energy.to(d), 0.05, 300, progress=False).run(
            randn(20_000, 2).to(d), generator=gen(1)),
    }
    for name, run in runs.items():
        half, single = run(dtype), run(torch.float32)
        assert half.dtype == dtype, name
        half, single = half.double(), single.double()
        se = single.std(0) / math.sqrt(len(single))
        assert ((half.mean(0) - single.mean(0)).abs() < se).all(), (name, half.mean(0), single.mean(0))
        assert ((half.std(0) / single.std(0) - 1).abs() < 0.005).all(), (name, half.std(0), single.std(0))


@pytest.mark.parametrize("dtype", HALVES)
def test_svgd_moves_half_particles_in_float32(dtype):
    """The particles come back in their dtype; the Adam rule's moments, kept in float32, do not
    underflow (moved in float16 they did, and the particles diverged to Inf)."""
    from fastebm.samplers import SVGD

    x = SVGD(lambda x: -0.5 * x.square().sum(-1), rule="adam", progress=False).run(
        randn(300, 2).to(dtype), 200, generator=gen(2))
    assert x.dtype == dtype and (x.float().std(0) - 1).abs().max() < 0.1
