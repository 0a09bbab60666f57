"""Objectives, fused optimizers and the Trainer: gradients against autograd, learning on digits
measured by the exact log-likelihood, checkpoints that resume bit for bit."""

import functools
import json
import os

import pytest
import torch

import fastebm
from fastebm import data, ops
from fastebm.training.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from fastebm.models import BernoulliRBM, GaussianBernoulliRBM
from fastebm.objectives import CD, PCD, PseudoLikelihood, log_pseudo_likelihood
from fastebm.training.optim import SGD, Adam
from fastebm.partition import base_rate_biases, exact_log_z, log_likelihood
from fastebm.training.trainer import Trainer

from conftest import DEVICES, DTYPES
from stats import all_states
from test_rbm_models import random_rbm


# ---------------------------------------------------------------- gradients

@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_fused_cd_grad_matches_reference_and_autograd(device, dtype):
    model = random_rbm(11, 7, seed=1).to(device, dtype)
    W, b, c = (p.detach() for p in (model.W, model.b, model.c))
    v_data = torch.bernoulli(torch.full((13, 11), 0.4, dtype=dtype)).to(device)
    v_chain = torch.bernoulli(torch.full((9, 11), 0.6, dtype=dtype)).to(device)
    dW, db, dc, v_k = torch.ops.fastebm.rbm_cd_grad(v_data, v_chain, W, b, c, 2, 17)
    ref = torch.ops.fastebm.rbm_gibbs(v_chain, W, b, c, 2, 17)[0]
    assert torch.equal(v_k, ref)
    # The fused gradient is ∇ of mean F(v_data) - mean F(v_k).
    (model.free_energy(v_data).mean() - model.free_energy(v_k).mean()).backward()
    tol = dict(atol=1e-5, rtol=1e-4) if dtype == torch.float32 else {}
    for fused, param in zip((dW, db, dc), (model.W, model.b, model.c)):
        torch.testing.assert_close(fused, param.grad, **tol)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_fused_grbm_cd_grad_matches_autograd(device, dtype):
    """The model's hook (ops.grbm_cd_grad) sets ∇ of mean F(v_data) - mean F(v_k) in W, b, c and
    log σ, as autograd computes it through the GRBM's free energy."""
    model = random_rbm(11, 7, seed=2, scale=0.4, cls=GaussianBernoulliRBM).to(device, dtype)
    g = torch.Generator().manual_seed(3)
    v_data = (1.5 * torch.randn(13, 11, generator=g, dtype=dtype) + 0.3).to(device)
    v_chain = torch.randn(9, 11, generator=g, dtype=dtype).to(device)
    v_k = model.cd_grads(v_data, v_chain, 2, torch.Generator().manual_seed(5))
    fused = [p.grad.clone() for p in model.parameters()]
    model.zero_grad()
    (model.free_energy(v_data).mean() - model.free_energy(v_k).mean()).backward()
    tol = dict(atol=1e-5, rtol=1e-4) if dtype == torch.float32 else {}
    for name, f, p in zip(("W", "b", "c", "log_sigma"), fused, model.parameters()):
        torch.testing.assert_close(f, p.grad, **tol, msg=name)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("momentum,batch", [(0.0, 100), (0.9, 30)])
def test_fused_pcd_steps_equal_the_step_by_step_loop(dtype, momentum, batch):
    """The Trainer's fused path (PCD.run_steps -> ops.rbm_pcd_sgd_, up to 32 steps per call)
    gives the bits of the step-by-step loop (compute_grads + SGD.step), including a last, short
    batch and momentum buffers; checkpoint_every=1 forces the step-by-step loop."""
    x = data.digits().train[:700].to(dtype)
    finals = []
    for every in (0, 1):
        model = BernoulliRBM(64, 24, dtype=dtype, generator=torch.Generator().manual_seed(0))
        trainer = Trainer(model, PCD(40, 1), x, optimizer="sgd", lr=0.05, momentum=momentum,
                          batch_size=batch, checkpoint_every=every, progress=False)
        assert trainer._fusable() == (every == 0)
        trainer.fit(2)
        finals.append([p.detach() for p in model.parameters()] + [trainer.objective.sampler.state])
    assert all(torch.equal(a, b) for a, b in zip(*finals))


