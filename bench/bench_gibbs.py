"""Block-Gibbs sweeps of a Bernoulli RBM: fastebm.rbm_gibbs on every CPU ISA path this machine has,
against the plain PyTorch loop and scikit-learn's BernoulliRBM.gibbs, with the two matmuls alone
(the GEMM floor) beside them, all interleaved in one run. ``--device cuda``: the two larger
cases on the GPU against the plain loop and cuBLAS's two matmuls."""

from __future__ import annotations

import numpy as np
import torch
from sklearn.neural_network import BernoulliRBM

import fastebm
from fastebm import reference

from common import isa_paths, markdown_table, on_path, script_main, side_by_side

CASES = [(100, 64, 100, 10), (256, 784, 500, 1), (1024, 784, 2000, 1)]  # (B, V, H, k)


def sklearn_rbm(W, b, c) -> BernoulliRBM:
    rbm = BernoulliRBM(n_components=W.shape[1], random_state=0)
    rbm.components_ = W.T.double().numpy()
    rbm.intercept_visible_, rbm.intercept_hidden_ = b.double().numpy(), c.double().numpy()
    rbm.random_state_ = np.random.RandomState(0)
    return rbm


def run(min_run_time: float = 1.0, device: str = "cpu") -> str:
    rows = []
    paths = isa_paths() if device == "cpu" else [device]
    for B, V, H, k in CASES if device == "cpu" else CASES[1:]:
        g = torch.Generator(device).manual_seed(0)
        W = 0.05 * torch.randn(V, H, generator=g, device=device)
        b, c = torch.zeros(V, device=device), torch.zeros(H, device=device)
        v = torch.bernoulli(torch.full((B, V), 0.5, device=device), generator=g)
        h_buf, v_buf = torch.empty(B, H, device=device), torch.empty(B, V, device=device)

        def gemm_floor():
            for _ in range(k):
                torch.mm(v, W, out=h_buf)
                torch.mm(h_buf, W.T, out=v_buf)

        def sweeps():
            return fastebm.rbm_gibbs(v, W, b, c, k, generator=g)

        fns = ({isa: on_path(isa, sweeps) for isa in paths} if device == "cpu"
               else {device: sweeps})
        fns.update({"torch": lambda: reference.rbm_gibbs_torch(v, W, b, c, k, g),
                    "floor": gemm_floor})
        if device == "cpu":
            rbm, v_np = sklearn_rbm(W, b, c), v.double().numpy()

            def sklearn_sweeps():
                x = v_np
                for _ in range(k):
                    x = rbm.gibbs(x)

            fns["sklearn"] = sklearn_sweeps
        t = side_by_side(fns, min_run_time, settle_after=("sklearn",))
        sk = t.get("sklearn")
        for isa in paths:
            rows.append([f"({B}, {V}, {H})", k, isa, f"{k / t[isa]:,.0f}", f"{k / t['torch']:,.0f}",
                         "—" if sk is None else f"{k / sk:,.0f}", f"{k / t['floor']:,.0f}",
                         f"**{t['torch'] / t[isa]:.2f}×**",
                         "—" if sk is None else f"{sk / t[isa]:.1f}×",
                         f"{t[isa] / t['floor']:.2f}×"])
    header = ["(B, V, H)", "k", "ISA path", "fastebm sweeps/s", "PyTorch loop sweeps/s",
              "scikit-learn sweeps/s", "GEMM floor sweeps/s", "fastebm vs PyTorch",
              "fastebm vs scikit-learn", "fastebm time / GEMM floor"]
    return "### rbm_gibbs (float32)\n\n" + markdown_table(header, rows)


if __name__ == "__main__":
    script_main(run, __doc__)
