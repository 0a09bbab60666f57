"""fastebm: fast C++/CUDA kernels for energy-based models, wrapped for PyTorch."""

import torch  # noqa: F401  (loads libtorch before the extension)

from . import _C, ops, reference
from . import data, models, objectives, optim, partition, samplers
from .ops import grbm_gibbs, rbm_gibbs

__version__ = "0.1.0"


def build_info() -> dict:
    """How the extension was built: ``cuda`` (CUDA kernels compiled in), ``openmp``, ``cpu_isa``
    (the vector ISA the CPU kernels run with on this machine) and ATen's ``parallel`` info."""
    return dict(_C.build_info())


__all__ = ["build_info", "data", "grbm_gibbs", "models", "objectives", "ops", "optim",
           "partition", "rbm_gibbs", "reference", "samplers"]
