"""The VAE job end to end: a VAE on binarised digits reaches a test ELBO above −21 nats with the
IWAE bound above it, the reparameterisation gradient's variance far below the score function's;
resume is bit for bit; bad flags are refused before any work."""

from __future__ import annotations

import json
import math
import os

import pytest
import torch

from fastebm.training.checkpoint import load_checkpoint
from fastebm.cli import main as cli_main

from test_cli import fails

QUICK = ["--no-progress", "--hidden", "64", "--iwae-samples", "50", "--variance-samples", "20"]


def test_vae_on_digits_reaches_a_test_elbo(tmp_path, capsys):
    """40 epochs (defaults otherwise: 8 latents, 256 hidden): test ELBO > −21 nats (the RBM demo's
    exact test log-likelihood is −18.7; the base-rate model's −25.3), IWAE-1000 ≥ ELBO, and the
    score-function estimator's variance at least 20× the reparameterisation estimator's."""
    out = str(tmp_path / "vae")
    cli_main(["train", "vae", "--epochs", "40", "--iwae-samples", "1000", "--no-progress",
              "--out", out])
    written = capsys.readouterr().out
    for name in ("checkpoint.pt", "samples.png", "reconstructions.png", "curves.png",
                 "gradient_variance.png", "metrics.json"):
        assert os.path.getsize(os.path.join(out, name)) > 0 and name in written
    m = json.load(open(os.path.join(out, "metrics.json")))
    assert m["test_elbo"] > -21 and m["test_iwae"] >= m["test_elbo"], m
    assert m["grad_var_score_function"] > 20 * m["grad_var_reparameterization"], m


def test_resume_is_bit_for_bit_and_evaluate_remeasures(tmp_path, capsys):
    whole, split = str(tmp_path / "whole"), str(tmp_path / "split")
    cli_main(["train", "vae", *QUICK, "--epochs", "2", "--out", whole])
    cli_main(["train", "vae", *QUICK, "--epochs", "1", "--out", split])
    cli_main(["train", "vae", *QUICK, "--epochs", "2", "--resume", "--out", split])
    a = load_checkpoint(os.path.join(whole, "checkpoint.pt"))["trainer"]["model"]
    b = load_checkpoint(os.path.join(split, "checkpoint.pt"))["trainer"]["model"]
    assert all(torch.equal(a[k], b[k]) for k in a)
    capsys.readouterr()
    cli_main(["evaluate", whole, "--iwae-samples", "20"])
    assert "  test_iwae " in capsys.readouterr().out


@pytest.mark.parametrize("flags,match", [
    (["--latent", "0"], "--latent"), (["--elbo-samples", "0"], "--elbo-samples"),
    (["--variance-samples", "1"], "--variance-samples"), (["--iwae-samples", "0"], "--iwae-samples"),
    (["--data", "moons"], "--data"), (["--lr", "-1"], "--lr"), (["--estimator", "pathwise"], "--estimator"),
    (["--estimator", "score", "--elbo-samples", "1"], "--elbo-samples >= 2"),
])
def test_bad_flags_are_refused_before_any_work(flags, match, tmp_path, capsys):
    out = tmp_path / "bad"
    fails(["train", "vae", *flags, "--out", str(out)], match, capsys)
    assert not (out / "checkpoint.pt").exists()


def test_a_score_function_run_draws_itself_beside_its_reparameterised_twin(tmp_path, capsys):
    """--estimator score trains by the score function and a reparameterised twin with the same
    steps: both test ELBOs in metrics.json (and a verdict between them), both curves in
    estimators.png."""
    out = str(tmp_path / "score")
    cli_main(["train", "vae", *QUICK, "--estimator", "score", "--elbo-samples", "4",
              "--epochs", "2", "--out", out])
    said = capsys.readouterr().out
    metrics = json.load(open(os.path.join(out, "metrics.json")))
    assert metrics["estimator"] == "score" and metrics["elbo_samples"] == 4
    assert math.isfinite(metrics["reparameterized_twin_test_elbo"])
    assert "the reparameterised twin" in said and os.path.getsize(os.path.join(out, "estimators.png")) > 0
