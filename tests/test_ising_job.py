"""The Ising job end to end: `fastebm sample ising` lands on Onsager's energies away from βc and
writes its pictures; `fastebm train ising` recovers J and h by every method, resumes and
evaluates; bad flags are refused before any work."""

from __future__ import annotations

import json
import os

import pytest
import torch

from fastebm.cli import main as cli_main

from test_cli import fails


def test_sample_matches_onsager_away_from_the_critical_point(tmp_path, capsys):
    """L = 48, 4 replicas × 300 sweeps: energy per site within 0.01 of Onsager's at β = 0.3 and
    0.6 (finite-size corrections there are O(e^{-L/ξ}) with ξ of a few sites; the sampling error
    is ~2e-3), and |m| within 0.01 at β = 0.6."""
    out = str(tmp_path / "sample")
    cli_main(["sample", "ising", "--L", "48", "--betas", "0.3,0.6", "--sweeps", "300",
              "--burn-in", "200", "--no-progress", "--out", out])
    written = capsys.readouterr().out
    for name in ("onsager.png", "snapshots.png", "metrics.json"):
        assert os.path.getsize(os.path.join(out, name)) > 0 and name in written
    rows = json.load(open(os.path.join(out, "metrics.json")))["per_beta"]
    for row in rows:
        assert abs(row["energy_per_site"] - row["onsager_energy"]) < 0.01, row
    assert abs(rows[1]["abs_magnetisation"] - rows[1]["onsager_magnetisation"]) < 0.01, rows[1]


@pytest.mark.parametrize("method", ["pl", "gpl", "rm"])
def test_every_method_recovers_the_coupling_resumes_and_evaluates(method, tmp_path, capsys):
    """1,000 lattices 8 × 8 of J = 0.4, h = 0.05: every method's J and h within 0.05 (their
    standard errors at this size are about 0.01), trained in two runs (resume)."""
    out = str(tmp_path / method)
    args = ["train", "ising", "--method", method, "--L", "8", "--samples", "1000",
            "--burn-in", "300", "--no-progress", "--out", out]
    cli_main([*args, "--epochs", "8"])
    cli_main([*args, "--epochs", "16", "--resume"])
    metrics = json.load(open(os.path.join(out, "metrics.json")))
    assert metrics["epochs"] == 16
    assert abs(metrics["J_error"]) < 0.05 and abs(metrics["h_error"]) < 0.05, metrics
    capsys.readouterr()
    cli_main(["evaluate", out])
    said = capsys.readouterr().out
    assert "fitted_J" in said and "snapshots.png" in said


@pytest.mark.parametrize("argv,match", [
    (["sample", "ising", "--L", "7"], "--L"), (["sample", "ising", "--L", "0"], "--L"),
    (["sample", "ising", "--betas", "0.3,-0.1"], "--betas"),
    (["sample", "ising", "--betas", "0.3,nan"], "--betas"),
    (["sample", "ising", "--J", "inf"], "--J"), (["sample", "ising", "--sweeps", "0"], "--sweeps"),
    (["sample", "ising", "--replicas", "0"], "--replicas"),
    (["sample", "ising", "--start", "hot"], "--start"),
    (["sample", "rbm"], "invalid choice"),
    (["train", "ising", "--L", "5"], "--L"), (["train", "ising", "--method", "cd"], "--method"),
    (["train", "ising", "--samples", "1"], "--samples"),
    (["train", "ising", "--samples", "50"], "--batch-size"),
    (["train", "ising", "--true-h", "nan"], "--true-h"),
])
def test_bad_flags_are_refused_before_any_work(argv, match, tmp_path, capsys):
    out = tmp_path / "bad"
    fails([*argv, "--out", str(out)], match, capsys)
    assert not (out / "metrics.json").exists() and not (out / "checkpoint.pt").exists()


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a GPU")
def test_cuda_device_without_a_gpu_is_refused(tmp_path, capsys):
    fails(["sample", "ising", "--device", "cuda", "--out", str(tmp_path / "x")], "--device cuda",
          capsys)
