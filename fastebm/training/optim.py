"""SGD (with momentum) and Adam as ``torch.optim.Optimizer`` subclasses (param groups,
``zero_grad(set_to_none)``, ``state_dict``, every ``torch.optim.lr_scheduler``) whose update of a
group's parameters is one fused C++ call (``fastebm::sgd_step_``, ``fastebm::adam_step_``), for
training steps where torch.optim's per-parameter Python work would cost more than the model's
arithmetic. Same formulas as torch.optim.SGD / Adam (L2 weight decay added to the gradient;
parameters without a gradient are skipped); tests hold them to torch.optim.
"""

from __future__ import annotations

import torch

from .. import _C  # noqa: F401  (registers the ops)
from ..checks import check_real


def _with_grads(group: dict) -> list[torch.Tensor]:
    return [p for p in group["params"] if p.grad is not None]


def _closure_loss(closure):
    if closure is None:
        return None
    with torch.enable_grad():
        return closure()


class SGD(torch.optim.Optimizer):
    """SGD with momentum and L2 weight decay, as torch.optim.SGD (dampening 0, not Nesterov):

        g = ∇ + wd·p,  buf = momentum·buf + g (buf = g at a parameter's first step),  p ← p - lr·buf.

    Each parameter's ``state[p]["momentum_buffer"]`` is kept (contiguous) from its first step on.
    """

    def __init__(self, params, lr: float, momentum: float = 0.0, weight_decay: float = 0.0):
        defaults = dict(lr=check_real(lr, "lr", low=0.0, low_open=True),
                        momentum=check_real(momentum, "momentum", low=0.0, high=1.0,
                                            high_open=True),
                        weight_decay=check_real(weight_decay, "weight_decay", low=0.0))
        super().__init__(params, defaults)

    def momentum_buffers(self, params: list[torch.Tensor]) -> tuple[list[torch.Tensor], bool]:
        """(buffers, first_step) for ``params`` stepped together: their momentum buffers (made,
        zero, where a parameter has none yet) and whether this is their first step. Fused
        multi-step paths (ops.rbm_pcd_sgd_) update the buffers in place."""
        first = [p for p in params if "momentum_buffer" not in self.state[p]]
        if first and len(first) != len(params):
            raise ValueError("the parameters stepped together must all have stepped before, or "
                             "none of them")
        for p in first:
            self.state[p]["momentum_buffer"] = torch.zeros_like(
                p, memory_format=torch.contiguous_format)
        return [self.state[p]["momentum_buffer"] for p in params], bool(first)

    @torch.no_grad()
    def step(self, closure=None):
        loss = _closure_loss(closure)
        for group in self.param_groups:
            params = _with_grads(group)
            fresh = [p for p in params if "momentum_buffer" not in self.state[p]]
            stepped = [p for p in params if "momentum_buffer" in self.state[p]]
            for batch in (fresh, stepped):  # a first step sets buf = g
                if batch:
                    buffers, first = self.momentum_buffers(batch)
                    torch.ops.fastebm.sgd_step_(batch, [p.grad for p in batch], buffers,
                                                group["lr"], group["momentum"],
                                                group["weight_decay"], first)
        return loss


class Adam(torch.optim.Optimizer):
    """Adam (Kingma & Ba 2015) with L2 weight decay, as torch.optim.Adam:

        m ← β₁m + (1-β₁)g,  v ← β₂v + (1-β₂)g²,  p ← p - lr/(1-β₁ᵗ) · m / (√v/√(1-β₂ᵗ) + eps).

    ``betas`` are the moment decay rates (β₁, β₂), as in torch.optim.Adam. Each parameter's
    ``state[p]`` holds ``step`` (t), ``exp_avg`` (m) and ``exp_avg_sq`` (v).
    """

    def __init__(self, params, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0.0):
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise TypeError(f"betas must be a pair (beta1, beta2), got {betas!r}")
        defaults = dict(
            lr=check_real(lr, "lr", low=0.0, low_open=True),
            betas=tuple(check_real(b, "betas", low=0.0, high=1.0, high_open=True) for b in betas),
            eps=check_real(eps, "eps", low=0.0, low_open=True),
            weight_decay=check_real(weight_decay, "weight_decay", low=0.0))
        super().__init__(params, defaults)

    @torch.no_grad()
    def step(self, closure=None):
        loss = _closure_loss(closure)
        for group in self.param_groups:
            by_step: dict[int, list[torch.Tensor]] = {}  # parameters stepped together
            for p in _with_grads(group):
                state = self.state[p]
                if not state:
                    state["step"] = 0
                    state["exp_avg"] = torch.zeros_like(p, memory_format=torch.contiguous_format)
                    state["exp_avg_sq"] = torch.zeros_like(p, memory_format=torch.contiguous_format)
                state["step"] += 1
                by_step.setdefault(state["step"], []).append(p)
            beta1, beta2 = group["betas"]
            for t, params in by_step.items():
                torch.ops.fastebm.adam_step_(
                    params, [p.grad for p in params], [self.state[p]["exp_avg"] for p in params],
                    [self.state[p]["exp_avg_sq"] for p in params], t, group["lr"], beta1, beta2,
                    group["eps"], group["weight_decay"])
        return loss


@torch.library.register_fake("fastebm::adam_step_")
def _adam_step_fake(params, grads, exp_avgs, exp_avg_sqs, step, lr, beta1, beta2, eps,
                    weight_decay):
    """In place: nothing to allocate (the CPU and CUDA kernels check the arguments)."""


#: The fused optimizers a name selects (one C++ call per step).
OPTIMIZERS = {"adam": Adam, "sgd": SGD}


def build_optimizer(optimizer, params: list, lr: float, momentum: float, weight_decay: float
                    ) -> torch.optim.Optimizer:
    """``optimizer`` as the Trainer takes it (an instance over some of ``params``, a factory
    ``params -> Optimizer``, or a name of ``OPTIMIZERS`` built with the hyper-parameters), checked."""
    if isinstance(optimizer, torch.optim.Optimizer) or callable(optimizer):
        built = optimizer if isinstance(optimizer, torch.optim.Optimizer) else optimizer(params)
        if not isinstance(built, torch.optim.Optimizer):
            raise TypeError(f"optimizer(params) must return a torch.optim.Optimizer, got "
                            f"{type(built).__name__}")
        owned = {id(p) for group in built.param_groups for p in group["params"]}
        if not owned <= {id(p) for p in params} or not owned:
            raise ValueError(f"the {type(built).__name__} optimizer must optimise parameters "
                             f"of the model being trained (build it on model.parameters())")
        return built
    if optimizer not in OPTIMIZERS:
        raise ValueError(f"optimizer must be a torch.optim.Optimizer, a callable params -> "
                         f"optimizer, or one of {sorted(OPTIMIZERS)}; got {optimizer!r}")
    dtype = params[0].dtype if params and params[0].is_floating_point() else None
    check_real(lr, "lr", low=0.0, low_open=True, dtype=dtype)
    check_real(weight_decay, "weight_decay", low=0.0, dtype=dtype)
    check_real(momentum, "momentum", low=0.0, high=1.0, high_open=True)
    if optimizer == "sgd":
        return SGD(params, lr=lr, momentum=momentum, weight_decay=weight_decay)
    return Adam(params, lr=lr, weight_decay=weight_decay)
