"""One PCD-1 training epoch with the same hyper-parameters (plain SGD, lr 0.1, batch 100,
persistent chains = batch size, float32 for torch, float64 for scikit-learn): fastebm's Trainer
against scikit-learn's BernoulliRBM.fit and a plain PyTorch PCD loop, on digits (64-64) and the
MNIST 5k subset (784-500). Optionally (--ais) AIS with 1,000 chains x 10,000 betas on 784-500."""

from __future__ import annotations

import time

import numpy as np
import torch
from sklearn.neural_network import BernoulliRBM as SklearnRBM

from fastebm import data
from fastebm.models import BernoulliRBM
from fastebm.objectives import PCD
from fastebm.partition import ais
from fastebm.train import Trainer

from common import markdown_table, side_by_side

CASES = [("digits", 64), ("mnist5k", 500)]
LR, BATCH = 0.1, 100


def torch_pcd_epoch(x: torch.Tensor, W, b, c, chains: torch.Tensor, g: torch.Generator):
    """The plain PyTorch PCD-1 epoch: ATen ops from Python, one batch at a time."""
    for start in range(0, len(x), BATCH):
        v = x[start:start + BATCH]
        ph_data = torch.sigmoid(v @ W + c)
        h = torch.bernoulli(torch.sigmoid(chains @ W + c), generator=g)
        chains = torch.bernoulli(torch.sigmoid(h @ W.T + b), generator=g)
        ph_model = torch.sigmoid(chains @ W + c)
        W += LR * (v.T @ ph_data / len(v) - chains.T @ ph_model / len(chains))
        b += LR * (v.mean(0) - chains.mean(0))
        c += LR * (ph_data.mean(0) - ph_model.mean(0))
    return chains


def run(min_run_time: float = 1.0, with_ais: bool = False) -> str:
    rows = []
    for name, hidden in CASES:
        split = data.load(name)
        x = split.train
        V = x.shape[1]
        model = BernoulliRBM(V, hidden, generator=torch.Generator().manual_seed(0))
        trainer = Trainer(model, PCD(BATCH, 1), x, optimizer="sgd", lr=LR, momentum=0.0,
                          batch_size=BATCH, progress=False)
        sk = SklearnRBM(n_components=hidden, learning_rate=LR, batch_size=BATCH, n_iter=1,
                        random_state=0)
        x_np = x.double().numpy()
        g = torch.Generator().manual_seed(0)
        W, b, c = 0.01 * torch.randn(V, hidden, generator=g), torch.zeros(V), torch.zeros(hidden)
        state = {"chains": torch.bernoulli(torch.full((BATCH, V), 0.5), generator=g)}

        def torch_epoch():
            state["chains"] = torch_pcd_epoch(x, W, b, c, state["chains"], g)

        t = side_by_side({"ours": lambda: trainer.fit(trainer.epoch + 1),
                          "sklearn": lambda: sk.fit(x_np), "torch": torch_epoch}, min_run_time)
        t_ours, t_sk, t_torch = t["ours"], t["sklearn"], t["torch"]
        rows.append([f"{name} ({V}-{hidden}, {len(x)} images)", f"{t_ours * 1e3:.1f}",
                     f"{t_sk * 1e3:.1f}", f"{t_torch * 1e3:.1f}", f"**{t_sk / t_ours:.1f}×**",
                     f"{t_torch / t_ours:.1f}×"])
    header = ["data (V-H)", "fastebm ms/epoch", "scikit-learn ms/epoch", "PyTorch loop ms/epoch",
              "fastebm vs scikit-learn", "fastebm vs PyTorch"]
    out = "### PCD-1 training epoch\n\n" + markdown_table(header, rows)
    if with_ais:
        model = BernoulliRBM(784, 500, generator=torch.Generator().manual_seed(0))
        with torch.no_grad():
            model.W.normal_(0, 0.05)
        start = time.perf_counter()
        est = ais(model, 1000, 10000, generator=torch.Generator().manual_seed(0))
        seconds = time.perf_counter() - start
        out += (f"\n\nAIS, 784-500 RBM, 1,000 chains x 10,000 betas: {seconds:.1f} s "
                f"(log Z = {est.log_z:.2f} ± {est.stderr:.2f}).")
    return out


if __name__ == "__main__":
    print(run(with_ais=True))
