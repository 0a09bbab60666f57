"""Block-Gibbs sweeps of a Bernoulli RBM: fastebm.rbm_gibbs against the plain PyTorch loop and
scikit-learn's BernoulliRBM.gibbs, with the two matmuls alone (the GEMM floor) beside them."""

from __future__ import annotations

import numpy as np
import torch
from sklearn.neural_network import BernoulliRBM

import fastebm
from fastebm import reference

from common import markdown_table, side_by_side

CASES = [(100, 64, 100, 10), (256, 784, 500, 1), (1024, 784, 2000, 1)]  # (B, V, H, k)


def sklearn_rbm(W, b, c) -> BernoulliRBM:
    rbm = BernoulliRBM(n_components=W.shape[1], random_state=0)
    rbm.components_ = W.T.double().numpy()
    rbm.intercept_visible_, rbm.intercept_hidden_ = b.double().numpy(), c.double().numpy()
    rbm.random_state_ = np.random.RandomState(0)
    return rbm


def run(min_run_time: float = 1.0) -> str:
    rows = []
    for B, V, H, k in CASES:
        g = torch.Generator().manual_seed(0)
        W = 0.05 * torch.randn(V, H, generator=g)
        b, c = torch.zeros(V), torch.zeros(H)
        v = torch.bernoulli(torch.full((B, V), 0.5), generator=g)
        h_buf, v_buf = torch.empty(B, H), torch.empty(B, V)

        def gemm_floor():
            for _ in range(k):
                torch.mm(v, W, out=h_buf)
                torch.mm(h_buf, W.T, out=v_buf)

        rbm, v_np = sklearn_rbm(W, b, c), v.double().numpy()

        def sklearn_sweeps():
            x = v_np
            for _ in range(k):
                x = rbm.gibbs(x)

        t = side_by_side({"ours": lambda: fastebm.rbm_gibbs(v, W, b, c, k, generator=g),
                          "torch": lambda: reference.rbm_gibbs_torch(v, W, b, c, k, g),
                          "floor": gemm_floor, "sklearn": sklearn_sweeps}, min_run_time)
        t_ours, t_torch, t_floor, t_sk = t["ours"], t["torch"], t["floor"], t["sklearn"]
        rows.append([f"({B}, {V}, {H})", k, f"{k / t_ours:,.0f}", f"{k / t_torch:,.0f}",
                     f"{k / t_sk:,.0f}", f"{k / t_floor:,.0f}", f"**{t_torch / t_ours:.2f}×**",
                     f"{t_sk / t_ours:.1f}×", f"{t_ours / t_floor:.2f}×"])
    header = ["(B, V, H)", "k", "fastebm sweeps/s", "PyTorch loop sweeps/s",
              "scikit-learn sweeps/s", "GEMM floor sweeps/s", "fastebm vs PyTorch",
              "fastebm vs scikit-learn", "fastebm time / GEMM floor"]
    return "### rbm_gibbs (float32)\n\n" + markdown_table(header, rows)


if __name__ == "__main__":
    print(run())
