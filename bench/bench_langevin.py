"""The Langevin family side by side in one process, on every CPU ISA path:

1. ``langevin_step`` on 4M float32 elements against the plain PyTorch expression
   x - ε·grad + √(2ε)·randn_like(x), beside the memory-bandwidth floor (12 bytes per element at
   the machine's copy rate).
2. Whole ULA and MALA chains on a 2-D Gaussian mixture (``gmm_langevin``, 1,024 chains × 1,000
   steps) against the same chains as a plain PyTorch loop (closed-form energy and gradient).
3. Samplers with an autograd energy on torchebm's double well (1,024 chains × 128-D × 200 steps):
   fastebm's LangevinSampler (ULA on every ISA path; MALA and the rest on the best path) and
   HMCSampler against a plain PyTorch autograd loop
   and torchebm's LangevinDynamics and HamiltonianMonteCarlo (when torchebm is installed: `make
   bench-env`; it is a bench-only dependency).
4. ULA on points in the plane with a small MLP energy (2-64-64-1, SiLU; 1,024 and 64 chains ×
   200 steps), the toy EBM's shape: fastebm's LangevinSampler, eager and with the compiled
   energy, against the plain PyTorch autograd loop.

``--device cuda`` runs one table on the GPU instead: ULA with a small conv energy on 28 × 28
states (256 chains × 100 steps), fastebm's LangevinSampler eager and as one CUDA graph
(``cuda_graph=True``) against the plain PyTorch autograd loop.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from fastebm import ops, reference
from fastebm.models import EnergyModel, GaussianMixtureEnergy
from fastebm.samplers import HMCSampler, LangevinSampler

from common import isa_paths, markdown_table, on_path, script_main, side_by_side

try:
    from torchebm.core import DoubleWellModel
    from torchebm.samplers import HamiltonianMonteCarlo, LangevinDynamics
except ImportError:  # the bench environment without torchebm
    DoubleWellModel = None

STEP = 0.01
N_ELEMENTS = 4 * 1024 * 1024


def step_row(copy_gbs: float, min_run_time: float) -> tuple[list, list]:
    g = torch.Generator().manual_seed(0)
    x, grad = torch.randn(N_ELEMENTS, generator=g), torch.randn(N_ELEMENTS, generator=g)
    scale = math.sqrt(2 * STEP)
    fns = {isa: on_path(isa, lambda: ops.langevin_step(x, grad, STEP, generator=g))
           for isa in isa_paths()}
    fns["torch"] = lambda: x - STEP * grad + scale * torch.randn(x.shape, generator=g)
    t = side_by_side(fns, min_run_time)
    best = t[isa_paths()[0]]
    floor = 12 * N_ELEMENTS / (copy_gbs * 1e9)
    header = ([f"fastebm {isa} ms" for isa in isa_paths()]
              + ["PyTorch ms", "fastebm vs PyTorch", "M elements/s (fastebm, PyTorch)",
                 "bandwidth floor ms", "fastebm / floor"])
    row = ([f"{t[isa] * 1e3:.2f}" for isa in isa_paths()]
           + [f"{t['torch'] * 1e3:.2f}", f"**{t['torch'] / best:.1f}×**",
              f"{N_ELEMENTS / best / 1e6:.0f}, {N_ELEMENTS / t['torch'] / 1e6:.0f}",
              f"{floor * 1e3:.2f}", f"{best / floor:.2f}×"])
    return header, row


def mixture() -> GaussianMixtureEnergy:
    return GaussianMixtureEnergy(torch.tensor([1.0, 2.0, 1.5, 0.5]),
                                 torch.tensor([[-2.0, 0.0], [2.0, 1.0], [0.0, -2.5], [1.0, 3.0]]),
                                 torch.tensor([[0.7, 1.0], [1.0, 0.5], [0.8, 0.8], [0.4, 0.6]]))


def torch_chains(x, model, steps: int, mala: bool, g):
    """The plain PyTorch loop: the closed-form energy and gradient, then the Langevin step and
    (MALA) the accept test, all from Python."""
    w, m, s = model.log_weights, model.means, model.stds
    energy, grad = reference.gmm_energy_grad(x, w, m, s)
    for _ in range(steps):
        prop = x - 0.1 * grad + math.sqrt(0.2) * torch.randn(x.shape, generator=g)
        energy_p, grad_p = reference.gmm_energy_grad(prop, w, m, s)
        if mala:
            log_alpha = reference.mala_log_alpha(x, prop, energy, energy_p, grad, grad_p, 0.1)
            keep = torch.rand(len(x), generator=g) < log_alpha.exp()
            x = torch.where(keep[:, None], prop, x)
            energy, grad = torch.where(keep, energy_p, energy), torch.where(keep[:, None], grad_p, grad)
        else:
            x, grad = prop, grad_p
    return x


def chains_rows(min_run_time: float) -> tuple[list, list]:
    model, g = mixture(), torch.Generator().manual_seed(1)
    x = torch.randn(1024, 2, generator=g)
    rows = []
    for mala in (False, True):
        fns = {isa: on_path(isa, lambda: model.langevin_chains(x, 0.1, 1000, mala=mala, generator=g))
               for isa in isa_paths()}
        fns["torch"] = lambda: torch_chains(x, model, 1000, mala, g)
        t = side_by_side(fns, min_run_time, rounds=3)
        best = t[isa_paths()[0]]
        rows.append([f"{'MALA' if mala else 'ULA'}, 1,024 × 2-D × 1,000 steps"]
                    + [f"{t[isa] * 1e3:.1f}" for isa in isa_paths()]
                    + [f"{t['torch'] * 1e3:.1f}", f"**{t['torch'] / best:.0f}×**"])
    header = (["mixture chains (K = 4)"] + [f"fastebm {isa} ms" for isa in isa_paths()]
              + ["PyTorch loop ms", "fastebm vs PyTorch"])
    return header, rows


class DoubleWell(nn.Module):
    """torchebm's double well, h Σᵢ (xᵢ² - b²)² with h = 2, b = 1, as a plain network."""

    def forward(self, x):
        return 2.0 * (x.square() - 1.0).square().sum(-1)