def test_fused_pcd_steps_refuse_bad_input():
    model = random_rbm(5, 4)
    W, b, c = (p.detach().clone() for p in (model.W, model.b, model.c))
    chains, bufs = torch.zeros(3, 5, dtype=torch.float64), [torch.zeros_like(t) for t in (W, b, c)]
    x = torch.ones(10, 5, dtype=torch.float64)
    with pytest.raises(ValueError, match="seeds"):
        ops.rbm_pcd_sgd_(W, b, c, chains, bufs, x, batch_size=4, seeds=[1, 2], k=1, lr=0.1,
                         momentum=0.0, weight_decay=0.0, first_step=True)
    with pytest.raises(ValueError, match="data"):
        ops.rbm_pcd_sgd_(W, b, c, chains, bufs, x * float("nan"), batch_size=4,
                         seeds=[1, 2, 3], k=1, lr=0.1, momentum=0.0, weight_decay=0.0,
                         first_step=True)
    with pytest.raises(ValueError, match="contiguous"):
        ops.rbm_pcd_sgd_(W.T.contiguous().T, b, c, chains, bufs, x, batch_size=4,
                         seeds=[1, 2, 3], k=1, lr=0.1, momentum=0.0, weight_decay=0.0,
                         first_step=True)
    torch.library.opcheck(torch.ops.fastebm.rbm_pcd_sgd_.default,
                          (W, b, c, chains, bufs, x, 4, [1, 2, 3], 1, 0.1, 0.9, 0.0, True))


def test_cd_grad_bad_input_and_opcheck():
    model = random_rbm(5, 4)
    W, b, c = (p.detach() for p in (model.W, model.b, model.c))
    v = torch.ones(3, 5, dtype=torch.float64)
    torch.library.opcheck(torch.ops.fastebm.rbm_cd_grad.default, (v, v.clone(), W, b, c, 1, 3))
    with pytest.raises(ValueError, match="v_data"):
        ops.rbm_cd_grad(v[:0], v, W, b, c)
    with pytest.raises(ValueError, match="v_chain"):
        ops.rbm_cd_grad(v, v[:0], W, b, c)
    with pytest.raises(ValueError, match="v_data"):
        ops.rbm_cd_grad(v[:, :3], v, W, b, c)
    with pytest.raises(ValueError, match="v_data"):
        ops.rbm_cd_grad(v * float("inf"), v, W, b, c)
    with pytest.raises(ValueError, match="'k'"):
        ops.rbm_cd_grad(v, v, W, b, c, 0)


def test_pseudo_likelihood_exact_and_stochastic():
    model = random_rbm(6, 4, seed=2)
    v = all_states(6)
    # Against the definition: log p(vᵢ | v₋ᵢ) from the exact joint.
    log_p = -model.free_energy(v)
    flipped_idx = torch.arange(64)[:, None] ^ (1 << torch.arange(6))  # state index with bit i flipped
    expected = (log_p[:, None] - torch.logaddexp(log_p[:, None], log_p[flipped_idx])).sum(1)
    torch.testing.assert_close(log_pseudo_likelihood(model, v), expected)
    # The one-site estimate is unbiased: average many draws.
    est = torch.stack([log_pseudo_likelihood(model, v[:8], stochastic=True,
                                             generator=torch.Generator().manual_seed(s))
                       for s in range(3000)]).mean(0)
    torch.testing.assert_close(est, expected[:8], atol=0.15, rtol=0)
    with pytest.raises(TypeError):
        log_pseudo_likelihood(GaussianBernoulliRBM(3, 2), torch.zeros(2, 3))


