"""The fused Bernoulli pass alone: fastebm.bernoulli_sigmoid(x) (Philox + uniform + sigmoid +
compare in one vectorised pass) against torch.bernoulli(torch.sigmoid(x)) on the same 1M-element
tensor, one thread, on every CPU ISA path this machine has; the copy floor (read + write of the
tensor at the measured copy bandwidth) beside it."""

from __future__ import annotations

import torch

import fastebm

from common import isa_paths, markdown_table, on_path, side_by_side

N = 1 << 20


def run(min_run_time: float = 1.0, copy_gbs: float | None = None) -> str:
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    rows = []
    try:
        for dtype in (torch.float32, torch.float64):
            g = torch.Generator().manual_seed(0)
            x = torch.randn(N, generator=g, dtype=dtype)
            fns = {isa: on_path(isa, lambda: fastebm.bernoulli_sigmoid(x, generator=g))
                   for isa in isa_paths()}
            fns["torch"] = lambda: torch.bernoulli(torch.sigmoid(x), generator=g)
            t = side_by_side(fns, min_run_time)
            floor = 2 * x.element_size() * N / (copy_gbs * 1e9) if copy_gbs else None
            for isa in isa_paths():
                rows.append([str(dtype)[6:], isa, f"{N / t[isa] / 1e6:,.0f}",
                             f"{N / t['torch'] / 1e6:,.0f}", f"**{t['torch'] / t[isa]:.1f}×**",
                             f"{t[isa] / floor:.1f}×" if floor else "-"])
    finally:
        torch.set_num_threads(threads)
    header = ["dtype", "ISA path", "fastebm M samples/s", "torch.bernoulli(torch.sigmoid) M/s",
              "fastebm vs torch", "fastebm time / copy floor"]
    return "### bernoulli_sigmoid, 1M elements, 1 thread\n\n" + markdown_table(header, rows)


if __name__ == "__main__":
    print(run())
