"""What every objective is: ``compute_grads(model, x, generator) -> metrics`` fills the model
parameters' ``.grad`` with the gradient to descend for the batch x; ``state_dict`` /
``load_state_dict`` carry what it keeps between steps (persistent chains, a replay buffer, a
sampler network), so checkpoints hold it. A stateless objective inherits the empty state.
``requires`` names what it uses of a model; the Trainer checks it (``check_model``) up front."""

from __future__ import annotations

import torch


class Objective:
    #: The attributes the objective uses of a model, and a model that has them.
    requires: tuple[str, ...] = ()
    model_example: str = ""

    def check_model(self, model) -> None:
        """TypeError unless ``model`` has what the objective uses (e.g. ScoreMatching needs an
        energy model, PCD a Gibbs-sampled one)."""
        missing = [name for name in self.requires if not hasattr(model, name)]
        if missing:
            raise TypeError(f"{type(self).__name__} trains a model with {', '.join(self.requires)} "
                            f"(e.g. {self.model_example}); {type(model).__name__} has no "
                            f"{', '.join(missing)}")

    def compute_grads(self, model, x: torch.Tensor, generator: torch.Generator | None = None
                      ) -> dict:
        raise NotImplementedError

    def state_dict(self) -> dict:
        return {}

    def load_state_dict(self, state: dict) -> None:
        if state:
            raise ValueError(f"{type(self).__name__} keeps no state, got {sorted(state)}")
