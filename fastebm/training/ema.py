"""Exponential moving average of a model's parameters (Polyak & Juditsky 1992), as used to
evaluate and sample diffusion models and EBMs: θ̄ ← d·θ̄ + (1 - d)·θ after every step."""

from __future__ import annotations

import contextlib

import torch

from ..checks import check_real


class EMA:
    """Shadow copies of ``model``'s parameters, averaged with decay d in [0, 1)."""

    def __init__(self, model: torch.nn.Module, decay: float):
        self.decay = check_real(decay, "ema decay", low=0.0, high=1.0, high_open=True)
        self.params = list(model.parameters())
        self.shadow = [p.detach().clone() for p in self.params]

    @torch.no_grad()
    def update(self) -> None:
        """θ̄ ← θ̄ + (1 - d)(θ - θ̄)."""
        torch._foreach_lerp_(self.shadow, [p.detach() for p in self.params], 1.0 - self.decay)

    @contextlib.contextmanager
    def swapped_in(self):
        """Within the block the model holds the averaged parameters; restored after."""
        with torch.no_grad():
            saved = [p.detach().clone() for p in self.params]
            for p, s in zip(self.params, self.shadow):
                p.copy_(s)
        try:
            yield
        finally:
            with torch.no_grad():
                for p, s in zip(self.params, saved):
                    p.copy_(s)

    def state_dict(self) -> dict:
        return {"decay": self.decay, "shadow": [s.clone() for s in self.shadow]}

    def load_state_dict(self, state: dict) -> None:
        if state["decay"] != self.decay or len(state["shadow"]) != len(self.shadow):
            raise ValueError("EMA state has another decay or parameter count")
        with torch.no_grad():
            for dst, src in zip(self.shadow, state["shadow"]):
                dst.copy_(src)


def load_averaged_weights(model: torch.nn.Module, ema_state: dict | None) -> None:
    """Copy an EMA state's averaged parameters (``EMA.state_dict()``, e.g. a checkpoint's
    ``trainer["ema"]``) into ``model``; None (no EMA kept) leaves it unchanged."""
    if ema_state is None:
        return
    with torch.no_grad():
        for p, shadow in zip(model.parameters(), ema_state["shadow"]):
            p.copy_(shadow)
