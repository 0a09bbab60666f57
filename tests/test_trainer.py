"""The Trainer on any model and data: N-D tensors and DataLoaders, torch.optim optimizers,
learning-rate schedules, EMA, gradient clipping, callbacks, the distributed backend by device,
and bit-for-bit resume of all of it."""

import math

import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from fastebm.training import schedules
from fastebm.training.distributed import join_process_group
from fastebm.training.trainer import Trainer


class Denoiser(nn.Module):
    """A linear map on [N, 1, 4, 4] images."""

    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(16, 16, dtype=torch.float64)


class NoisyMSE:
    """A stochastic objective: ‖f(x + σz) - x‖² with z from the trainer's generator."""

    def compute_grads(self, model, x, generator=None):
        z = torch.randn(x.shape, generator=generator, dtype=x.dtype)
        pred = model.lin((x + 0.5 * z).flatten(1)).view_as(x)
        loss = ((pred - x) ** 2).mean()
        loss.backward()
        return {"loss": loss.item()}

    def state_dict(self):
        return {}

    def load_state_dict(self, state):
        pass


def images(n=240):
    g = torch.Generator().manual_seed(0)
    return torch.randn(n, 1, 4, 4, generator=g, dtype=torch.float64)


def loader(x):
    return DataLoader(TensorDataset(x), batch_size=32, shuffle=True)


def sgd(params):
    return torch.optim.SGD(params, lr=0.05, momentum=0.9)


FEATURES = dict(optimizer=sgd, schedule=schedules.cosine(40, warmup=5), ema=0.9, grad_clip=0.5,
                seed=4, progress=False)


def make(tmp_path, data_kind, **kw):
    torch.manual_seed(0)  # nn.Linear's initial weights
    x = images()
    data = x if data_kind == "tensor" else loader(x)
    return Trainer(Denoiser(), NoisyMSE(), data, batch_size=32, checkpoint=str(tmp_path / "c.pt"),
                   **FEATURES, **kw)


def snapshot(trainer):
    return [p.detach().clone() for p in trainer.model.parameters()] + trainer.ema.shadow


class Stop:
    """A callback raising KeyboardInterrupt after epoch n (as Ctrl-C would)."""

    def __init__(self, n):
        self.n = n

    def __call__(self, trainer):
        if trainer.epoch == self.n:
            raise KeyboardInterrupt
        return {"lr": trainer.optimizer.param_groups[0]["lr"]}


@pytest.mark.parametrize("data_kind", ["tensor", "loader"])
def test_images_any_optimizer_schedule_ema_clip_resume(tmp_path, data_kind):
    full = make(tmp_path / "a", data_kind, callbacks=[Stop(-1)])
    full.fit(5)
    assert [r["lr"] for r in full.history] != [full.history[0]["lr"]] * 5  # the schedule moved
    broken = make(tmp_path / "b", data_kind, callbacks=[Stop(2)])
    with pytest.raises(KeyboardInterrupt):
        broken.fit(5)
    fresh = make(tmp_path / "c", data_kind)
    x = images()
    resumed = Trainer.resume(str(tmp_path / "b" / "c.pt"), fresh.model, NoisyMSE(),
                             x if data_kind == "tensor" else loader(x), batch_size=32,
                             callbacks=[Stop(-1)], **FEATURES)
    assert resumed.epoch == 2
    resumed.fit(5)
    assert all(torch.equal(a, b) for a, b in zip(snapshot(full), snapshot(resumed)))


def test_ema_schedule_and_clip_follow_their_formulas():
    torch.manual_seed(0)
    trainer = Trainer(Denoiser(), NoisyMSE(), images(64), batch_size=64, optimizer=sgd,
                      schedule=schedules.linear(10, final=0.5), ema=0.8, grad_clip=1e-3,
                      progress=False)
    p = trainer.model.lin.weight
    shadow, before = p.detach().clone(), p.detach().clone()
    trainer.fit(1)  # one step: lr = 0.05 · 1, gradient norm clipped to 1e-3
    step = (before - p.detach()).norm()
    params_norm_grad = math.sqrt(sum(float(q.grad.norm()) ** 2 for q in trainer.model.parameters()))
    assert params_norm_grad == pytest.approx(1e-3, rel=1e-5)  # torch divides by norm + 1e-6
    assert float(step) <= 0.05 * 1e-3 * (1 + 1e-9)
    torch.testing.assert_close(trainer.ema.shadow[0], 0.8 * shadow + 0.2 * p.detach())
    with trainer.ema.swapped_in():
        torch.testing.assert_close(p.detach(), trainer.ema.shadow[0])
    assert not torch.equal(p.detach(), trainer.ema.shadow[0])
    f = schedules.linear(10, final=0.5)
    assert (f(0), f(5), f(10), f(50)) == (1.0, 0.75, 0.5, 0.5)
    g = schedules.cosine(10, warmup=2)
    assert g(0) == 0.5 and g(1) == 1.0 and g(2) == 1.0 and abs(g(12)) < 1e-12


@pytest.mark.parametrize("device,backend", [("cpu", "gloo"), ("cuda", "nccl")])
def test_backend_follows_the_device(monkeypatch, device, backend):
    chosen = []
    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.setattr(torch.distributed, "is_initialized", lambda: bool(chosen))
    monkeypatch.setattr(torch.distributed, "init_process_group", lambda b: chosen.append(b))
    monkeypatch.setattr(torch.distributed, "get_rank", lambda: 0)
    monkeypatch.setattr(torch.distributed, "get_world_size", lambda: 2)
    assert join_process_group(torch.device(device)) == (0, 2)
    assert chosen == [backend]
