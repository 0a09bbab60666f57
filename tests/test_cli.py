"""The command line: jobs from the registry, train / resume / evaluate, every flag and the output
folder checked before any work, one-line errors, temp-file clean-up, checkpoint permissions."""

import glob
import json
import os
import stat
import subprocess
import sys

import pytest
import torch

import fastebm

from fastebm.cli import build_parser, main as cli_main
from fastebm.jobs import JOBS

QUICK = ["--data", "digits", "--hidden", "16", "--epochs", "8", "--ais-betas", "1000",
         "--ais-chains", "50", "--no-progress", "--lr", "5e-3", "--lr-schedule", "constant",
         "--pt-betas", "1"]


def fails(argv, match, capsys):
    """The CLI exits non-zero with a one-line error containing ``match``."""
    with pytest.raises(SystemExit) as info:
        cli_main(argv)
    message = str(info.value.code) if not isinstance(info.value.code, int) else capsys.readouterr().err
    assert info.value.code != 0 and match in message, message
    assert len(message.strip().splitlines()) == 1, message


def test_train_resume_evaluate(tmp_path, capsys):
    out = str(tmp_path / "run")
    cli_main(["train", "rbm", *QUICK, "--out", out])
    written = capsys.readouterr().out
    for name in ("checkpoint.pt", "samples.png", "curves.png", "metrics.json"):
        assert os.path.getsize(os.path.join(out, name)) > 0 and name in written
    fails(["train", "rbm", *QUICK, "--out", out], "--resume", capsys)
    cli_main(["train", "rbm", *QUICK, "--out", out, "--epochs", "12", "--resume"])
    metrics = json.load(open(os.path.join(out, "metrics.json")))
    assert metrics["epochs"] == 12 and len(metrics["sample_class_histogram"]) == 10
    assert metrics["chains"] == 100 and "momentum" not in metrics  # only options that apply
    assert abs(metrics["log_z_ais"] - metrics["log_z_exact"]) < 0.2
    assert metrics["test_log_likelihood"] > metrics["base_rate_test_log_likelihood"] + 0.5
    assert 0 <= metrics["class_coverage_tv"] <= 1
    assert any("better than the base-rate model" in line for line in metrics["verdicts"])
    # the bottom halves of the test digits, imputed from the exact conditional
    assert metrics["imputation_bit_error"] < metrics["base_rate_imputation_bit_error"]
    fails(["train", "rbm", *QUICK, "--out", out, "--hidden", "32", "--resume"], "configuration",
          capsys)
    fails(["train", "rbm", *QUICK, "--out", out, "--epochs", "3", "--resume"], "12 epochs done",
          capsys)
    capsys.readouterr()
    trained = json.load(open(os.path.join(out, "metrics.json")))
    cli_main(["evaluate", out, "--ais-chains", "20", "--ais-betas", "300"])
    said = capsys.readouterr().out
    assert all(name in said for name in ("log_z_ais", "metrics.json", "samples.png", "samples.pt"))
    evaluated = json.load(open(os.path.join(out, "metrics.json")))
    assert evaluated["ais_chains"] == 20 and evaluated["train_seconds"] == trained["train_seconds"]
    cli_main(["evaluate", out])  # options default to the run's own settings, not the job's
    assert json.load(open(os.path.join(out, "metrics.json")))["ais_betas"] == 1000
    fails(["evaluate", out, "--ais-chains", "0"], "--ais-chains", capsys)


def test_load_run_returns_the_trained_model_and_samples_pt(tmp_path, capsys):
    """load_run gives back the trained RBM (same weights as the checkpoint), its config and
    metrics; samples.pt holds the job's final samples."""
    out = str(tmp_path / "run")
    cli_main(["train", "rbm", *QUICK[:-2], "--epochs", "2", "--method", "cd", "--optimizer",
              "sgd", "--out", out])
    run = fastebm.load_run(out)
    assert run.config["chains"] == 100 and "chains" not in run.metrics
    assert run.metrics["momentum"] == 0.9
    state = torch.load(os.path.join(out, "checkpoint.pt"), weights_only=False)
    assert run.job == "rbm" and run.config["hidden"] == 16 and "test_log_likelihood" in run.metrics
    assert torch.equal(run.model.W, state["trainer"]["model"]["W"])
    assert fastebm.load_run(os.path.join(out, "checkpoint.pt")).config == run.config
    v = run.model.sample(5, 10, generator=torch.Generator().manual_seed(0))
    assert v.shape == (5, 64) and set(v.unique().tolist()) <= {0.0, 1.0}
    samples = torch.load(os.path.join(out, "samples.pt"))
    assert samples.shape == (500, 64) and set(samples.unique().tolist()) <= {0.0, 1.0}
    with pytest.raises(FileNotFoundError, match="no checkpoint"):
        fastebm.load_run(str(tmp_path))


def test_version_and_evaluate_help_list_the_jobs_options(tmp_path, capsys):
    text = subprocess.run([sys.executable, "-m", "fastebm", "--version"],
                          capture_output=True, text=True, check=True).stdout
    assert text.strip() == f"fastebm {fastebm.__version__}"
    out = str(tmp_path / "run")
    cli_main(["train", "rbm", *QUICK, "--epochs", "1", "--out", out])
    helped = subprocess.run([sys.executable, "-m", "fastebm", "evaluate", out, "--help"],
                            capture_output=True, text=True, check=True).stdout
    assert "--ais-chains" in helped and "--ais-betas" in helped


