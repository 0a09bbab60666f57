"""The SVGD family side by side in one process: seconds per SVGD direction (φ with the median
bandwidth, the score given) and peak extra memory at n particles of d dimensions, float32:

- fastebm's tiled ``svgd_rbf`` (every CPU ISA path at n = 5,000; the best path elsewhere), and
  its φ alone with the bandwidth given (so the exact median's share shows);
- dense PyTorch: the n×n kernel by ``torch.cdist`` (matmul-based), the median of its n² entries
  (the usual dense shortcut: each pair twice plus the zero diagonal), φ by two matmuls;
- Pyro's ``SVGD.step`` with its ``RBFSteinKernel`` on an isotropic Gaussian target (the score by
  autograd included; a bench-only dependency, `make bench-env`);
- pykeops' kernel sum (LazyTensor reductions in linear memory) with the bandwidth given, as it
  has no median (bench-only).

Peak extra memory is the growth of the resident set at its peak while one call runs (sampled
every millisecond). A contender is skipped where
it would take more than the machine's memory or minutes a call ("—").
"""

from __future__ import annotations

import math
import resource
import threading
import time

import torch

from fastebm import ops

from common import isa_paths, markdown_table, median_seconds, on_path

try:
    import pyro
    import pyro.distributions as dist
    from pyro.infer import SVGD as PyroSVGD
    from pyro.infer import RBFSteinKernel
    from pyro.optim import Adam as PyroAdam
except ImportError:  # the bench environment without pyro
    pyro = None
try:
    from pykeops.torch import LazyTensor
except ImportError:  # the bench environment without pykeops
    LazyTensor = None

GRID = [(1000, 2), (1000, 16), (1000, 64), (5000, 2), (5000, 16), (5000, 64), (20000, 2),
        (20000, 16), (20000, 64), (100000, 16)]
QUICK_GRID = [(1000, 2), (1000, 16), (5000, 16)]  # --quick: seconds, and two pykeops builds
DENSE_MAX = 20000   # n² float32 kernels, distances and the median's copy: ~5 GB at 20,000
PYRO_MAX = 4e8      # Pyro's n×n×d tensors (elements)
QUICK_PYRO_MAX = 2e7  # --quick: Pyro's step at 5,000 × 16 takes 14 s
SLOW_N = 100000     # one call timed, not a blocked range


def dense_phi(x: torch.Tensor, score: torch.Tensor) -> torch.Tensor:
    n = x.shape[0]
    d2 = torch.cdist(x, x).square_()
    h = d2.median() / math.log(n + 1)
    k = torch.exp(-d2 / h)
    return (k @ score + (2 / h) * (x * k.sum(1, keepdim=True) - k @ x)) / n


def keops_phi(x: torch.Tensor, score: torch.Tensor, h: float) -> torch.Tensor:
    n = x.shape[0]
    xi, xj = LazyTensor(x[:, None, :]), LazyTensor(x[None, :, :])
    k = (-((xi - xj) ** 2).sum(-1) / h).exp()
    v = LazyTensor((score - (2 / h) * x)[None, :, :])
    return ((k * v).sum(1) + (2 / h) * x * k.sum(1)) / n


def pyro_step(n: int, d: int):
    """One Pyro SVGD step on N(0, I) in d dimensions with n particles (a step callable)."""
    pyro.clear_param_store()

    def model():
        pyro.sample("x", dist.Normal(torch.zeros(d), 1.0).to_event(1))

    svgd = PyroSVGD(model, RBFSteinKernel(), PyroAdam({"lr": 0.1}), num_particles=n,
                    max_plate_nesting=0)
    svgd.step()
    return svgd.step


def _rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize()


def peak_extra_mb(fn) -> float:
    """MB by which one call of fn raises the resident set at its peak: a thread samples it every
    millisecond while fn runs (allocations are touched as they are filled)."""
    start, peak, done = _rss_bytes(), [0], threading.Event()

    def watch():
        while not done.is_set():
            peak[0] = max(peak[0], _rss_bytes())
            time.sleep(0.001)

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        fn()
    finally:
        done.set()
        watcher.join()
    return max(peak[0] - start, 0) / 2**20


def rows(min_run_time: float, grid: list, pyro_max: float) -> tuple[list, list]:
    g = torch.Generator().manual_seed(0)
    out = []
    best = isa_paths()[0]
    for n, d in grid:
        x, score = torch.randn(n, d, generator=g), torch.randn(n, d, generator=g)
        _, h = ops.svgd_rbf(x[:2000], score[:2000])
        h = float(h)
        paths = isa_paths() if n == 5000 else [best]
        fns = {f"fastebm {isa}": on_path(isa, lambda: ops.svgd_rbf(x, score)) for isa in paths}
        fns["fastebm φ only"] = on_path(best, lambda: ops.svgd_rbf(x, score, h))
        if n <= DENSE_MAX:
            fns["dense PyTorch"] = lambda: dense_phi(x, score)
        if pyro is not None and n * n * d <= pyro_max:
            fns["Pyro SVGD.step"] = pyro_step(n, d)
        if LazyTensor is not None:
            keops_phi(x[:100], score[:100], h)  # compile once, outside the timing
            fns["pykeops φ only"] = lambda: keops_phi(x, score, h)
        if n >= SLOW_N:  # one call each, timed and its memory watched together
            t, mem = {}, {}
            for name, fn in fns.items():
                start = time.perf_counter()
                mem[name] = peak_extra_mb(fn)
                t[name] = time.perf_counter() - start
        else:
            t = {name: median_seconds(fn, min_run_time) for name, fn in fns.items()}
            mem = {name: peak_extra_mb(fns[name]) for name in ("fastebm " + best, "dense PyTorch")
                   if name in fns}
        fast = t[f"fastebm {best}"]

        def cell(name, unit=1.0):
            return "—" if name not in t else f"{t[name] * unit:.3g}"

        def ratio(name, other=fast):
            return "—" if name not in t else f"{t[name] / other:.1f}×"

        out.append([f"{n:,} × {d}"] + [cell(f"fastebm {isa}") for isa in isa_paths()]
                   + [cell("fastebm φ only"), f"{(fast - t['fastebm φ only']) / t['fastebm φ only']:.2f}",
                      cell("dense PyTorch"), ratio("dense PyTorch"), cell("Pyro SVGD.step"),
                      ratio("Pyro SVGD.step"), cell("pykeops φ only"),
                      ratio("pykeops φ only", t["fastebm φ only"]),
                      f"{mem.get('fastebm ' + best, float('nan')):.0f}",
                      "—" if "dense PyTorch" not in mem else f"{mem['dense PyTorch']:.0f}"])
    header = (["n × d"] + [f"fastebm {isa} s" for isa in isa_paths()]
              + ["fastebm φ only s", "median / φ", "dense PyTorch s", "vs dense", "Pyro s",
                 "vs Pyro", "pykeops φ s", "vs pykeops (φ)", "fastebm extra MB",
                 "dense extra MB"])
    return header, out


def run(min_run_time: float = 1.0, quick: bool = False) -> str:
    header, table = (rows(min_run_time, QUICK_GRID, QUICK_PYRO_MAX) if quick
                     else rows(min_run_time, GRID, PYRO_MAX))
    return "### SVGD direction φ with the median bandwidth (float32)\n\n" + markdown_table(header, table)


if __name__ == "__main__":
    from common import machine_floor, machine_line

    print(machine_line(machine_floor()) + "\n")
    print(run())
