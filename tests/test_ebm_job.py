"""The continuous-EBM job end to end: a small neural EBM trained on two moons gives samples whose
MMD² to held-out data is below 0.015 (an untrained one's is above 0.03); every method trains,
resumes and evaluates; bad flags are refused before any work."""

from __future__ import annotations

import json
import os

import pytest
import torch

from fastebm import data
from fastebm.cli import main as cli_main
from fastebm.jobs import ebm
from fastebm.mmd import mmd2

from test_cli import fails

QUICK = ["--no-progress", "--sample-steps", "100"]


def test_nce_on_moons_samples_close_to_held_out_data(tmp_path, capsys):
    out = str(tmp_path / "nce")
    cli_main(["train", "ebm", "--method", "nce", "--epochs", "30", "--no-progress", "--out", out])
    written = capsys.readouterr().out
    for name in ("checkpoint.pt", "samples.png", "energy.png", "curves.png", "metrics.json"):
        assert os.path.getsize(os.path.join(out, name)) > 0 and name in written
    metrics = json.load(open(os.path.join(out, "metrics.json")))
    assert metrics["mmd2_test"] < 0.015, metrics["mmd2_test"]
    # The model's own MALA samples are closer to it, in Stein discrepancy, than the held-out data.
    assert abs(metrics["ksd2_samples"]) < metrics["ksd2_test"], metrics
    assert 0 < metrics["ksd_test_p_value"] <= 1


def test_an_untrained_energy_fails_the_mmd_threshold():
    split = data.load("moons")
    config = {**{a.dest: a.default for a in ebm.JOB.all_args}, "method": "sm"}
    model = ebm.build(config).model
    samples, _ = ebm.draw_samples(model, config, progress=False)
    assert mmd2(samples, split.test[:1000]) > 0.03


@pytest.mark.parametrize("method", ["sml", "sm", "ssm", "dsm"])
def test_every_method_trains_resumes_and_evaluates(method, tmp_path, capsys):
    out = str(tmp_path / method)
    args = ["train", "ebm", "--method", method, "--hidden", "16", *QUICK, "--out", out,
            *(["--n-steps", "5"] if method == "sml" else [])]
    cli_main([*args, "--epochs", "1"])
    cli_main([*args, "--epochs", "2", "--resume"])
    metrics = json.load(open(os.path.join(out, "metrics.json")))
    assert metrics["epochs"] == 2 and torch.isfinite(torch.tensor(metrics["mmd2_test"]))
    capsys.readouterr()
    cli_main(["evaluate", out, "--sample-steps", "20"])
    said = capsys.readouterr().out
    assert "mmd2_test" in said and "samples.png" in said


@pytest.mark.parametrize("flags,match", [
    (["--method", "cd"], "--method"), (["--data", "digits"], "--data"),
    (["--hidden", "0"], "--hidden"), (["--step-size", "0"], "--step-size"),
    (["--n-steps", "0"], "--n-steps"), (["--reinit", "1.5"], "--reinit"),
    (["--alpha", "-1"], "--alpha"), (["--sigma", "nan"], "--sigma"), (["--nu", "0"], "--nu"),
    (["--sample-step-size", "-0.1"], "--sample-step-size"), (["--buffer", "0"], "--buffer"),
])
def test_bad_flags_are_refused_before_any_work(flags, match, tmp_path, capsys):
    out = tmp_path / "bad"
    fails(["train", "ebm", *flags, "--out", str(out)], match, capsys)
    assert not (out / "checkpoint.pt").exists()
