"""docs/papers.md's rows, reduced to seconds: each checks the direction of the published result
(fastebm reproduce <row>, and the RBM row's CD-k ordering through the rbm job)."""

from __future__ import annotations

import json
import os

import pytest
import torch

from fastebm.cli import main as cli_main

from test_cli import fails


def metrics_of(out: str) -> dict:
    with open(os.path.join(out, "metrics.json")) as f:
        return json.load(f)


def test_svgd_particles_reach_the_mixture_with_its_mode_weights(tmp_path, capsys):
    """Liu & Wang's Figure 1 as the paper runs it (100 particles, 500 iterations: seconds)."""
    out = str(tmp_path / "mixture")
    cli_main(["reproduce", "svgd-mixture", "--no-progress", "--out", out])
    assert "mixture.png" in capsys.readouterr().out
    m = metrics_of(out)
    assert abs(m["right_mode_fraction"] - 2 / 3) < 0.1, m
    assert abs(m["mean"] - m["exact_mean"]) < 0.3 and abs(m["variance"] / m["exact_variance"] - 1) < 0.2


def test_svgd_logistic_regression_beats_the_majority_class(tmp_path, capsys):
    out = str(tmp_path / "logreg")
    cli_main(["reproduce", "svgd-logreg", "--iterations", "300", "--no-progress", "--out", out])
    m = metrics_of(out)
    assert m["test_accuracy"] > 0.9 > m["majority_class_accuracy"], m
    assert m["test_log_likelihood"] > -0.3, m


def test_estimators_without_log_z_get_better_with_data(tmp_path, capsys):
    """Three sizes, three samples each: every estimator's error falls from 50 to 2,000 samples
    by over a factor of 2.5 (the n^(-1/2) rate gives 6.3)."""
    out = str(tmp_path / "consistency")
    cli_main(["reproduce", "consistency", "--sizes", "50,300,2000", "--repeats", "3",
              "--steps", "150", "--lr", "0.1", "--no-progress", "--out", out])
    m = metrics_of(out)
    for method in ("sm", "nce", "pl"):
        errors = m[f"{method}_errors"]
        assert errors[-1] < errors[0] / 2.5, (method, errors)
        assert m[f"{method}_slope"] < -0.2, (method, m[f"{method}_slope"])


def test_cd25_beats_cd1(tmp_path, capsys):
    """Salakhutdinov & Murray's ordering on a small RBM with exact log Z: a 64-16 RBM on the
    digits trained by CD-25 has a higher test log-likelihood than by CD-1 (same steps, lr)."""
    ll = {}
    for k in (1, 25):
        out = str(tmp_path / f"cd{k}")
        cli_main(["train", "rbm", "--hidden", "16", "--method", "cd", "--k", str(k),
                  "--epochs", "30", "--optimizer", "sgd", "--lr", "0.1", "--ais-chains", "20",
                  "--ais-betas", "100", "--no-progress", "--out", out])
        ll[k] = metrics_of(out)["test_log_likelihood_exact"]
    assert ll[25] > ll[1], ll


@pytest.mark.parametrize("argv,match", [
    (["consistency", "--sizes", "5,100"], "--sizes"), (["consistency", "--sizes", "100"], "--sizes"),
    (["svgd-mixture", "--particles", "1"], "--particles"),
    (["svgd-logreg", "--step-size", "0"], "--step-size"), (["hopfield"], "invalid choice"),
])
def test_bad_flags_are_refused(argv, match, tmp_path, capsys):
    fails(["reproduce", *argv, "--out", str(tmp_path / "bad")], match, capsys)


def test_the_heartbeat_data_and_a_short_binomial_run(tmp_path, capsys):
    """Sohl-Dickstein et al.'s heartbeat: five equally likely sequences (true log-likelihood
    -log₂ 5 = -2.32 bits); a short binomial-diffusion run (T = 50, 60 epochs) has K far above
    independent bits and, as a bound in expectation, not above the data's own log-likelihood."""
    from fastebm import data

    split = data.heartbeat()
    patterns = torch.unique(torch.cat([split.train, split.test]), dim=0)
    assert len(patterns) == 5 and (patterns.sum(1) == 4).all()
    out = str(tmp_path / "heartbeat")
    cli_main(["train", "diffusion", "--kind", "binomial", "--data", "heartbeat", "--timesteps",
              "50", "--hidden", "128", "--epochs", "60", "--no-progress", "--out", out])
    m = metrics_of(out)
    assert m["independent_pixels_log_likelihood_bits"] + 3 < m["bound_bits"] < -2.32 + 0.1, m
    assert 0 < m["bound_bits_se"] < 0.2, m  # K's standard error over the 400 test sequences
