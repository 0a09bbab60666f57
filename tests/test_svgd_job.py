"""The SVGD job end to end: SteinGAN trains a GRBM on the digits and a generator whose samples
come within MMD² 0.1 of the test digits (the untrained generator's are above 0.3); both methods
train, resume and evaluate (AIS test log-likelihood beside the exact one); bad flags are refused before any work."""

from __future__ import annotations

import json
import math
import os

import pytest
import torch

from fastebm.cli import main as cli_main
from fastebm.jobs import svgd
from fastebm.mmd import mmd2

from test_cli import fails

QUICK = ["--no-progress", "--sample-particles", "50", "--sample-steps", "20", "--hidden", "4",
         "--ais-chains", "20", "--ais-betas", "500"]
STEINGAN = ["--method", "steingan", "--particles", "20", "--network-hidden", "16"]


def test_steingan_network_comes_close_to_held_out_digits(tmp_path, capsys):
    out = str(tmp_path / "steingan")
    cli_main(["train", "svgd", "--method", "steingan", "--epochs", "30", "--no-progress",
              "--out", out])
    written = capsys.readouterr().out
    for name in ("checkpoint.pt", "samples.png", "network.png", "curves.png", "metrics.json"):
        assert os.path.getsize(os.path.join(out, name)) > 0 and name in written
    metrics = json.load(open(os.path.join(out, "metrics.json")))
    assert metrics["mmd2_network_test"] < 0.1, metrics["mmd2_network_test"]


def test_an_untrained_sampler_network_fails_the_mmd_threshold():
    config = {**{a.dest: a.default for a in svgd.JOB.all_args}, "method": "steingan"}
    svgd.check(config)
    setup = svgd.build(config)
    samples = setup.objective.sampler.sample(500, generator=torch.Generator().manual_seed(0))
    assert mmd2(samples, setup.data.test, svgd.MMD_BANDWIDTHS) > 0.3


@pytest.mark.parametrize("method", ["steincd", "steingan", "steincdgan"])
def test_every_method_trains_resumes_and_evaluates(method, tmp_path, capsys):
    out = str(tmp_path / method)
    network = [*STEINGAN[2:], "--method", method] if method != "steincd" else ["--method", method]
    args = ["train", "svgd", *network, *QUICK, "--out", out]
    cli_main([*args, "--epochs", "1"])
    cli_main([*args, "--epochs", "2", "--resume"])
    metrics = json.load(open(os.path.join(out, "metrics.json")))
    assert metrics["epochs"] == 2 and torch.isfinite(torch.tensor(metrics["test_log_likelihood"]))
    # 4 hidden units: the AIS test log-likelihood beside the exact one
    assert abs(metrics["test_log_likelihood"] - metrics["test_log_likelihood_exact"]) < 0.05
    assert ("mmd2_network_test" in metrics) == (method != "steincd")
    assert ("ksd2_network" in metrics) == (method != "steincd")
    assert all(math.isfinite(metrics[k]) for k in ("ksd2_test", "ksd2_svgd", "ksd2_gibbs"))
    capsys.readouterr()
    cli_main(["evaluate", out, "--sample-steps", "5"])
    said = capsys.readouterr().out
    assert "mmd2_svgd_test" in said and "samples.png" in said


@pytest.mark.parametrize("flags,match", [
    (["--method", "cd"], "--method"), (["--ais-betas", "2"], "--ais-betas"),
    (["--method", "steincdgan", "--cd-weight", "2"], "--cd-weight"),
    (["--cd-weight", "0.3"], "--method steincdgan"),
    (["--hidden", "0"], "--hidden"), (["--step-size", "0"], "--step-size"), (["--n-steps", "0"], "--n-steps"),
    (["--bandwidth", "-1"], "--bandwidth"), (["--bandwidth", "nan"], "--bandwidth"),
    (["--noise-dim", "0"], "--noise-dim"), (["--network-lr", "0"], "--network-lr"),
    (["--particles", "1"], "--particles"), (["--sample-particles", "1"], "--sample-particles"),
    (["--sample-steps", "0"], "--sample-steps"),
])
def test_bad_flags_are_refused_before_any_work(flags, match, tmp_path, capsys):
    out = tmp_path / "bad"
    fails(["train", "svgd", *flags, "--out", str(out)], match, capsys)
    assert not (out / "checkpoint.pt").exists()
