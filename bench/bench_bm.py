"""Sequential-scan Gibbs sweeps of a fully visible Boltzmann machine: fastebm.ops.bm_gibbs (every
CPU ISA path this machine has, or the GPU) against the plain PyTorch loop over sites (one
matrix-vector product and torch.rand per site), with the GEMM floor (one [B, n] × [n, n] product
per sweep: the work of recomputing every field once) beside them, interleaved in one run."""

from __future__ import annotations

import torch

import fastebm
from fastebm import reference

from common import isa_paths, markdown_table, on_path, script_main, side_by_side

CASES = [(64, 64), (64, 1024), (784, 64), (784, 1024)]  # (n, B)


def run(min_run_time: float = 1.0, device: str = "cpu") -> str:
    rows = []
    paths = isa_paths() if device == "cpu" else [device]
    for n, B in CASES:
        g = torch.Generator().manual_seed(0)
        A = torch.randn(n, n, generator=g) / n**0.5
        J = ((A + A.T) / 2).fill_diagonal_(0).to(device)
        b = (0.1 * torch.randn(n, generator=g)).to(device)
        x = torch.bernoulli(torch.full((B, n), 0.5), generator=g).to(device)
        k = 4 if n * B <= 64 * 1024 else 1
        out = torch.empty(B, n, device=device)

        def fastebm_run():
            return fastebm.ops.bm_gibbs(x, J, b, k)

        def gemm_floor():
            for _ in range(k):
                torch.mm(x, J, out=out)

        fns = ({isa: on_path(isa, fastebm_run) for isa in paths} if device == "cpu"
               else {device: fastebm_run})
        fns.update({"torch": lambda: reference.bm_gibbs_torch(x, J, b, k), "floor": gemm_floor})
        t = side_by_side(fns, min_run_time)
        for path in paths:
            rows.append([n, B, path, f"{k / t[path]:,.0f}", f"{k / t['torch']:,.1f}",
                         f"**{t['torch'] / t[path]:.0f}×**", f"{k / t['floor']:,.0f}",
                         f"{t[path] / t['floor']:.1f}×"])
    header = ["n", "B", "path", "fastebm sweeps/s", "PyTorch loop sweeps/s", "fastebm vs PyTorch",
              "GEMM floor sweeps/s", "fastebm time / GEMM floor"]
    return f"### bm_gibbs (float32, {device})\n\n" + markdown_table(header, rows)


if __name__ == "__main__":
    script_main(run, __doc__)
