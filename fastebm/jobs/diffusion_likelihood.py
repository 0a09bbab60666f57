"""What the diffusion job's kinds measure alike: the bound K and the trajectory log-likelihood of
a 2015-style model in bits per sample, and independent pixels as the null model of images."""

from __future__ import annotations

import math

import torch

BITS = 1 / math.log(2)


def likelihood_bits(model, test: torch.Tensor, n_trajectories: int, trajectory_points: int,
                    generator, bound_draws: int | None = None) -> dict:
    """K on every test point and the trajectory estimate from ``n_trajectories`` forward
    trajectories on the first ``trajectory_points`` (none when 0), in bits per sample (nats /
    log 2), K with its standard error over the test points (``bound_bits_se``: the spread of the
    points and of their forward draws). K sums all T - 1 steps, or with ``bound_draws`` averages
    that many one-random-step unbiased estimates (large images, where T network calls per point
    are too slow)."""
    with torch.no_grad():
        if bound_draws is None:
            bound = model.bound(test, generator, every_step=True)
        else:
            bound = sum(model.bound(test, generator) for _ in range(bound_draws)) / bound_draws
    out = {"bound_bits": float(bound.mean()) * BITS,
           "bound_bits_se": float(bound.std() / len(bound) ** 0.5) * BITS}
    if n_trajectories:
        trajectory = model.trajectory_log_likelihood(test[:trajectory_points], n_trajectories,
                                                     generator)
        out["trajectory_log_likelihood_bits"] = float(trajectory.mean()) * BITS
    return out


def independent_pixels_log_likelihood(train: torch.Tensor, test: torch.Tensor, levels: int) -> float:
    """Mean test log-likelihood (nats) of independent pixels, each a categorical over ``levels``
    values with the training images' add-one-smoothed frequencies; images given as level
    indices [N, D] (int64)."""
    counts = torch.stack([(train == v).sum(0) for v in range(levels)]).double() + 1    # [L, D]
    log_p = (counts / counts.sum(0)).log()
    return float(log_p.gather(0, test).sum(1).mean())


def bound_references(metrics: dict, null_model: str, label: str) -> dict:
    """The per-epoch K's reference lines: the null model's log-likelihood (metrics key
    ``null_model``, drawn as ``label``) and the final every-step K."""
    return {"test_bound_bits": {label: metrics[null_model],
                                "final K (every step)": metrics["bound_bits"]}}


def quick(setup, config: dict, trainer) -> dict:
    """The per-epoch curve: K in bits per sample on 500 test points with the EMA weights, the
    steps 1..T-1 in turn over the points (a stratified estimate of the final every-step K)."""
    g = torch.Generator().manual_seed(config["seed"])
    test = setup.data.test[:500]
    steps = torch.arange(len(test)) % (trainer.model.n_timesteps - 1) + 1
    with torch.no_grad(), trainer.ema.swapped_in():
        return {"test_bound_bits": float(trainer.model.bound(test, g, steps=steps).mean()) * BITS}
