"""The DBM job end to end: a 64-64-32 DBM on the binarised digits beats the base-rate model by
its test log-likelihood lower bound and imputes the bottom halves better; resume is bit for bit
(the persistent chains included); evaluate re-measures; bad flags are refused before any work."""

from __future__ import annotations

import json
import os

import pytest
import torch

from fastebm.cli import main as cli_main
from fastebm.training.checkpoint import load_checkpoint

from test_cli import fails

QUICK = ["--no-progress", "--hidden", "16,8", "--ais-chains", "50", "--ais-betas", "300"]


def test_the_defaults_beat_the_base_rate_model(tmp_path, capsys):
    """80 epochs (the defaults' 200 give −19.7): the test bound above the base-rate model's
    log-likelihood by over 3 nats, the imputation below its bit error, every file written."""
    out = str(tmp_path / "dbm")
    cli_main(["train", "dbm", "--epochs", "80", "--ais-chains", "200", "--no-progress",
              "--out", out])
    written = capsys.readouterr().out
    for name in ("checkpoint.pt", "samples.png", "curves.png", "metrics.json"):
        assert os.path.getsize(os.path.join(out, name)) > 0 and name in written
    m = json.load(open(os.path.join(out, "metrics.json")))
    assert m["test_log_likelihood_bound"] > m["base_rate_test_log_likelihood"] + 3, m
    assert m["imputation_bit_error"] < m["base_rate_imputation_bit_error"], m


def test_resume_is_bit_for_bit_and_evaluate_remeasures(tmp_path, capsys):
    """(A constant learning rate: the default cosine schedule spans the run's epochs, so a run
    extended from 1 to 2 epochs takes other steps than one of 2.)"""
    whole, split = str(tmp_path / "whole"), str(tmp_path / "split")
    flags = [*QUICK, "--lr-schedule", "constant"]
    cli_main(["train", "dbm", *flags, "--epochs", "2", "--out", whole])
    cli_main(["train", "dbm", *flags, "--epochs", "1", "--out", split])
    cli_main(["train", "dbm", *flags, "--epochs", "2", "--resume", "--out", split])
    a, b = (load_checkpoint(os.path.join(d, "checkpoint.pt"))["trainer"] for d in (whole, split))
    assert all(torch.equal(a["model"][k], b["model"][k]) for k in a["model"])
    capsys.readouterr()
    cli_main(["evaluate", whole, "--ais-chains", "20"])
    said = capsys.readouterr().out
    assert "test_log_likelihood_bound" in said and "samples.png" in said


@pytest.mark.parametrize("flags,match", [
    (["--hidden", "64"], "--hidden"), (["--hidden", "16,0"], "--hidden"),
    (["--hidden", "16,x"], "--hidden"), (["--k", "0"], "--k"), (["--chains", "0"], "--chains"),
    (["--mean-field-steps", "0"], "--mean-field-steps"), (["--data", "moons"], "--data"),
    (["--ais-betas", "2"], "--ais-betas"),
])
def test_bad_flags_are_refused_before_any_work(flags, match, tmp_path, capsys):
    out = tmp_path / "bad"
    fails(["train", "dbm", *flags, "--out", str(out)], match, capsys)
    assert not (out / "checkpoint.pt").exists()
