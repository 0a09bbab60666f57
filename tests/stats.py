"""Statistical checks of samplers against exact distributions."""

import numpy as np
import torch
from scipy import stats


def state_index(x: torch.Tensor) -> torch.Tensor:
    """[N, n] binary rows -> [N] integers (bit j = x[:, j])."""
    weights = 2 ** torch.arange(x.shape[1], device=x.device)
    return (x.long() * weights).sum(1)


def chi_square_pvalue(samples: torch.Tensor, probs: torch.Tensor, min_expected: float = 5.0) -> float:
    """Pearson chi-square p-value of binary sample rows [N, n] against exact state probabilities
    [2^n]; states with expected count below `min_expected` are pooled into one bin."""
    counts = torch.bincount(state_index(samples).cpu(), minlength=len(probs)).double().numpy()
    expected = probs.detach().double().cpu().numpy() * counts.sum()
    small = expected < min_expected
    obs = np.append(counts[~small], counts[small].sum())
    exp = np.append(expected[~small], expected[small].sum())
    keep = exp > 0
    return float(stats.chisquare(obs[keep], exp[keep]).pvalue)


def all_states(n: int, dtype=torch.float64) -> torch.Tensor:
    """[2^n, n] every binary vector, row i has bit j = (i >> j) & 1 (matches state_index)."""
    idx = torch.arange(2**n)
    return ((idx[:, None] >> torch.arange(n)) & 1).to(dtype)
