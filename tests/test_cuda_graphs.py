"""Graph-safe randomness on CUDA (ops.seeds.op_seed): an op given a CUDA generator takes the
generator's Philox state in its kernel — read on the device while a CUDA graph is captured — so
each replay of a captured sampling loop draws afresh, and a replay from a generator state has the
bits of the same steps run eagerly from that state. The GPU tests skip without a GPU; the last
tests (the arguments' contract) run everywhere."""

from __future__ import annotations

import pytest
import torch

from fastebm import ops
from fastebm.ops.seeds import SeedStream, draw_seed, op_seed
from fastebm.samplers.cuda_graph import GraphedLoops

from conftest import HAS_CUDA

gpu = pytest.mark.skipif(not HAS_CUDA, reason="no GPU")
STEPS = 20


def schedule(device="cuda", T=STEPS):
    betas = torch.linspace(1e-4, 0.2, T, dtype=torch.float64)
    return torch.cumprod(1 - betas, 0).to(device, torch.float32)


def fixed_small_std(ac: torch.Tensor) -> torch.Tensor:
    """[T] σ_t of DDPM's "fixed_small" variance, β_t (1 - ᾱ_{t-1}) / (1 - ᾱ_t), ᾱ_{-1} = 1."""
    ac = ac.double().cpu()
    prev = torch.cat([torch.ones(1, dtype=ac.dtype), ac[:-1]])
    return ((1 - ac / prev) * (1 - prev) / (1 - ac)).sqrt()


def cuda_generator(kind: str) -> torch.Generator:
    if kind == "default":
        return torch.cuda.default_generators[torch.cuda.current_device()]
    return torch.Generator("cuda")


@gpu
@pytest.mark.parametrize("kind", ["default", "own"])
def test_replayed_ddpm_steps_draw_afresh_with_the_eager_bits_and_the_right_law(kind):
    """20 DDPM steps at x_t = ε = 0 write σ_t z_t into 20 buffers: each replay draws new z, the
    bits of the eager steps from the same generator state, each buffer with std σ_t and
    consecutive buffers uncorrelated (the same draw twice would correlate them fully)."""
    g = cuda_generator(kind)
    g.manual_seed(0)
    ac = schedule()
    outs = torch.empty(STEPS, 1, 1 << 16, device="cuda")
    ts = [torch.full((1,), t, dtype=torch.int64, device="cuda") for t in range(STEPS)]

    def loop(zeros):
        for t in reversed(range(STEPS)):
            ops.ddpm_step(zeros, zeros, ts[t], ac, generator=g, out=outs[t])
        return (outs,)

    zeros = torch.zeros(1, 1 << 16, device="cuda")
    graphs, state = GraphedLoops(), g.get_state()
    first = graphs.run("ddpm", zeros, loop, g)[0][:, 0]  # captured, then replayed from `state`
    second = graphs.run("ddpm", zeros, loop, g)[0][:, 0]
    g.set_state(state)
    eager_first = loop(zeros)[0][:, 0].clone()
    eager_second = loop(zeros)[0][:, 0].clone()
    assert torch.equal(first, eager_first) and torch.equal(second, eager_second)
    assert not torch.equal(first[1:], second[1:])
    sigma = fixed_small_std(ac)
    assert torch.equal(first[0], torch.zeros_like(first[0]))  # t = 0 adds no noise
    std = first[1:].double().std(1).cpu()
    torch.testing.assert_close(std, sigma[1:], rtol=0.02, atol=0)  # 65k draws: ~0.3% std error
    z = first[1:].double() / sigma[1:, None].cuda()
    correlation = (z[1:] * z[:-1]).mean(1).abs().max().item()
    assert correlation < 0.02, correlation


@gpu
def test_replayed_langevin_chains_keep_the_stationary_law():
    """ULA on N(0, 1), x' = x - ε x + √(2ε) ξ, started at its stationary law N(0, 1/(1 - ε/2)):
    20 captured steps per replay keep mean 0 and that variance, replay after replay."""
    g = cuda_generator("default")
    g.manual_seed(1)
    eps = 0.1
    stationary = 1 / (1 - eps / 2)
    start = torch.randn(1 << 18, 1, device="cuda", generator=g) * stationary ** 0.5

    def loop(x):
        for _ in range(STEPS):
            ops.langevin_step(x, x, eps, generator=g, out=x)
        return (x,)

    graphs, x, seen = GraphedLoops(), start, []
    for _ in range(3):
        (x,) = graphs.run("ula", x, loop, g)
        seen.append(x)
        assert abs(x.mean().item()) < 0.01  # 5 standard errors
        assert abs(x.var().item() / stationary - 1) < 0.015  # 5 standard errors
    assert not torch.equal(seen[0], seen[1])


def samplers(device):
    """A DDPM sampler (small MLP denoiser, 50 steps) and ULA / MALA on an autograd energy."""
    from torch import nn

    from fastebm.models import EnergyModel, MLPDenoiser, NoiseSchedule
    from fastebm.samplers import LangevinSampler, ReverseDiffusionSampler
    torch.manual_seed(0)
    schedule = NoiseSchedule.linear(50)
    denoiser = MLPDenoiser(2, 50, hidden=64).to(device)
    energy = EnergyModel(nn.Sequential(nn.Linear(2, 32), nn.SiLU(), nn.Linear(32, 1)),
                         event_shape=(2,)).to(device)
    return {
        "ddpm": lambda graph: ReverseDiffusionSampler(denoiser, schedule, cuda_graph=graph,
                                                      progress=False),
        "ula": lambda graph: LangevinSampler(energy, 0.05, 20, cuda_graph=graph, progress=False),
        "mala": lambda graph: LangevinSampler(energy, 0.05, 20, mala=True, cuda_graph=graph,
                                              progress=False),
    }


