"""The diffusion job end to end: a short DDPM run on the digits writes every output, its samples'
MMD² to held-out digits is under 0.3× an untrained denoiser's (about 0.2× after 60 epochs), it
resumes and re-evaluates with DDIM; the Gaussian (Sohl-Dickstein) kind's bound, trajectory
estimate and outputs; the binomial kind's bound, trajectory estimate, inpainting and denoising;
bad flags are refused before any work."""

from __future__ import annotations

import json
import os

import pytest
import torch

import fastebm

from fastebm.cli import main as cli_main
from fastebm.jobs import diffusion
from fastebm.jobs.base import Context
from fastebm.mmd import mmd2

from test_cli import fails

QUICK = ["--no-progress", "--timesteps", "100", "--network", "mlp", "--hidden", "128", "--depth", "2"]


def untrained_mmd(config: dict) -> float:
    diffusion.check(config)
    setup = diffusion.diffusion_ddpm.build(config)
    return diffusion.diffusion_ddpm.measure(setup, config, Context(False, [])).metrics["mmd2_test"]


def test_ddpm_trains_resumes_and_evaluates(tmp_path, capsys):
    out = str(tmp_path / "ddpm")
    args = ["train", "diffusion", *QUICK, "--out", out]
    cli_main([*args, "--epochs", "30"])
    written = capsys.readouterr().out
    for name in ("checkpoint.pt", "samples.png", "inpainting.png", "curves.png", "metrics.json"):
        assert os.path.getsize(os.path.join(out, name)) > 0 and name in written
    cli_main([*args, "--epochs", "60", "--resume"])
    metrics = json.load(open(os.path.join(out, "metrics.json")))
    assert metrics["epochs"] == 60
    config = {**{a.dest: a.default for a in diffusion.JOB.all_args}, "timesteps": 100,
              "network": "mlp", "hidden": 128, "depth": 2}
    assert metrics["mmd2_test"] < 0.3 * untrained_mmd(config), metrics["mmd2_test"]
    assert metrics["bound_bits"] < metrics["trajectory_log_likelihood_bits"] < 0, metrics
    capsys.readouterr()
    cli_main(["evaluate", out, "--sampler", "ddim", "--sample-steps", "20"])
    said = capsys.readouterr().out
    assert "mmd2_test" in said and "inpainting.png" in said
    assert json.load(open(os.path.join(out, "metrics.json")))["sampler"] == "ddim"


@pytest.mark.parametrize("flags,match", [
    (["--kind", "vae"], "--kind"), (["--data", "moons"], "--data"), (["--timesteps", "1"], "--timesteps"),
    (["--schedule", "quadratic"], "--schedule"), (["--hidden", "0"], "--hidden"),
    (["--ema", "1"], "--ema"), (["--sampler", "euler"], "--sampler"),
    (["--sample-steps", "0"], "--sample-steps"), (["--eta", "-1"], "--eta"),
    (["--sampler", "ddim", "--timesteps", "10", "--sample-steps", "20"], "sample-steps"),
    (["--kind", "gaussian", "--data", "digits"], "--kind gaussian"),
    (["--kind", "ddpm", "--data", "moons"], "--kind ddpm"), (["--fixed-noise-vars", "1"], "unrecognized"),
    (["--kind", "binomial", "--data", "swissroll"], "--kind binomial"),
    (["--kind", "gaussian", "--network", "unet"], "--network unet"), (["--channels", "0"], "--channels"),
    (["--hidden", "64"], "--network mlp"), (["--kind", "binomial", "--predict", "eps"], "--kind ddpm"),
    (["--predict", "x0"], "--predict"), (["--network", "mlp", "--channels", "8"], "--network unet"),
    (["--device", "tpu"], "--device"), (["--kind", "gaussian", "--device", "cpu"], "--kind ddpm"),
])
def test_bad_flags_are_refused_before_any_work(flags, match, tmp_path, capsys):
    out = tmp_path / "bad"
    fails(["train", "diffusion", *flags, "--out", str(out)], match, capsys)
    assert not (out / "checkpoint.pt").exists()


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a GPU")
def test_cuda_device_without_a_gpu_is_refused(tmp_path, capsys):
    fails(["train", "diffusion", "--device", "cuda", "--out", str(tmp_path / "x")],
          "--device cuda", capsys)