def torch_autograd_langevin(x, net, steps: int, step: float, g):
    for _ in range(steps):
        x = x.detach().requires_grad_(True)
        (grad,) = torch.autograd.grad(net(x).sum(), x)
        x = x.detach() - step * grad + math.sqrt(2 * step) * torch.randn(
            x.shape, generator=g, device=x.device)
    return x


class ConvEnergy(nn.Module):
    """A small conv energy on 1 × 28 × 28 states (flat rows): two stride-2 3 × 3 convolutions
    with SiLU, then a linear head."""

    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Unflatten(1, (1, 28, 28)), nn.Conv2d(1, 32, 3, 2, 1),
                                 nn.SiLU(), nn.Conv2d(32, 64, 3, 2, 1), nn.SiLU(), nn.Flatten(),
                                 nn.Linear(64 * 7 * 7, 1))

    def forward(self, x):
        return self.net(x).squeeze(1)


def gpu_rows(min_run_time: float, device: str = "cuda", batch: int = 256,
             steps: int = 100) -> tuple[list, list]:
    torch.manual_seed(0)
    net = ConvEnergy().to(device)
    model = EnergyModel(net, (784,))
    g = torch.Generator(device).manual_seed(2)
    x0 = torch.randn(batch, 784, generator=g, device=device)
    eager = LangevinSampler(model, STEP, steps, progress=False)
    graphed = LangevinSampler(model, STEP, steps, progress=False, cuda_graph=True)
    t = side_by_side({"fastebm ULA": lambda: eager.run(x0, generator=g),
                      "fastebm ULA, cuda_graph=True": lambda: graphed.run(x0, generator=g),
                      "PyTorch autograd ULA loop":
                          lambda: torch_autograd_langevin(x0, net, steps, STEP, g)},
                     min_run_time, rounds=3)
    rows = [[name, f"{sec * 1e3:.1f}", f"{t['PyTorch autograd ULA loop'] / sec:.2f}×"]
            for name, sec in t.items()]
    return [f"{batch} × 28 × 28, small conv energy, {steps} ULA steps", "ms",
            "vs PyTorch loop"], rows


