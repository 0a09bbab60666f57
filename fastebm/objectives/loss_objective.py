"""The objective shape of every loss-based objective for continuous energy models: a subclass
gives ``loss(model, x, generator)``; ``compute_grads`` checks the batch, backpropagates the loss
and returns ``{"loss": value}``."""

from __future__ import annotations

import torch

from ..checks import check_generator
from ..models.energy import check_states
from .base import Objective


class LossObjective(Objective):
    def loss(self, model, x: torch.Tensor, generator=None) -> torch.Tensor:
        raise NotImplementedError

    def compute_grads(self, model, x: torch.Tensor, generator=None) -> dict:
        check_states(model, x, "batch")
        check_generator(generator)
        loss = self.loss(model, x, generator)
        loss.backward()
        return {"loss": loss.item()}

