"""The step ops' ``out=`` forms (their ``.out`` overloads): the bits of the fresh-output form,
written into a given buffer or into the first input itself, seeded draws included; opcheck of
each overload; a bad ``out`` refused naming it."""

from __future__ import annotations

import pytest
import torch
from torch.library import opcheck

from fastebm import ops

SHAPE = (37, 3)


def gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def alphas(dtype):
    return torch.linspace(0.999, 0.02, 50, dtype=dtype)


#: name -> (wrapper call taking (inputs, generator, **out), inputs maker of dtype)
CALLS = {
    "ddpm_step": (lambda a, g, **o: ops.ddpm_step(a[0], a[1], 17, alphas(a[0].dtype),
                                                  clip_sample=1.0, generator=g, **o),
                  lambda d: [torch.randn(SHAPE, generator=gen(1), dtype=d) for _ in range(2)]),
    "ddim_step": (lambda a, g, **o: ops.ddim_step(a[0], a[1], 17, 9, alphas(a[0].dtype), 0.7,
                                                  generator=g, **o),
                  lambda d: [torch.randn(SHAPE, generator=gen(2), dtype=d) for _ in range(2)]),
    "gaussian_diffusion_step": (
        lambda a, g, **o: ops.gaussian_diffusion_step(a[0], a[1], a[2], 0.05, generator=g, **o),
        lambda d: [torch.randn(SHAPE, generator=gen(3), dtype=d) for _ in range(3)]),
    "binomial_diffusion_step": (lambda a, g, **o: ops.binomial_diffusion_step(a[0], generator=g,
                                                                              **o),
                                lambda d: [torch.rand(SHAPE, generator=gen(4), dtype=d)]),
    "langevin_step": (lambda a, g, **o: ops.langevin_step(a[0], a[1], 0.1, generator=g, **o),
                      lambda d: [torch.randn(SHAPE, generator=gen(5), dtype=d)
                                 for _ in range(2)]),
}


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("name", CALLS)
def test_out_and_in_place_give_the_bits_of_a_fresh_output(name, dtype):
    call, make = CALLS[name]
    inputs = make(dtype)
    fresh = call(inputs, gen(9))
    buffer = torch.full(SHAPE, 7.0, dtype=dtype)
    assert call(inputs, gen(9), out=buffer) is buffer and torch.equal(buffer, fresh)
    own = [t.clone() for t in inputs]
    assert call(own, gen(9), out=own[0]) is own[0] and torch.equal(own[0], fresh)


#: name -> the .out overload's positional arguments from the inputs (seed 3)
RAW = {
    "ddpm_step": lambda a: (a[0], a[1], torch.tensor([17]), alphas(a[0].dtype), 0, 1.0, None, 3),
    "ddim_step": lambda a: (a[0], a[1], torch.tensor([17]), torch.tensor([9]),
                            alphas(a[0].dtype), 0.7, None, 3),
    "gaussian_diffusion_step": lambda a: (*a, torch.tensor([0.05], dtype=a[0].dtype), None, 3),
    "binomial_diffusion_step": lambda a: (a[0], 3),
    "langevin_step": lambda a: (a[0], a[1], 0.1, None, 3),
}


@pytest.mark.parametrize("name", CALLS)
def test_each_out_overload_passes_opcheck(name):
    args = RAW[name](CALLS[name][1](torch.float64))
    opcheck(getattr(torch.ops.fastebm, name).out, args,
            {"out": torch.empty(SHAPE, dtype=torch.float64)})


@pytest.mark.parametrize("bad,match", [
    (lambda x: torch.empty(SHAPE[0], 2, dtype=x.dtype), "'out' has shape"),
    (lambda x: torch.empty(SHAPE, dtype=torch.float32), "'out' has dtype"),
    (lambda x: torch.empty(SHAPE[::-1], dtype=x.dtype).T, "'out' must be contiguous"),
])
@pytest.mark.parametrize("name", CALLS)
def test_a_bad_out_is_refused_naming_it(name, bad, match):
    call, make = CALLS[name]
    inputs = make(torch.float64)
    with pytest.raises(ValueError, match=match):
        call(inputs, gen(9), out=bad(inputs[0]))


def test_an_out_overlapping_an_input_in_part_is_refused():
    buffer = torch.rand(2 * SHAPE[0] + 1, dtype=torch.float64)
    p, out = buffer[:-1].view(-1, 2), buffer[1:].view(-1, 2)
    with pytest.raises(ValueError, match="'out' overlaps an input in part"):
        ops.binomial_diffusion_step(p, out=out)


def test_langevin_out_refuses_a_wanted_gradient():
    x = torch.randn(SHAPE, requires_grad=True)
    with pytest.raises(ValueError, match="no gradient"):
        ops.langevin_step(x, x.detach(), 0.1, out=torch.empty(SHAPE))
    with torch.no_grad():
        assert ops.langevin_step(x, x, 0.1, out=torch.empty(SHAPE)).shape == SHAPE


def test_samplers_write_their_own_buffer_never_the_callers_start():
    """The Langevin and reverse-diffusion loops step in place after their first step: the
    caller's starting tensor is left as it was."""
    from fastebm.models import GaussianEnergy, NoiseSchedule
    from fastebm.samplers import LangevinSampler, ReverseDiffusionSampler

    model = GaussianEnergy(torch.zeros(3, dtype=torch.float64), torch.eye(3, dtype=torch.float64))
    x0 = torch.randn(50, 3, generator=gen(6), dtype=torch.float64)
    kept = x0.clone()
    x = LangevinSampler(model, 0.1, 5, progress=False).run(x0, generator=gen(7))
    assert torch.equal(x0, kept) and not torch.equal(x, x0)

    schedule = NoiseSchedule.linear(20)
    sampler = ReverseDiffusionSampler(lambda x, t: 0.1 * x, schedule, progress=False)
    x_T = torch.randn(50, 3, generator=gen(8), dtype=torch.float64)
    kept = x_T.clone()
    x = sampler.run(x_T, generator=gen(9))
    assert torch.equal(x_T, kept) and not torch.equal(x, x_T)