BAD_FLAGS = [
    (["--epochs", "0"], "--epochs"), (["--epochs", "-1"], "--epochs"),
    (["--hidden", "0"], "--hidden"), (["--k", "1.5"], "--k"), (["--lr", "nan"], "--lr"),
    (["--lr", "-1"], "--lr"), (["--momentum", "1"], "--momentum"),
    (["--batch-size", "0"], "--batch-size"), (["--chains", "0"], "--chains"),
    (["--ais-chains", "1.5"], "--ais-chains"), (["--ais-betas", "2"], "--ais-betas"),
    (["--pt-betas", "0.9,0.5"], "--pt-betas"), (["--pt-betas", "1,nan"], "--pt-betas"),
    (["--pt-betas", "1,x"], "--pt-betas"), (["--data", "cifar"], "--data"),
    (["--method", "cd", "--pt-betas", "1,0.5"], "--pt-betas"), (["--seed", "-1"], "--seed"),
    (["--lr-schedule", "cyclic"], "--lr-schedule"), (["--bogus"], "unrecognized"),
]


@pytest.mark.parametrize("flags,match", BAD_FLAGS, ids=[" ".join(f) for f, _ in BAD_FLAGS])
def test_bad_flags_fail_before_any_work(tmp_path, capsys, flags, match):
    out = tmp_path / "run"
    fails(["train", "rbm", "--out", str(out), *flags], match, capsys)
    assert not out.exists()


def test_output_folder_checked_first(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("")
    fails(["train", "rbm", "--out", str(blocker / "run")], "cannot write", capsys)
    fails(["train", "rbm", "--out", str(tmp_path / "none"), "--resume"], "no checkpoint", capsys)
    fails(["evaluate", str(tmp_path / "none")], "no checkpoint", capsys)


def test_orphan_temp_files_removed_and_permissions_follow_umask(tmp_path, capsys):
    out = tmp_path / "run"
    out.mkdir()
    (out / "checkpoint.pt.abc123.tmp").write_bytes(b"half a checkpoint")  # a kill -9 mid-save
    old = os.umask(0o022)
    try:
        cli_main(["train", "rbm", *QUICK, "--epochs", "1", "--out", str(out)])
    finally:
        os.umask(old)
    assert not glob.glob(str(out / "*.tmp"))
    modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in out.iterdir()}
    assert modes["checkpoint.pt"] == modes["metrics.json"] == 0o644, modes


def test_help_lists_jobs_and_choices_come_from_one_place():
    text = subprocess.run([sys.executable, "-m", "fastebm", "train", "--help"],
                          capture_output=True, text=True, check=True).stdout
    assert all(name in text for name in JOBS)
    parser = build_parser()
    args = parser.parse_args(["train", "rbm"])
    for arg in JOBS["rbm"].all_args:
        assert getattr(args, arg.dest) == arg.default
    assert parser.parse_args(["bench", "--quick", "--ais"]).ais


def test_mistakes_a_user_can_act_on(tmp_path, capsys):
    out = str(tmp_path / "r")
    fails(["train", "diffusion", "--sampler", "ddpm", "--sample-steps", "5", "--out", out],
          "--sample-steps applies only with --kind ddpm and --sampler ddim", capsys)
    fails(["train", "rbm", "--method", "cd", "--chains", "5", "--out", out],
          "--chains applies only with --method pcd", capsys)
    fails(["train", "rbm", "--lr", "1e300", "--out", out], "float32", capsys)
    fails(["train", "rbm", "--hidden", "100000000", "--no-progress", "--out", out],
          "out of memory", capsys)


def test_a_diverging_run_says_lower_the_learning_rate(tmp_path, capsys):
    fails(["train", "ebm", "--method", "dsm", "--epochs", "2", "--lr", "1e8", "--no-progress",
           "--out", str(tmp_path / "r")], "lower the learning rate (--lr)", capsys)


def test_damaged_checkpoints_are_named(tmp_path, capsys):
    out = str(tmp_path / "run")
    cli_main(["train", "ising", "--L", "4", "--samples", "20", "--burn-in", "5", "--epochs", "1",
              "--batch-size", "10", "--no-progress", "--out", out])
    fails(["sample", "ising", "--out", out], "pass another --out", capsys)
    path = os.path.join(out, "checkpoint.pt")
    state = torch.load(path, weights_only=False)
    del state["config"]["L"]
    torch.save(state, path)
    fails(["evaluate", out], "lacks L", capsys)
    state["config"]["L"] = 4
    state["trainer"]["model"]["J"] = torch.zeros(3)  # not the model's shape
    torch.save(state, path)
    fails(["evaluate", out], "checkpoint.pt", capsys)


def test_verdicts_say_whether_a_run_beat_its_baselines():
    """A metric against a measured baseline or a fixed target: better / worse by how much, and
    a WARNING where the run lost; a check whose metric the run lacks says nothing."""
    from fastebm.jobs.verdicts import Versus, coverage_target, verdicts

    checks = (Versus("ll", "base", "the base-rate model", "nats"), coverage_target(0.10))
    assert verdicts(checks, {"ll": -18.7, "base": -25.3, "class_coverage_tv": 0.05}) == [
        "ll -18.7 nats: 6.6 better than the base-rate model (-25.3)",
        "class_coverage_tv 0.05: meets the target ≤ 0.1"]
    assert verdicts(checks, {"ll": -30.0, "base": -25.3, "class_coverage_tv": 0.43}) == [
        "WARNING: ll -30 nats: 4.7 worse than the base-rate model (-25.3)",
        "WARNING: class_coverage_tv 0.43: misses the target ≤ 0.1"]
    assert verdicts(checks, {"base": -25.3}) == []