@pytest.mark.parametrize("cls,kw,torch_cls,torch_kw", [
    (SGD, dict(lr=0.1), torch.optim.SGD, dict(lr=0.1)),
    (SGD, dict(lr=0.05, momentum=0.9, weight_decay=1e-3), torch.optim.SGD,
     dict(lr=0.05, momentum=0.9, weight_decay=1e-3)),
    (Adam, dict(lr=1e-2, weight_decay=1e-3), torch.optim.Adam, dict(lr=1e-2, weight_decay=1e-3)),
])
def test_fused_optimizers_match_torch(cls, kw, torch_cls, torch_kw):
    """Two param groups (the second with its own lr), a torch StepLR halving every 2 steps, a
    parameter without a gradient on one step, and a state_dict round trip mid-run: the fused
    optimizer follows torch.optim step for step."""
    g = torch.Generator().manual_seed(0)
    ours = [torch.nn.Parameter(torch.randn(5, 4, generator=g)), torch.nn.Parameter(torch.randn(3, generator=g))]
    theirs = [torch.nn.Parameter(p.detach().clone()) for p in ours]

    def groups(params):
        return [{"params": [params[0]]}, {"params": [params[1]], "lr": kw["lr"] / 2}]

    opt, ref = cls(groups(ours), **kw), torch_cls(groups(theirs), **torch_kw)
    assert isinstance(opt, torch.optim.Optimizer)
    schedules = [torch.optim.lr_scheduler.StepLR(o, 2, gamma=0.5) for o in (opt, ref)]
    for step in range(6):
        grads = [torch.randn(p.shape, generator=g) for p in ours]
        for i, (p, q, gr) in enumerate(zip(ours, theirs, grads)):
            skip = step == 1 and i == 1
            p.grad, q.grad = (None, None) if skip else (gr.clone(), gr.clone())
        opt.step()
        ref.step()
        for schedule in schedules:
            schedule.step()
        if step == 2:
            state = opt.state_dict()
            opt = cls(groups(ours), **kw)
            opt.load_state_dict(state)
            schedules[0] = torch.optim.lr_scheduler.StepLR(opt, 2, gamma=0.5)
            schedules[0].load_state_dict(schedules[1].state_dict())
        opt.zero_grad(set_to_none=True)
        assert all(p.grad is None for p in ours)
    for p, q in zip(ours, theirs):
        torch.testing.assert_close(p, q)
    with pytest.raises(ValueError, match="lr"):
        cls(ours, lr=-1.0)


