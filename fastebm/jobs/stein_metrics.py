"""The kernel Stein discrepancy as a job metric: how far held-out data and a sampler's output are
from the trained model, from its energy alone (no log Z)."""

from __future__ import annotations

from typing import Callable

import torch

from .. import ops
from ..ksd import ksd2, ksd_test, score_of


def stein_discrepancies(energy: Callable[[torch.Tensor], torch.Tensor], test: torch.Tensor,
                        samples: dict[str, torch.Tensor], seed: int) -> dict:
    """Against the score -∇E of ``energy`` (RBF kernel at the test data's median squared
    distance): KSD² (U-statistic, 0 in expectation for draws of the model) of the test data
    (``ksd2_test``) and of each sample kind (``ksd2_<kind>``: did that sampler reach the model?),
    and the goodness-of-fit p-value of the test data (``ksd_test_p_value``; small: the held-out
    data are not draws of the model)."""
    h = float(ops.pair_distance_median(test))
    score = score_of(energy)
    fit = ksd_test(test, score, bandwidth=h, statistic="u", n_bootstrap=500,
                   generator=torch.Generator().manual_seed(seed))
    return {"ksd2_test": fit.ksd2, "ksd_test_p_value": fit.p_value,
            **{f"ksd2_{kind}": ksd2(x, score, bandwidth=h) for kind, x in samples.items()}}
