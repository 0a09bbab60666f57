"""What every objective is: ``compute_grads(model, x, generator) -> metrics`` fills the model
parameters' ``.grad`` with the gradient to descend for the batch x; ``state_dict`` /
``load_state_dict`` carry what it keeps between steps (persistent chains, a replay buffer, a
sampler network), so checkpoints hold it. A stateless objective inherits the empty state."""

from __future__ import annotations

import torch


class Objective:
    def compute_grads(self, model, x: torch.Tensor, generator: torch.Generator | None = None
                      ) -> dict:
        raise NotImplementedError

    def state_dict(self) -> dict:
        return {}

    def load_state_dict(self, state: dict) -> None:
        if state:
            raise ValueError(f"{type(self).__name__} keeps no state, got {sorted(state)}")
