"""Bridge sampling between two models (Bennett 1976; Meng & Wong 1996)."""

from __future__ import annotations

import math

import torch

from ..checks import check_count, check_log_z, check_real
from ..models.base import check_model, check_visible
from .ais import LogZ


@torch.no_grad()
def bridge_sampling(model_a, model_b, samples_a: torch.Tensor, samples_b: torch.Tensor, *,
                    log_z_a: float = 0.0, max_iter: int = 1000, tol: float = 1e-10) -> LogZ:
    """Estimate log Z_b from samples of both models with the optimal bridge of Meng & Wong (1996).

    With ℓ(x) = q_b(x) / q_a(x) (q = exp(-F)), s_a = n_a / (n_a + n_b), s_b = 1 - s_a, iterate
        r ← mean_{x ~ a}[ℓ / (s_a r + s_b ℓ)] / mean_{x ~ b}[1 / (s_a r + s_b ℓ)],
    in log space, to the fixed point r = Z_b / Z_a. Returns log Z_b = log_z_a + log r (so with the
    default log_z_a = 0, the log ratio), stderr from the two sample means' relative variances
    (independent samples assumed), and the per-sample log ℓ of both sets as ``log_weights``.

    Args:
        model_a, model_b: models with ``free_energy`` on the same visible space.
        samples_a: [n_a, V] samples of model_a; samples_b: [n_b, V] samples of model_b.
        log_z_a: log Z of model_a, when known (e.g. exact_log_z).
    """
    for model, name in ((model_a, "model_a"), (model_b, "model_b")):
        check_model(model, f"bridge_sampling's {name}")
    samples_a = check_visible(model_a, samples_a, "samples_a")
    samples_b = check_visible(model_b, samples_b, "samples_b")
    if len(samples_a) < 2 or len(samples_b) < 2:
        raise ValueError("bridge_sampling needs at least 2 samples of each model")
    log_z_a = check_log_z(log_z_a, "log_z_a")
    check_count(max_iter, "max_iter")
    check_real(tol, "tol", low=0.0, low_open=True)
    log_l_a = (model_a.free_energy(samples_a) - model_b.free_energy(samples_a)).double()
    log_l_b = (model_a.free_energy(samples_b) - model_b.free_energy(samples_b)).double()
    n_a, n_b = len(log_l_a), len(log_l_b)
    log_sa, log_sb = math.log(n_a / (n_a + n_b)), math.log(n_b / (n_a + n_b))

    def terms(log_r: float) -> tuple[torch.Tensor, torch.Tensor]:
        def log_mix(log_l):  # log(s_a r + s_b ℓ)
            return torch.logaddexp(torch.full_like(log_l, log_sa + log_r), log_sb + log_l)

        return log_l_a - log_mix(log_l_a), -log_mix(log_l_b)

    log_r = float(torch.logsumexp(log_l_a, 0) - math.log(n_a))  # importance-sampling start
    for _ in range(max_iter):
        num, den = terms(log_r)
        new = float(torch.logsumexp(num, 0) - math.log(n_a) - torch.logsumexp(den, 0) + math.log(n_b))
        converged = abs(new - log_r) < tol
        log_r = new
        if converged:
            break
    num, den = terms(log_r)
    rel_var = sum(float(torch.exp(t - t.max()).var() / torch.exp(t - t.max()).mean() ** 2) / len(t)
                  for t in (num, den))
    return LogZ(log_z_a + log_r, math.sqrt(rel_var), torch.cat([log_l_a, log_l_b]), log_z_a)