@gpu
@pytest.mark.parametrize("name", ["ddpm", "ula", "mala"])
def test_a_graphed_sampler_draws_afresh_and_follows_the_eager_run(name):
    """The graphed loop replays the eager loop's draws from the same generator state; its
    network's matrix products may round differently inside the graph, so the states are compared
    to float32 rounding, not bit for bit (the ops' own bits are, in the tests above)."""
    make = samplers("cuda")[name]
    graphed, eager = make(True), make(False)
    g = torch.Generator("cuda").manual_seed(3)
    x = torch.randn(512, 2, device="cuda", generator=g)
    state = g.get_state()
    first, second = graphed.run(x, generator=g), graphed.run(x, generator=g)
    rate = graphed.accept_rate
    g.set_state(state)
    torch.testing.assert_close(first, eager.run(x, generator=g), rtol=1e-4, atol=1e-4)
    torch.testing.assert_close(second, eager.run(x, generator=g), rtol=1e-4, atol=1e-4)
    assert not torch.equal(first, second)
    if name == "mala":
        assert abs(eager.accept_rate - rate) < 0.01


def test_a_graphed_sampler_refuses_what_a_graph_cannot_hold():
    from fastebm.models import NoiseSchedule
    from fastebm.models.energy import GaussianEnergy
    from fastebm.samplers import LangevinSampler, ReverseDiffusionSampler
    gaussian = GaussianEnergy(torch.zeros(2), torch.eye(2))
    langevin = LangevinSampler(gaussian, 0.1, 5, cuda_graph=True, progress=False)
    with pytest.raises(ValueError, match="runs on CUDA tensors"):
        langevin.run(torch.zeros(4, 2))
    mala = LangevinSampler(gaussian, 0.1, 5, mala=True, target_accept=0.6, cuda_graph=True)
    with pytest.raises(ValueError, match="adapt in an eager run"):
        mala.run(torch.zeros(4, 2), adapt=True)
    ddpm = ReverseDiffusionSampler(lambda x, t: x, NoiseSchedule.linear(10), cuda_graph=True)
    with pytest.raises(ValueError, match="runs on CUDA tensors"):
        ddpm.run(torch.zeros(4, 2))
    with pytest.raises(ValueError, match="inpainting"):
        ddpm.run(torch.zeros(4, 2), known=torch.zeros(4, 2),
                 mask=torch.ones(4, 2, dtype=torch.bool))


@gpu
def test_a_graphed_sampler_refuses_a_cpu_generator():
    from fastebm.models.energy import GaussianEnergy
    from fastebm.samplers import LangevinSampler
    sampler = LangevinSampler(GaussianEnergy(torch.zeros(2), torch.eye(2)).cuda(), 0.1, 5,
                              cuda_graph=True)
    with pytest.raises(ValueError, match="needs a CUDA generator"):
        sampler.run(torch.zeros(4, 2, device="cuda"), generator=torch.Generator())


# ---------------------------------------------------------------- the arguments, everywhere

def test_a_cpu_generator_draws_the_seed_and_a_cuda_one_goes_to_the_op():
    g = torch.Generator().manual_seed(3)
    expected = draw_seed(torch.Generator().manual_seed(3))
    assert op_seed(g) == (expected, None)
    assert op_seed(None)[1] is None
    state = g.get_state()
    assert op_seed(g, noise=torch.zeros(1)) == (0, None)  # given noise: nothing drawn
    assert torch.equal(g.get_state(), state)
    with pytest.raises(TypeError, match="generator"):
        op_seed("cuda")


def test_an_op_takes_a_seed_drawn_by_its_caller():
    """seed= is the key a generator would have drawn: the same bits; a seed and a generator
    together, or a seed outside [0, 2**63), are refused naming it; a SeedStream yields the
    seeds of its calls' own draws, across its 4,096-seed chunks."""
    x, grad = torch.randn(3, 5), torch.randn(3, 5)
    seed = draw_seed(torch.Generator().manual_seed(4))
    assert torch.equal(ops.langevin_step(x, grad, 0.1, seed=seed),
                       ops.langevin_step(x, grad, 0.1, generator=torch.Generator().manual_seed(4)))
    with pytest.raises(ValueError, match="generator or a seed"):
        ops.langevin_step(x, grad, 0.1, seed=seed, generator=torch.Generator())
    for bad, error in [(-1, ValueError), (2**63, ValueError), (1.0, TypeError), (True, TypeError)]:
        with pytest.raises(error, match="seed"):
            ops.langevin_step(x, grad, 0.1, seed=bad)
    stream = SeedStream(5000, torch.Generator().manual_seed(6))
    g = torch.Generator().manual_seed(6)
    assert [stream.next()["seed"] for _ in range(5000)] == [draw_seed(g) for _ in range(5000)]


def test_an_op_refuses_a_cpu_generator_given_as_its_generator():
    """The op's own `generator` argument takes only a CUDA generator (a CPU generator's draw is
    its `seed`), and only on the tensors' device."""
    with pytest.raises(ValueError, match="argument 'generator' is a cpu generator"):
        torch.ops.fastebm.bernoulli_sigmoid.default(torch.zeros(4), 0, torch.Generator())


@gpu
def test_an_op_refuses_a_cuda_generator_for_cpu_tensors():
    with pytest.raises(ValueError, match="argument 'generator' is on cuda"):
        torch.ops.fastebm.bernoulli_sigmoid.default(torch.zeros(4), 0, torch.Generator("cuda"))
