"""The edges of float32 and the refusals of the ops: each case gives the right answer or a
ValueError / TypeError whose message names the argument at fault (never a silent NaN / Inf, a
saturated value or an internal assert)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from fastebm import ops

V, H = 4, 3


def rbm_params(dtype=torch.float32):
    g = torch.Generator().manual_seed(0)
    return (torch.randn(V, H, generator=g, dtype=dtype), torch.zeros(V, dtype=dtype),
            torch.zeros(H, dtype=dtype))


def leapfrog_args():
    x = torch.zeros(2, 2)
    return x, x.clone(), torch.zeros(2), x.clone(), x.clone(), x.clone()


#: (case, call, exception type, words the message must hold)
REFUSED = [
    ("ising J beyond float32", lambda: ops.ising_gibbs(torch.ones(4, 4, 4), 1, beta=0.0, J=1e39),
     ValueError, ["'J'", "float32"]),
    ("ising h beyond float32", lambda: ops.ising_gibbs(torch.ones(4, 4, 4), 1, beta=0.0, h=-1e39),
     ValueError, ["'h'", "float32"]),
    ("ising beta beyond float32", lambda: ops.ising_gibbs(torch.ones(4, 4, 4), 1, beta=1e39),
     ValueError, ["beta", "float32"]),
    ("bm beta beyond float32", lambda: ops.bm_gibbs(torch.ones(3, 4), torch.zeros(4, 4),
                                                    torch.zeros(4), beta=1e39),
     ValueError, ["beta", "float32"]),
    ("grbm_gibbs sigma overflows v", lambda: ops.grbm_gibbs(
        torch.rand(5, V), *rbm_params(), torch.full((V,), 3e38)), ValueError, ["'sigma'"]),
    ("grbm_cd_grad gradients overflow", lambda: ops.grbm_cd_grad(
        torch.full((5, V), 1e20), torch.rand(5, V), *rbm_params(), torch.ones(V)),
     ValueError, ["'v_data'"]),
    ("reparameterize overflows float64", lambda: ops.reparameterize(
        torch.zeros(1, dtype=torch.float64), torch.tensor([1000.0], dtype=torch.float64),
        noise=torch.ones(1, dtype=torch.float64)), ValueError, ["'log_sigma'"]),
    ("svgd subnormal bandwidth", lambda: ops.svgd_rbf(torch.randn(50, 3), torch.randn(50, 3),
                                                      1e-40), ValueError, ["'bandwidth'"]),
    ("svgd bandwidth beyond float32", lambda: ops.svgd_rbf(torch.randn(50, 3), torch.randn(50, 3),
                                                           1e300), ValueError, ["'bandwidth'"]),
    ("svgd particles too close", lambda: ops.svgd_rbf(torch.randn(50, 3) * 1e-30,
                                                      torch.randn(50, 3)), ValueError, ["'x'"]),
    ("svgd particles too spread", lambda: ops.svgd_rbf(torch.randn(300, 3) * 1e20,
                                                       torch.zeros(300, 3)), ValueError, ["'x'"]),
    ("svgd score overflows phi", lambda: ops.svgd_rbf(torch.randn(50, 3),
                                                      torch.full((50, 3), 3e38)),
     ValueError, ["'score'"]),
    ("gmm_langevin diverges", lambda: ops.gmm_langevin(
        torch.full((4, 2), 1e30), torch.zeros(2), torch.randn(2, 2), torch.ones(2, 2), 0.1, 5),
     ValueError, ["diverged", "'step_size'"]),
    ("gmm_langevin tiny stds", lambda: ops.gmm_langevin(
        torch.randn(4, 2), torch.zeros(2), torch.randn(2, 2), torch.full((2, 2), 1e-30), 0.1, 5),
     ValueError, ["'stds'"]),
    ("ddpm alphas as a list", lambda: ops.ddpm_step(torch.randn(2, 3), torch.randn(2, 3), 5,
                                                    [0.9] * 10), TypeError, ["alphas_cumprod"]),
    ("ddpm alphas as an array", lambda: ops.ddpm_step(torch.randn(2, 3), torch.randn(2, 3), 5,
                                                      np.linspace(0.99, 0.1, 10)),
     TypeError, ["alphas_cumprod"]),
    ("ddpm 0-d x_t", lambda: ops.ddpm_step(torch.randn(()), torch.randn(()), 5,
                                           torch.linspace(0.99, 0.1, 10)), ValueError, ["x_t"]),
    ("ddpm t beyond int64", lambda: ops.ddpm_step(torch.randn(2, 3), torch.randn(2, 3), 2**63,
                                                  torch.linspace(0.99, 0.1, 10)),
     ValueError, ["t "]),
    ("cd k as a float", lambda: ops.rbm_cd_grad(torch.ones(5, V), torch.ones(5, V), *rbm_params(),
                                                2.0), TypeError, ["k "]),
    ("gibbs n_steps as a float", lambda: ops.rbm_gibbs(torch.ones(5, V), *rbm_params(), 2.5),
     TypeError, ["n_steps"]),
    ("svgd rows as floats", lambda: ops.svgd_rbf(torch.randn(5, 3), torch.randn(5, 3),
                                                 rows=(0.0, 2.0)), TypeError, ["rows"]),
    ("philox seed as a float", lambda: ops.philox4x32(torch.zeros(4, dtype=torch.int64), seed=1.5),
     TypeError, ["seed"]),
    ("langevin step_size beyond float32", lambda: ops.langevin_step(
        torch.zeros(3, 2), torch.zeros(3, 2), 1e39), ValueError, ["'step_size'", "float32"]),
]


@pytest.mark.parametrize("case,call,error,words", REFUSED, ids=[c[0] for c in REFUSED])
def test_refused_with_the_argument_named(case, call, error, words):
    with pytest.raises(error) as info:
        call()
    assert all(w in str(info.value) for w in words), str(info.value)


def test_reparameterize_is_exact_up_to_the_largest_float32():
    z = ops.reparameterize(torch.zeros(1), torch.tensor([88.5]), noise=torch.ones(1))
    assert torch.isfinite(z).all() and math.isclose(float(z), math.exp(88.5), rel_tol=1e-5)
    tiny = ops.reparameterize(torch.zeros(1), torch.tensor([-1000.0]), noise=torch.ones(1))
    assert float(tiny) == 0.0  # e^-1000 underflows to 0, not to the clamp's e^-87


@pytest.mark.parametrize("bad", [float("inf"), float("nan")])
@pytest.mark.parametrize("where", ["x_prop", "grad_prop", "energy_prop"])
@pytest.mark.parametrize("kind", ["mala", "hmc"])
def test_a_non_finite_proposal_is_rejected(kind, where, bad):
    x = torch.zeros(4, 2)
    args = dict(x=x, x_prop=x + 0.1, energy=torch.zeros(4), energy_prop=torch.zeros(4) - 5,
                grad=x.clone(), grad_prop=x.clone())
    args[where] = args[where].clone()
    args[where][0] = bad if where != "energy_prop" else -math.inf if bad == math.inf else bad
    if kind == "mala":
        out = ops.mala_accept(**args, step_size=0.1, generator=torch.Generator().manual_seed(0))
    else:
        out = ops.hmc_accept(**args, p0=x.clone(), p_half=x.clone(), step_size=0.1,
                             generator=torch.Generator().manual_seed(0))
    assert not out.accepted[0] and out.accepted[1:].all()  # energy_prop -5: certain acceptance
    assert torch.isfinite(out.x).all() and torch.isfinite(out.energy).all()


def test_svgd_gives_the_same_bits_whatever_the_layout():
    x = torch.randn(3, 200).T  # a transposed view
    score = torch.randn(200, 3)
    assert torch.equal(ops.svgd_rbf(x, score).phi, ops.svgd_rbf(x.contiguous(), score).phi)


def energy_model():
    from fastebm.models import EnergyModel
    torch.manual_seed(0)
    return EnergyModel(torch.nn.Sequential(torch.nn.Linear(2, 8), torch.nn.SiLU(),
                                           torch.nn.Linear(8, 1)), (2,))


def float64_scale_energy():
    from fastebm.models import EnergyModel

    class Scaled(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.scale = torch.nn.Parameter(torch.ones(2, dtype=torch.float64))

        def forward(self, x):
            return (self.scale * x).square().sum(1)

    return EnergyModel(Scaled(), (2,))


def python_refusals():
    from fastebm.models import BernoulliRBM, BoltzmannMachine, GaussianBernoulliRBM
    from fastebm.objectives import PCD, ScoreMatching
    from fastebm.samplers import SVGD
    from fastebm.training import Trainer

    def nan_sigma():
        model = GaussianBernoulliRBM(4, 3)
        with torch.no_grad():
            model.log_sigma.fill_(float("nan"))
        return model.free_energy(torch.randn(2, 4))

    def nan_couplings():
        J = torch.zeros(4, 4)
        J[0, 1] = J[1, 0] = float("nan")
        BoltzmannMachine(4).set_couplings(J, torch.zeros(4))

    binary = torch.ones(10, 4)
    return [
        ("score matching on an RBM", lambda: Trainer(BernoulliRBM(4, 3), ScoreMatching(), binary,
                                                     progress=False), TypeError,
         ["ScoreMatching", "energy", "BernoulliRBM"]),
        ("PCD on an energy model", lambda: Trainer(energy_model(), PCD(10, 1), torch.randn(10, 2),
                                                   progress=False), TypeError,
         ["PCD", "n_visible", "EnergyModel"]),
        ("no objective", lambda: Trainer(BernoulliRBM(4, 3), None, binary, progress=False),
         TypeError, ["objective"]),
        ("lr beyond float32", lambda: Trainer(BernoulliRBM(4, 3), PCD(10, 1), binary, lr=1e300,
                                              progress=False), ValueError, ["lr", "float32"]),
        ("float64 states into a float32 energy", lambda: energy_model().energy(
            torch.randn(3, 2, dtype=torch.float64)), TypeError, ["float64", "float32"]),
        ("wrong event shape", lambda: energy_model().energy(torch.randn(3, 3)), ValueError,
         ["[B, 2]"]),
        ("float32 states into an element-wise float64 energy (no error from the network: its "
         "output's dtype changes)", lambda: float64_scale_energy().energy(torch.randn(3, 2)),
         TypeError, ["float32", "float64"]),
        ("NaN log_sigma", nan_sigma, ValueError, ["log_sigma"]),
        ("NaN couplings", nan_couplings, ValueError, ["J"]),
        ("SVGD bandwidth below float32", lambda: SVGD(lambda x: -x.square().sum(1) / 2,
                                                      bandwidth=1e-300, progress=False).run(
            torch.randn(10, 2), 5), ValueError, ["bandwidth"]),
        ("PCD step's data named", lambda: ops.rbm_pcd_sgd_(
            *rbm_params(), torch.ones(5, V), [torch.zeros(V, H), torch.zeros(V), torch.zeros(H)],
            torch.ones(10, V + 1), batch_size=5, seeds=[1, 2], k=1, lr=0.1, momentum=0.0,
            weight_decay=0.0, first_step=True), ValueError, ["'data'"]),
    ]


@pytest.mark.parametrize("index", range(len(python_refusals())))
def test_python_layers_refuse_with_the_argument_named(index):
    case, call, error, words = python_refusals()[index]
    with pytest.raises(error) as info:
        call()
    assert all(w in str(info.value) for w in words), (case, str(info.value))


def test_a_checked_batch_skips_only_its_own_value_pass():
    """checks.checked(x) trusts that very tensor object (the Trainer's slices of data it
    checked whole); any other tensor, even an equal one, is still checked, and so is the shape.
    Batches from an iterable are not trusted: a bad one is refused at its step."""
    from torch.utils.data import DataLoader

    from fastebm.checks import check_samples, checked
    from fastebm.models import VAE
    from fastebm.objectives import ELBO
    from fastebm.training import Trainer
    bad = torch.full((3, 4), 0.5)
    with checked(bad):
        assert check_samples(bad, "x", 4, binary=True) is bad
        with pytest.raises(ValueError, match="binary"):
            check_samples(bad.clone(), "x", 4, binary=True)
        with pytest.raises(ValueError, match=r"\[N, 5\]"):
            check_samples(bad, "x", 5, binary=True)
    with pytest.raises(ValueError, match="binary"):
        check_samples(bad, "x", 4, binary=True)
    trainer = Trainer(VAE(4, 2, 8), ELBO(), DataLoader(bad, batch_size=3), progress=False)
    with pytest.raises(ValueError, match="must be binary"):
        trainer.fit(1)


def test_a_short_linear_schedule_is_clipped_not_refused():
    from fastebm.models import NoiseSchedule
    betas = NoiseSchedule.linear(20).noise_vars
    assert len(betas) == 20 and float(betas.max()) == pytest.approx(0.999)


def test_a_mixture_beyond_the_fused_kernel_is_sampled_step_by_step():
    from fastebm.models import GaussianMixtureEnergy
    from fastebm.samplers import LangevinSampler
    D = 20  # beyond the fused kernel's 16 dimensions
    model = GaussianMixtureEnergy(torch.ones(1), torch.full((1, D), 2.0), torch.ones(1, D))
    x = LangevinSampler(model, 0.05, 400, progress=False).sample(
        2000, generator=torch.Generator().manual_seed(0))
    assert abs(float(x.mean()) - 2.0) < 0.1 and abs(float(x.var()) - 1.0) < 0.15


def test_a_diverging_run_stops_and_keeps_the_last_good_checkpoint(tmp_path):
    from fastebm.objectives import DenoisingScoreMatching
    from fastebm.training import Trainer, TrainingDiverged
    from fastebm.training.checkpoint import load_checkpoint
    path = str(tmp_path / "ckpt.pt")
    data = torch.randn(256, 2, generator=torch.Generator().manual_seed(0))
    trainer = Trainer(energy_model(), DenoisingScoreMatching(0.1), data, lr=1e-3, batch_size=64,
                      checkpoint=path, progress=False)
    trainer.fit(1)
    for group in trainer.optimizer.param_groups:
        group["lr"] = 1e12
    with pytest.raises(TrainingDiverged, match="lower the learning rate"):
        trainer.fit(3)
    saved = load_checkpoint(path)["trainer"]
    assert saved["epoch"] == 1
    assert all(torch.isfinite(w).all() for w in saved["model"].values())


def test_the_error_message_check_sees_a_message_reach_python(capsys):
    """tools/error_message_check.py (run by tools/gpu_check.sh): a refused C++ call in a child
    process, its message arriving as a ValueError, with the libraries that decide it named."""
    import importlib.util
    import pathlib
    path = pathlib.Path(__file__).resolve().parent.parent / "tools" / "error_message_check.py"
    spec = importlib.util.spec_from_file_location("error_message_check", path)
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    assert tool.check() == 0
    report = capsys.readouterr().out
    assert "message: fastebm: argument 'score' has shape [4, 2]" in report
    assert "libstdc++" in report and "reach Python" in report
