"""One PCD-1 training epoch with the same hyper-parameters (plain SGD, lr 0.1, persistent chains =
batch size, float32 for torch, float64 for scikit-learn): fastebm's Trainer (on every CPU ISA
path) against scikit-learn's BernoulliRBM.fit and a plain PyTorch PCD loop, on digits (64-64,
batch 100 and 20) and the MNIST 5k subset (784-500), beside the epoch's GEMM floor (its matrix
products at the machine's measured GEMM rate). A Gaussian-Bernoulli RBM's PCD epoch on 784-500.
Optionally (--ais) AIS with 1,000 chains x 10,000 betas on 784-500, Bernoulli and Gaussian."""

from __future__ import annotations

import time

import torch
from sklearn.neural_network import BernoulliRBM as SklearnRBM

from fastebm import data
from fastebm.models import BernoulliRBM, GaussianBernoulliRBM
from fastebm.objectives import PCD
from fastebm.partition import ais
from fastebm.training.trainer import Trainer

from common import isa_paths, markdown_table, on_path, side_by_side

CASES = [("digits", 64, 100), ("digits", 64, 20), ("mnist5k", 500, 100)]
LR = 0.1
GRBM_LR = 1e-3  # a learnt σ diverges at 0.1 on binary pixels


def torch_pcd_epoch(x: torch.Tensor, W, b, c, chains: torch.Tensor, batch: int,
                    g: torch.Generator):
    """The plain PyTorch PCD-1 epoch: ATen ops from Python, one batch at a time."""
    for start in range(0, len(x), batch):
        v = x[start:start + batch]
        ph_data = torch.sigmoid(v @ W + c)
        h = torch.bernoulli(torch.sigmoid(chains @ W + c), generator=g)
        chains = torch.bernoulli(torch.sigmoid(h @ W.T + b), generator=g)
        ph_model = torch.sigmoid(chains @ W + c)
        W += LR * (v.T @ ph_data / len(v) - chains.T @ ph_model / len(chains))
        b += LR * (v.mean(0) - chains.mean(0))
        c += LR * (ph_data.mean(0) - ph_model.mean(0))
    return chains


def gemm_floor_seconds(n_rows: int, V: int, H: int, batch: int, gflops: float) -> float:
    """The epoch's matrix products alone at the measured rate: per step of B data rows and N =
    batch chains, the sweep's two [N, V, H] products and the statistics' two [B + N, V, H] ones."""
    flops = sum(2 * V * H * (2 * batch + 2 * (min(batch, n_rows - s) + batch))
                for s in range(0, n_rows, batch))
    return flops / (gflops * 1e9)


def pcd_trainer(model, x, batch):
    return Trainer(model, PCD(batch, 1), x, optimizer="sgd", lr=LR, momentum=0.0,
                   batch_size=batch, progress=False)


def bernoulli_row(name: str, hidden: int, batch: int, gflops: float, min_run_time: float) -> list:
    x = data.load(name).train
    V = x.shape[1]
    paths = isa_paths()
    trainers = {isa: pcd_trainer(BernoulliRBM(V, hidden, generator=torch.Generator().manual_seed(0)),
                                 x, batch) for isa in paths}
    sk = SklearnRBM(n_components=hidden, learning_rate=LR, batch_size=batch, n_iter=1, random_state=0)
    x_np = x.double().numpy()
    g = torch.Generator().manual_seed(0)
    W, b, c = 0.01 * torch.randn(V, hidden, generator=g), torch.zeros(V), torch.zeros(hidden)
    state = {"chains": torch.bernoulli(torch.full((batch, V), 0.5), generator=g)}

    def torch_epoch():
        state["chains"] = torch_pcd_epoch(x, W, b, c, state["chains"], batch, g)

    fns = {isa: on_path(isa, lambda t=t: t.fit(t.epoch + 1)) for isa, t in trainers.items()}
    t = side_by_side({**fns, "sklearn": lambda: sk.fit(x_np), "torch": torch_epoch}, min_run_time,
                     settle_after=("sklearn",))
    best = t[paths[0]]
    floor = gemm_floor_seconds(len(x), V, hidden, batch, gflops)
    return ([f"{name} {V}-{hidden}, batch {batch}"]
            + [f"{t[isa] * 1e3:.1f}" for isa in paths]
            + [f"{t['sklearn'] * 1e3:.1f}", f"{t['torch'] * 1e3:.1f}",
               f"**{t['sklearn'] / best:.1f}×**", f"{t['torch'] / best:.1f}×",
               f"{floor * 1e3:.1f}", f"{best / floor:.2f}×"])


def grbm_epoch_seconds(min_run_time: float) -> float:
    """A Gaussian-Bernoulli RBM's PCD-1 epoch (fused grbm_cd_grad + fused SGD, one call per
    step) on the binarised MNIST 5k pixels taken as real values, 784-500, batch 100, lr 1e-3."""
    x = data.load("mnist5k").train
    model = GaussianBernoulliRBM(784, 500, generator=torch.Generator().manual_seed(0))
    trainer = Trainer(model, PCD(100, 1), x, optimizer="sgd", lr=GRBM_LR, momentum=0.0,
                      batch_size=100, progress=False)
    return side_by_side({"grbm": lambda: trainer.fit(trainer.epoch + 1)}, min_run_time)["grbm"]


def ais_seconds(model) -> tuple[float, float, float]:
    with torch.no_grad():
        model.W.normal_(0, 0.05, generator=torch.Generator().manual_seed(1))
    start = time.perf_counter()
    est = ais(model, 1000, 10000, generator=torch.Generator().manual_seed(0))
    return time.perf_counter() - start, est.log_z, est.stderr


def run(min_run_time: float = 1.0, gflops: float = 65.0, with_ais: bool = False) -> str:
    paths = isa_paths()
    rows = [bernoulli_row(name, hidden, batch, gflops, min_run_time) for name, hidden, batch in CASES]
    header = (["data, batch"] + [f"fastebm {isa} ms" for isa in paths]
              + ["scikit-learn ms", "PyTorch loop ms", "fastebm vs scikit-learn",
                 "fastebm vs PyTorch", "GEMM floor ms", "fastebm / floor"])
    out = "### PCD-1 training epoch\n\n" + markdown_table(header, rows)
    out += (f"\n\nGaussian-Bernoulli RBM 784-500, PCD-1 epoch (4,000 rows, batch 100): "
            f"{grbm_epoch_seconds(min_run_time):.2f} s.")
    if with_ais:
        for label, cls in (("Bernoulli", BernoulliRBM), ("Gaussian-Bernoulli", GaussianBernoulliRBM)):
            seconds, log_z, stderr = ais_seconds(cls(784, 500))
            out += (f"\n\nAIS, {label} RBM 784-500, 1,000 chains x 10,000 betas: {seconds:.1f} s "
                    f"(log Z = {log_z:.2f} ± {stderr:.2f}).")
    return out


if __name__ == "__main__":
    from common import machine_floor

    print(run(gflops=machine_floor()["gemm_gflops"], with_ais=True))
