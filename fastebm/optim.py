"""SGD (with momentum) and Adam whose whole update is one fused C++ call (``fastebm::sgd_step_``,
``fastebm::adam_step_``), for training steps where torch.optim's Python per-parameter work
would cost more than the model's arithmetic. Same formulas as torch.optim.SGD / Adam (L2 weight
decay added to the gradient); tests hold them to torch.optim.
"""

from __future__ import annotations

import math

import torch

from . import _C  # noqa: F401  (registers the ops)


class _FusedOptimizer:
    """Shared plumbing: parameters, hyper-parameter checks, zero_grad, state_dict."""

    def __init__(self, params, **hyper):
        self.params = [p for p in params]
        if not self.params:
            raise ValueError("optimizer got an empty parameter list")
        for name, value in hyper.items():
            if not (math.isfinite(value) and value >= 0):
                raise ValueError(f"{name} must be finite and >= 0, got {value}")
        self.hyper = hyper
        self.param_groups = [hyper]  # as torch.optim's: a schedule sets param_groups[0]["lr"]
        self.steps = 0

    def zero_grad(self, set_to_none: bool = True) -> None:
        for p in self.params:
            p.grad = None

    def _grads(self) -> list[torch.Tensor]:
        return [p.grad if p.grad is not None else torch.zeros_like(p) for p in self.params]

    def state_dict(self) -> dict:
        return {"steps": self.steps, "hyper": dict(self.hyper),
                "buffers": {name: [t.clone() for t in ts] for name, ts in self._buffers().items()}}

    def load_state_dict(self, state: dict) -> None:
        """Restores the buffers, step count and lr (which a schedule may have changed); every other
        hyper-parameter must match."""
        fixed = {k: v for k, v in state["hyper"].items() if k != "lr"}
        if fixed != {k: v for k, v in self.hyper.items() if k != "lr"}:
            raise ValueError(f"optimizer state has hyper-parameters {state['hyper']}, this one {self.hyper}")
        self.hyper["lr"] = state["hyper"]["lr"]
        self.steps = int(state["steps"])
        for name, tensors in self._buffers().items():
            for dst, src in zip(tensors, state["buffers"][name]):
                dst.copy_(src)


class SGD(_FusedOptimizer):
    """SGD with momentum and L2 weight decay, as torch.optim.SGD (dampening 0, not Nesterov):
    g = ∇ + wd·p,  buf = momentum·buf + g (buf = g at the first step),  p ← p - lr·buf."""

    def __init__(self, params, lr: float, momentum: float = 0.0, weight_decay: float = 0.0):
        super().__init__(params, lr=lr, momentum=momentum, weight_decay=weight_decay)
        if momentum >= 1:
            raise ValueError(f"momentum must be < 1, got {momentum}")
        self.momentum_buffers = [torch.zeros_like(p, memory_format=torch.contiguous_format)
                                 for p in self.params]

    def _buffers(self) -> dict:
        return {"momentum_buffers": self.momentum_buffers}

    @torch.no_grad()
    def step(self) -> None:
        h = self.hyper
        torch.ops.fastebm.sgd_step_(self.params, self._grads(), self.momentum_buffers, h["lr"],
                                    h["momentum"], h["weight_decay"], self.steps == 0)
        self.steps += 1


class Adam(_FusedOptimizer):
    """Adam (Kingma & Ba 2015) with L2 weight decay, as torch.optim.Adam:
    m ← β₁m + (1-β₁)g, v ← β₂v + (1-β₂)g², p ← p - lr/(1-β₁ᵗ) · m / (√v/√(1-β₂ᵗ) + eps)."""

    def __init__(self, params, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0.0):
        super().__init__(params, lr=lr, beta1=betas[0], beta2=betas[1], eps=eps,
                         weight_decay=weight_decay)
        if not (betas[0] < 1 and betas[1] < 1 and eps > 0):
            raise ValueError(f"need betas < 1 and eps > 0, got {betas}, {eps}")
        self.exp_avgs = [torch.zeros_like(p, memory_format=torch.contiguous_format) for p in self.params]
        self.exp_avg_sqs = [torch.zeros_like(p, memory_format=torch.contiguous_format) for p in self.params]

    def _buffers(self) -> dict:
        return {"exp_avgs": self.exp_avgs, "exp_avg_sqs": self.exp_avg_sqs}

    @torch.no_grad()
    def step(self) -> None:
        h = self.hyper
        self.steps += 1
        torch.ops.fastebm.adam_step_(self.params, self._grads(), self.exp_avgs, self.exp_avg_sqs,
                                     self.steps, h["lr"], h["beta1"], h["beta2"], h["eps"],
                                     h["weight_decay"])
