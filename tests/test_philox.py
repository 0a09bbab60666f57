"""Philox4x32-10: published known-answer vectors, kernel vs the pure-PyTorch twin, CPU vs CUDA."""

import pytest
import torch

import fastebm
from fastebm import reference

from conftest import DEVICES, HAS_CUDA

# Random123 kat_vectors: counter[4], key[2] -> result[4].
KAT = [
    ([0, 0, 0, 0], [0, 0], [0x6627E8D5, 0xE169C58D, 0xBC57AC4C, 0x9B00DBD8]),
    ([0xFFFFFFFF] * 4, [0xFFFFFFFF, 0xFFFFFFFF], [0x408F276D, 0x41C83B0E, 0xA20BC7C6, 0x6D5451FD]),
    ([0x243F6A88, 0x85A308D3, 0x13198A2E, 0x03707344], [0xA4093822, 0x299F31D0],
     [0xD16CFE09, 0x94FDCCEB, 0x5001E420, 0x24126EA1]),
]


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("counter,key,expected", KAT)
def test_known_answers(device, counter, key, expected):
    c = torch.tensor([counter], dtype=torch.int64, device=device)
    seed = key[0] | (key[1] << 32)
    assert fastebm.ops.philox4x32(c, seed).tolist() == [expected]
    assert reference.philox4x32(c, tuple(key)).tolist() == [expected]


@pytest.mark.parametrize("device", DEVICES)
def test_kernel_matches_reference(device):
    g = torch.Generator().manual_seed(7)
    c = torch.randint(0, 2**32, (1000, 4), generator=g, dtype=torch.int64).to(device)
    seed = 0x123456789ABCDEF0
    out = fastebm.ops.philox4x32(c, seed)
    ref = reference.philox4x32(c, (seed & 0xFFFFFFFF, seed >> 32))
    assert torch.equal(out, ref)


@pytest.mark.skipif(not HAS_CUDA, reason="no GPU")
def test_cpu_and_cuda_draw_the_same_bits():
    c = torch.randint(0, 2**32, (4096, 4), dtype=torch.int64)
    assert torch.equal(fastebm.ops.philox4x32(c, 99), fastebm.ops.philox4x32(c.cuda(), 99).cpu())


def test_bad_counter():
    with pytest.raises(ValueError, match="counter"):
        fastebm.ops.philox4x32(torch.zeros(3, 3, dtype=torch.int64), 0)
    with pytest.raises(ValueError, match="counter"):
        fastebm.ops.philox4x32(torch.zeros(3, 4), 0)
    with pytest.raises(ValueError, match="counter"):
        fastebm.ops.philox4x32(torch.full((1, 4), 2**32), 0)


def test_opcheck():
    c = torch.randint(0, 2**32, (16, 4), dtype=torch.int64)
    torch.library.opcheck(torch.ops.fastebm.philox4x32.default, (c, 5))


def test_build_info():
    info = fastebm.build_info()
    assert set(info) >= {"cuda", "openmp", "cpu_isa"}