def test_trainer_takes_a_torch_optimizer_and_lr_scheduler(tmp_path):
    """An optimizer instance and a torch lr_scheduler on it: the schedule drives the lr, and a
    resumed run ends where the uninterrupted one does (scheduler state checkpointed)."""
    x = data.digits().train[:200]

    def run(epochs, resume=False):
        model = BernoulliRBM(64, 8, generator=torch.Generator().manual_seed(0))
        opt = torch.optim.SGD(model.parameters(), lr=0.1)
        kw = dict(optimizer=opt, schedule=torch.optim.lr_scheduler.StepLR(opt, 3, gamma=0.5),
                  batch_size=50, progress=False)
        path = str(tmp_path / "ckpt.pt")
        trainer = (Trainer.resume(path, model, CD(), x, **kw) if resume
                   else Trainer(model, CD(), x, checkpoint=path, **kw))
        trainer.fit(epochs)
        return model, opt

    _, opt = run(2)
    assert opt.param_groups[0]["lr"] == pytest.approx(0.1 * 0.5 ** (8 // 3))
    model, _ = run(3, resume=True)
    (tmp_path / "ckpt.pt").unlink()
    whole, _ = run(3)
    assert all(torch.equal(a, b) for a, b in zip(model.parameters(), whole.parameters()))
    other = torch.optim.SGD([torch.nn.Parameter(torch.zeros(2))], lr=0.1)
    with pytest.raises(ValueError, match="parameters of the model"):
        Trainer(BernoulliRBM(64, 8), CD(), x, optimizer=other)
    with pytest.raises(ValueError, match="another optimizer"):
        Trainer(BernoulliRBM(64, 8), CD(), x, schedule=torch.optim.lr_scheduler.StepLR(other, 1))


# ---------------------------------------------------------------- learning

@functools.lru_cache(maxsize=None)
def train_digits(method: str, epochs: int = 30):
    split = data.digits()
    model = BernoulliRBM(64, 16, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        model.b.copy_(base_rate_biases(split.train, 64))
    objective = {"cd": CD(1), "pcd": PCD(100, 1), "pl": PseudoLikelihood(),
                 "pcd_pt": PCD(100, 1, betas=[1.0, 0.8, 0.6])}[method]
    Trainer(model, objective, split.train, lr=5e-3, progress=False).fit(epochs)
    test_ll = float(log_likelihood(model, split.test, exact_log_z(model)).mean())
    base_b = base_rate_biases(split.train, 64).double()
    base_ll = float((split.test.double() @ base_b - torch.nn.functional.softplus(base_b).sum()).mean())
    return test_ll, base_ll


@pytest.mark.parametrize("method", ["cd", "pcd", "pl", "pcd_pt"])
def test_training_raises_exact_test_log_likelihood(method):
    """A 64-16 RBM on digits: 30 epochs of each method beat the base-rate model by > 2 nats per
    test image (exact log Z; measured: base rate -25.3, CD -21.6, PCD -22.1, PL -20.3)."""
    test_ll, base_ll = train_digits(method)
    assert test_ll > base_ll + 2.0


# ---------------------------------------------------------------- checkpoints and resume

def small_trainer(tmp_path, method="pcd", **kw):
    split = data.digits()
    model = BernoulliRBM(64, 16, generator=torch.Generator().manual_seed(0))
    objective = PCD(50, 1, betas=[1.0, 0.7]) if method == "pcd_pt" else PCD(50, 1)
    return Trainer(model, objective, split.train[:600], lr=5e-3, batch_size=50, seed=3,
                   checkpoint=str(tmp_path / "ckpt.pt"), progress=False, **kw), split


def final_state(trainer):
    chains = trainer.objective.sampler.chains
    return [p.detach().clone() for p in trainer.model.parameters()] + [chains.clone()]


@pytest.mark.parametrize("method", ["pcd", "pcd_pt"])
def test_resume_is_bit_identical(tmp_path, method):
    full, _ = small_trainer(tmp_path / "a", method)
    full.fit(3)
    first, _ = small_trainer(tmp_path / "b", method)
    first.fit(2)
    del first  # "killed" after 2 epochs; a new process resumes from the file
    fresh, split = small_trainer(tmp_path / "c", method)
    resumed = Trainer.resume(str(tmp_path / "b" / "ckpt.pt"), fresh.model, fresh.objective,
                             split.train[:600], lr=5e-3, batch_size=50, seed=3, progress=False)
    resumed.fit(3)
    assert all(torch.equal(x, y) for x, y in zip(final_state(full), final_state(resumed)))
    assert resumed.history == full.history


class InterruptAt:
    """An objective wrapper that raises KeyboardInterrupt (Ctrl-C) before its n-th step."""

    def __init__(self, objective, n):
        self.objective, self.n, self.calls = objective, n, 0

    def compute_grads(self, *args):
        self.calls += 1
        if self.calls == self.n:
            raise KeyboardInterrupt
        return self.objective.compute_grads(*args)

    def state_dict(self):
        return self.objective.state_dict()

    def load_state_dict(self, state):
        self.objective.load_state_dict(state)


def test_ctrl_c_mid_epoch_saves_and_resumes(tmp_path):
    full, split = small_trainer(tmp_path / "a")
    full.fit(2)
    broken, _ = small_trainer(tmp_path / "b")
    broken.objectives[0] = InterruptAt(broken.objective, 17)  # 12 steps per epoch: mid epoch 2
    with pytest.raises(KeyboardInterrupt):
        broken.fit(2)
    state = load_checkpoint(tmp_path / "b" / "ckpt.pt")["trainer"]
    assert (state["epoch"], state["step_in_epoch"]) == (1, 4)
    fresh, _ = small_trainer(tmp_path / "c")
    resumed = Trainer.resume(str(tmp_path / "b" / "ckpt.pt"), fresh.model, fresh.objective,
                             split.train[:600], lr=5e-3, batch_size=50, seed=3, progress=False)
    resumed.fit(2)
    assert all(torch.equal(x, y) for x, y in zip(final_state(full), final_state(resumed)))


def test_corrupt_or_missing_checkpoint(tmp_path):
    trainer, split = small_trainer(tmp_path)
    path = tmp_path / "ckpt.pt"
    with pytest.raises(CheckpointError, match="no checkpoint"):
        Trainer.resume(str(path), trainer.model, trainer.objective, split.train[:600])
    trainer.fit(1)
    good = path.read_bytes()
    path.write_bytes(good[: len(good) // 2])
    with pytest.raises(CheckpointError, match="corrupt"):
        Trainer.resume(str(path), trainer.model, trainer.objective, split.train[:600],
                       lr=5e-3, batch_size=50, seed=3)
    assert path.read_bytes() == good[: len(good) // 2]  # nothing overwritten
    torch.save({"not": "ours"}, path)
    with pytest.raises(CheckpointError, match="not a"):
        load_checkpoint(path)


def test_atomic_save_leaves_old_file_on_failure(tmp_path):
    path = tmp_path / "ckpt.pt"
    save_checkpoint({"x": torch.ones(2)}, path)
    with pytest.raises(Exception):
        save_checkpoint({"x": lambda: None}, path)  # not picklable: the write fails midway
    assert torch.equal(load_checkpoint(path)["x"], torch.ones(2))
    assert [p.name for p in tmp_path.iterdir()] == ["ckpt.pt"]


def test_trainer_bad_arguments():
    model = BernoulliRBM(4, 3)
    good = torch.ones(5, 4)
    for kw in (dict(batch_size=0), dict(lr=0.0), dict(lr=float("nan")), dict(optimizer="rmsprop"),
               dict(momentum=1.5), dict(weight_decay=-1.0)):
        with pytest.raises(ValueError):
            Trainer(model, CD(), good, **kw)
    for bad in (torch.ones(0, 4), torch.ones(4), good * float("nan")):
        with pytest.raises(ValueError):
            Trainer(model, CD(), bad)


def test_grbm_cd_training_raises_exact_log_likelihood():
    """The autograd path (free-energy gap) trains a Gaussian-Bernoulli RBM, σ included, on a
    two-cluster 2-D data set: the exact log-likelihood (h enumerated, v integrated) rises."""
    g = torch.Generator().manual_seed(0)
    centres = torch.tensor([[2.0, -1.0], [-1.5, 1.5]], dtype=torch.float64)
    x = centres[torch.randint(0, 2, (2000,), generator=g)] + 0.4 * torch.randn(2000, 2, generator=g, dtype=torch.float64)
    model = GaussianBernoulliRBM(2, 4, dtype=torch.float64, generator=g)

    def mean_ll():
        return float(log_likelihood(model, x, exact_log_z(model)).mean())

    before = mean_ll()
    Trainer(model, CD(1), x, lr=0.02, batch_size=100, progress=False).fit(20)
    assert mean_ll() > before + 1.5  # measured: -4.37 -> -2.40 nats


def _adam_case(dtype, transposed: bool, device: str):
    """Two parameters (a matrix, transposed or not, and a vector) of ``dtype`` with gradients."""
    g = torch.Generator().manual_seed(3)
    weight = torch.randn(6, 5, generator=g, dtype=torch.float64)
    weight = (weight.t() if transposed else weight).to(device, dtype)
    params = [torch.nn.Parameter(weight),
              torch.nn.Parameter(torch.randn(7, generator=g).to(device, dtype))]
    grads = [[torch.randn(p.shape, generator=g).to(device, dtype) for p in params]
             for _ in range(3)]
    return params, grads


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.bfloat16])
@pytest.mark.parametrize("transposed", [False, True])
@pytest.mark.parametrize("beta1", [0.9, 0.3])  # lerp weight 1 - beta1 below and above 1/2
def test_adam_single_pass_follows_torch(dtype, transposed, beta1, device):
    """The one-pass kernel (adam.h) against torch.optim.Adam for three steps with weight decay:
    every dtype (bfloat16 in float32 inside), a non-contiguous parameter, both lerp forms."""
    ours, grads = _adam_case(dtype, transposed, device)
    theirs = [torch.nn.Parameter(p.detach().clone()) for p in ours]
    kw = dict(lr=0.05, betas=(beta1, 0.99), weight_decay=0.01)
    opt, ref = Adam(ours, **kw), torch.optim.Adam(theirs, **kw)
    for step_grads in grads:
        for p, q, gr in zip(ours, theirs, step_grads):
            p.grad, q.grad = gr.clone(), gr.clone()
        opt.step()
        ref.step()
    # bfloat16: torch rounds after each of its passes, the kernel once per step; the steps are
    # 0.05 here, so a wrong formula is far outside this tolerance.
    tol = dict(atol=2e-3, rtol=2e-2) if dtype == torch.bfloat16 else {}
    for p, q in zip(ours, theirs):
        assert p.dtype == dtype and p.stride() == q.stride()
        torch.testing.assert_close(p, q, **tol)
        torch.testing.assert_close(opt.state[p]["exp_avg_sq"], ref.state[q]["exp_avg_sq"], **tol)


def test_adam_same_bits_on_every_isa_path_and_thread_count():
    """A parameter of 100,000 elements (the driver's blocks, threaded): the same bits whatever
    the vector path or number of threads."""
    g = torch.Generator().manual_seed(4)
    start = [torch.randn(100_000, generator=g) for _ in range(4)]
    results = []
    threads = torch.get_num_threads()
    paths = ("baseline", "avx2", "avx512")
    best = paths.index(fastebm.build_info()["cpu_isa_best"])
    runs = [(isa, n) for isa in paths[:best + 1] for n in (1, 2)]
    try:
        for isa, n in runs:
            torch.set_num_threads(n)
            p, grad, m, v = (t.clone() for t in start)
            v.abs_()
            with fastebm.cpu_isa(isa):
                torch.ops.fastebm.adam_step_([p], [grad], [m], [v], 5, 1e-2, 0.9, 0.999, 1e-8, 0.1)
            results.append((p, m, v))
    finally:
        torch.set_num_threads(threads)
    assert not torch.equal(results[0][0], start[0])
    for out in results[1:]:
        assert all(torch.equal(a, b) for a, b in zip(out, results[0]))


def test_optimizer_ops_opcheck_and_bad_input():
    g = torch.Generator().manual_seed(1)
    params = [torch.randn(4, 3, generator=g), torch.randn(3, generator=g)]
    grads = [torch.randn_like(p) for p in params]
    buffers = [torch.zeros_like(p) for p in params]
    torch.library.opcheck(torch.ops.fastebm.sgd_step_.default,
                          (params, grads, buffers, 0.1, 0.9, 0.01, True))
    torch.library.opcheck(torch.ops.fastebm.adam_step_.default,
                          (params, grads, buffers, [b.clone() for b in buffers], 1, 1e-3, 0.9,
                           0.999, 1e-8, 0.0))
    with pytest.raises(ValueError, match="same length"):
        torch.ops.fastebm.sgd_step_(params, grads[:1], buffers, 0.1, 0.0, 0.0, True)
    with pytest.raises(ValueError, match="shape"):
        torch.ops.fastebm.sgd_step_(params, [grads[1], grads[0]], buffers, 0.1, 0.0, 0.0, True)
    with pytest.raises(ValueError, match="'lr'"):
        torch.ops.fastebm.sgd_step_(params, grads, buffers, float("nan"), 0.0, 0.0, True)
    with pytest.raises(ValueError, match="'step'"):
        torch.ops.fastebm.adam_step_(params, grads, buffers, buffers, 0, 1e-3, 0.9, 0.999, 1e-8, 0.0)
    with pytest.raises(ValueError, match="beta"):
        torch.ops.fastebm.adam_step_(params, grads, buffers, buffers, 1, 1e-3, 1.0, 0.999, 1e-8, 0.0)
    with pytest.raises(ValueError, match="'exp_avgs' has dtype torch.float64"):
        torch.ops.fastebm.adam_step_(params, grads, [b.double() for b in buffers], buffers, 1,
                                     1e-3, 0.9, 0.999, 1e-8, 0.0)
    with pytest.raises(ValueError, match="floating"):
        ints = [torch.ones(3, dtype=torch.int64)]
        torch.ops.fastebm.adam_step_(ints, ints, ints, ints, 1, 1e-3, 0.9, 0.999, 1e-8, 0.0)


def test_embedded_datasets():
    digits = data.digits()
    assert digits.train.shape == (1438, 64) and digits.test.shape == (359, 64)
    assert set(torch.unique(digits.train).tolist()) == {0.0, 1.0}
    mnist = data.mnist5k()
    assert mnist.train.shape == (4000, 784) and mnist.test.shape == (1000, 784)
    assert 0.05 < float(mnist.train.mean()) < 0.3
    with pytest.raises(ValueError, match="unknown dataset"):
        data.load("cifar")
