"""fastebm: fast C++/CUDA kernels for energy-based models, wrapped for PyTorch.

Environment: FASTEBM_CPU_ISA=baseline|avx2|avx512 forces the CPU kernels' vector path (one the
CPU lacks is refused at import); FASTEBM_CUDA_VALUE_CHECKS=1 checks CUDA arguments' values
(NaN/Inf, sign) at the cost of a device sync per check (off by default: no op syncs).
"""

import contextlib
import os

import torch  # noqa: F401  (loads libtorch before the extension)

from . import _C, ops, reference
from . import data, models, objectives, partition, samplers, training
from .ops import bernoulli_sigmoid, grbm_gibbs, rbm_gibbs

__version__ = "0.1.0"


def load_run(path: str):
    """A ``fastebm train`` run (its folder or checkpoint) back in Python: a
    :class:`fastebm.run_loading.LoadedRun` with ``model`` (trained, EMA weights where kept),
    ``config`` and ``metrics``."""
    from .run_loading import load_run as load

    return load(path)


def build_info() -> dict:
    """How the extension was built and runs: ``cuda`` (CUDA kernels compiled in), ``openmp``,
    ``cpu_isa`` (the vector path the CPU kernels run now) and ``cpu_isa_best`` (the best this CPU
    has), ``cuda_value_checks``, and ATen's ``parallel`` info."""
    return dict(_C.build_info())


def set_cpu_isa(name: str) -> None:
    """Force the CPU kernels' vector path: ``"baseline"`` (SSE2), ``"avx2"`` (x86-64-v3) or
    ``"avx512"`` (x86-64-v4); ValueError for a path this CPU lacks. Every path gives the same
    bits; this is for testing and measuring them."""
    _C.set_cpu_isa(name)


@contextlib.contextmanager
def cpu_isa(name: str):
    """``with fastebm.cpu_isa("avx2"): ...`` runs the block on that path, then restores."""
    previous = build_info()["cpu_isa"]
    set_cpu_isa(name)
    try:
        yield
    finally:
        set_cpu_isa(previous)


def set_cuda_value_checks(on: bool) -> None:
    """Check CUDA arguments' values (NaN/Inf, positivity) as on the CPU: each check then reads
    the device (a sync). Off by default, so that no op synchronises and loops can be graphed."""
    _C.set_cuda_value_checks(bool(on))


if "FASTEBM_CPU_ISA" in os.environ:
    set_cpu_isa(os.environ["FASTEBM_CPU_ISA"])
set_cuda_value_checks(os.environ.get("FASTEBM_CUDA_VALUE_CHECKS", "0") == "1")

__all__ = ["bernoulli_sigmoid", "build_info", "cpu_isa", "data", "grbm_gibbs", "load_run", "models",
           "objectives", "ops", "partition", "rbm_gibbs", "reference",
           "samplers", "set_cpu_isa", "set_cuda_value_checks", "training"]
