"""Philox4x32-10 against published known-answer vectors (kernel and pure-PyTorch twin); the op's
contract checks (oracle, CPU vs CUDA, bad input) are in tests/test_op_contract.py."""

import pytest
import torch

import fastebm
from fastebm import reference

from conftest import DEVICES

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
    assert fastebm.ops.philox4x32(c, seed=seed).tolist() == [expected]
    assert reference.philox4x32(c, tuple(key)).tolist() == [expected]


def test_build_info():
    info = fastebm.build_info()
    assert set(info) >= {"cuda", "openmp", "cpu_isa"}