def sampler_rows(min_run_time: float) -> tuple[list, list]:
    g = torch.Generator().manual_seed(2)
    x0 = torch.randn(1024, 128, generator=g)
    model = EnergyModel(DoubleWell(), (128,))
    ula = LangevinSampler(model, STEP, 200, progress=False)
    mala = LangevinSampler(model, STEP, 200, mala=True, progress=False)
    hmc = HMCSampler(model, STEP, 5, 40, progress=False)  # 200 leapfrog steps
    compiled = LangevinSampler(EnergyModel(DoubleWell(), (128,), compile=True), STEP, 200,
                               progress=False)
    fns = {f"fastebm ULA ({isa})": on_path(isa, lambda: ula.run(x0, generator=g))
           for isa in isa_paths()}
    fns |= {"fastebm ULA, compiled energy (EnergyModel(compile=True))":
               lambda: compiled.run(x0, generator=g),
           "fastebm MALA": lambda: mala.run(x0, generator=g),
           "fastebm HMC (40 × 5 leapfrog)": lambda: hmc.run(x0, generator=g),
           "PyTorch autograd ULA loop": lambda: torch_autograd_langevin(x0, DoubleWell(), 200, STEP, g)}
    if DoubleWellModel is not None:
        well = DoubleWellModel(barrier_height=2.0, b=1.0)
        tebm_ula = LangevinDynamics(well, step_size=STEP, noise_scale=1.0)
        tebm_hmc = HamiltonianMonteCarlo(well, step_size=STEP, n_leapfrog_steps=5)
        fns["torchebm LangevinDynamics"] = lambda: tebm_ula.sample(x=x0.clone(), n_steps=200)
        fns["torchebm HMC (40 × 5 leapfrog)"] = lambda: tebm_hmc.sample(x=x0.clone(), n_steps=40)
    t = side_by_side(fns, min_run_time, rounds=3)
    ref = t.get("torchebm LangevinDynamics")
    rows = [[name, f"{sec * 1e3:.0f}", f"{1024 / sec:,.0f}",
             f"{t['PyTorch autograd ULA loop'] / sec:.2f}×",
             "—" if ref is None else f"{ref / sec:.2f}×"] for name, sec in t.items()]
    header = ["1,024 × 128-D double well, 200 steps, autograd energy", "ms", "samples/s",
              "vs PyTorch loop", "vs torchebm Langevin"]
    if DoubleWellModel is None:
        rows.append(["torchebm", "not installed (make bench-env)", "", "", ""])
    return header, rows


class PointEnergy(nn.Module):
    """A toy EBM's energy on points in the plane: an MLP 2-64-64-1 with SiLU."""

    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(2, 64), nn.SiLU(), nn.Linear(64, 64), nn.SiLU(),
                                 nn.Linear(64, 1))

    def forward(self, x):
        return self.net(x).squeeze(1)


def point_rows(min_run_time: float) -> tuple[list, list]:
    torch.manual_seed(0)
    net = PointEnergy()
    eager = LangevinSampler(EnergyModel(net, (2,)), STEP, 200, progress=False)
    compiled = LangevinSampler(EnergyModel(net, (2,), compile=True), STEP, 200, progress=False)
    rows = []
    for n in (1024, 64):
        g = torch.Generator().manual_seed(2)
        x0 = torch.randn(n, 2, generator=g)
        t = side_by_side({"eager": lambda: eager.run(x0, generator=g),
                          "compiled": lambda: compiled.run(x0, generator=g),
                          "plain": lambda: torch_autograd_langevin(x0, net, 200, STEP, g)},
                         min_run_time, rounds=5)
        rows.append([f"{n:,} × 2", f"{t['eager'] * 1e3:.1f}", f"{t['compiled'] * 1e3:.1f}",
                     f"{t['plain'] * 1e3:.1f}", f"**{t['plain'] / t['eager']:.2f}×**",
                     f"{t['plain'] / t['compiled']:.2f}×"])
    header = ["points, MLP energy, 200 ULA steps", "fastebm ms", "fastebm, compiled energy ms",
              "PyTorch loop ms", "fastebm vs PyTorch", "compiled energy vs PyTorch"]
    return header, rows


def run(min_run_time: float = 1.0, device: str = "cpu", copy_gbs: float = 15.0) -> str:
    if device != "cpu":
        header, rows = gpu_rows(min_run_time, device)
        return "### Langevin on a conv energy\n\n" + markdown_table(header, rows)
    header, row = step_row(copy_gbs, min_run_time)
    out = ("### Langevin step (4M float32 elements)\n\n" + markdown_table(header, [row]))
    header, rows = chains_rows(min_run_time)
    out += "\n\n### Whole chains on a Gaussian mixture\n\n" + markdown_table(header, rows)
    header, rows = sampler_rows(min_run_time)
    out += "\n\n### Samplers on an autograd energy\n\n" + markdown_table(header, rows)
    header, rows = point_rows(min_run_time)
    out += "\n\n### ULA on points in the plane\n\n" + markdown_table(header, rows)
    return out


if __name__ == "__main__":
    script_main(run, __doc__)
