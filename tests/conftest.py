"""Shared test tables: devices, dtypes, tolerances."""

import pytest
import torch

import fastebm  # noqa: F401  (loads the extension)

HAS_CUDA = torch.cuda.is_available()

#: Every device an op is tested on; CUDA appears (and is skipped with a reason) without a GPU.
DEVICES = ["cpu", pytest.param("cuda", marks=pytest.mark.skipif(not HAS_CUDA, reason="no GPU"))]
DTYPES = [torch.float32, torch.float64]

#: Tolerances for comparisons against fastebm.reference.
TOL = {torch.float32: dict(atol=1e-5, rtol=1e-4), torch.float64: dict(atol=1e-10, rtol=1e-9)}