def test_digits_grey_levels():
    split = diffusion.datasets.digits(binary=False)
    assert split.train.min() == 0 and split.train.max() == 1
    assert len(torch.unique(split.train)) == 17
    assert mmd2(split.train[:300], split.test[:300], diffusion.diffusion_ddpm.bandwidths(64)) < 0.01


def test_gaussian_kind_bound_trajectory_and_samples(tmp_path, capsys):
    """Sohl-Dickstein's Gaussian diffusion on the Swiss roll (T = 10, 20 epochs): K (bits per
    sample) below the trajectory estimate, both above a Gaussian fitted to the data (which the
    Swiss roll is far from), and samples closer to the test points than that Gaussian's."""
    out = str(tmp_path / "sd")
    cli_main(["train", "diffusion", "--kind", "gaussian", "--timesteps", "10", "--hidden", "64",
              "--epochs", "20", "--batch-size", "256", "--no-progress", "--out", out])
    written = capsys.readouterr().out
    for name in ("checkpoint.pt", "samples.png", "curves.png", "metrics.json"):
        assert os.path.getsize(os.path.join(out, name)) > 0 and name in written
    m = json.load(open(os.path.join(out, "metrics.json")))
    assert m["bound_bits"] < m["trajectory_log_likelihood_bits"]
    assert m["bound_bits"] > m["gaussian_fit_log_likelihood_bits"], m
    assert m["noise_vars"][0] == 1e-4 and len(m["noise_vars"]) == 10
    cli_main(["evaluate", out])
    assert "bound_bits" in capsys.readouterr().out


def test_binomial_kind_bound_trajectory_inpainting_and_denoising(tmp_path, capsys):
    """Sohl-Dickstein's binomial diffusion on the binarised digits (T = 20, 40 epochs): K below
    the trajectory estimate and 20 bits above the untrained network's (-64.8 bits; independent
    pixels -36.5, reached by the default run's 500 epochs); inpainting beats chance and
    denoising does not add errors to the noisy input; every picture written."""
    out = str(tmp_path / "binomial")
    cli_main(["train", "diffusion", "--kind", "binomial", "--timesteps", "20", "--network", "mlp",
              "--hidden", "256", "--depth", "2", "--epochs", "40", "--no-progress", "--out", out])
    written = capsys.readouterr().out
    for name in ("checkpoint.pt", "samples.png", "inpainting.png", "denoising.png", "curves.png",
                 "metrics.json"):
        assert os.path.getsize(os.path.join(out, name)) > 0 and name in written
    m = json.load(open(os.path.join(out, "metrics.json")))
    assert m["bound_bits"] < m["trajectory_log_likelihood_bits"], m
    assert m["bound_bits"] > -64.8 + 20, m
    assert m["inpainting_bit_error_unknown"] < 0.4, m
    assert m["denoising_bit_error"] < 1.1 * m["noisy_bit_error"], m


def test_the_image_kinds_default_to_the_unet(tmp_path, capsys):
    """ddpm and binomial train the U-Net unless --network mlp (ddpm on the digits: through the
    levels' posterior); its run writes the labelled inpainting strip, and the console ends with the verdicts against independent pixels and the
    class-coverage target."""
    out = str(tmp_path / "unet")
    cli_main(["train", "diffusion", "--timesteps", "20", "--channels", "8", "--epochs", "1",
              "--no-progress", "--out", out])
    said = capsys.readouterr().out
    metrics = json.load(open(os.path.join(out, "metrics.json")))
    assert metrics["network"] == "unet" and "hidden" not in metrics and "depth" not in metrics
    assert any("independent pixels" in line for line in metrics["verdicts"])
    assert "independent pixels" in said and "class_coverage_tv" in said
    model = fastebm.load_run(out).model  # the digits' default: the U-Net gives 17 levels' logits
    assert type(model).__name__ == "LevelPosteriorDenoiser" and model.levels == 17
    assert type(model.net).__name__ == "UNetDenoiser" and model.net.out_channels == 17
