"""Checkerboard heat-bath sweeps of the periodic 2-D Ising model: fastebm.ops.ising_gibbs (every CPU
ISA path this machine has, or the GPU) against the plain PyTorch checkerboard (roll-based
neighbour sums and torch.rand), with two random-number floors beside them, all interleaved in one
run: torch.rand of one uniform per site, and fastebm's cheapest Philox pass (bernoulli_sigmoid:
one uniform, an exp and a compare per element). Spin updates per second; β = 0.44 (critical)."""

from __future__ import annotations

import torch

import fastebm
from fastebm import reference

from common import isa_paths, markdown_table, on_path, script_main, side_by_side

CASES = [(64, 1), (64, 16), (256, 1), (256, 16), (1024, 1), (1024, 16)]  # (L, B)
TARGET_SITES = 1 << 24  # site updates per timed call (at least 4 sweeps)
QUICK_SITES = 1 << 21   # --quick: at least 1 sweep


def run(min_run_time: float = 1.0, device: str = "cpu", quick: bool = False) -> str:
    rows = []
    paths = isa_paths() if device == "cpu" else [device]
    for L, B in CASES:
        sites = B * L * L
        k = max(1, QUICK_SITES // sites) if quick else max(4, TARGET_SITES // sites)
        g = torch.Generator().manual_seed(0)
        s = torch.where(torch.rand(B, L, L, generator=g) < 0.5, 1.0, -1.0).to(device)
        logits = torch.zeros(sites, device=device)
        buf = torch.empty(sites, device=device)

        def fastebm_run():
            return fastebm.ops.ising_gibbs(s, k, beta=0.44)

        def rand_floor():
            for _ in range(k):
                torch.rand(sites, out=buf)

        def philox_floor():
            for _ in range(k):
                fastebm.ops.bernoulli_sigmoid(logits)

        fns = ({isa: on_path(isa, fastebm_run) for isa in paths} if device == "cpu"
               else {device: fastebm_run})
        fns.update({"torch": lambda: reference.ising_gibbs_torch(s, k, 0.44),
                    "rand": rand_floor, "philox": philox_floor})
        t = side_by_side(fns, min_run_time)
        rate = {name: k * sites / seconds for name, seconds in t.items()}
        for path in paths:
            rows.append([L, B, path, f"{rate[path]:.3g}", f"{rate['torch']:.3g}",
                         f"**{t['torch'] / t[path]:.1f}×**", f"{rate['rand']:.3g}",
                         f"{rate['philox']:.3g}", f"{t[path] / t['rand']:.2f}×"])
    header = ["L", "B", "path", "fastebm updates/s", "PyTorch updates/s", "fastebm vs PyTorch",
              "torch.rand floor /s", "fastebm Philox pass /s", "fastebm time / rand floor"]
    return f"### ising_gibbs (float32, {device})\n\n" + markdown_table(header, rows)


if __name__ == "__main__":
    script_main(run, __doc__)
