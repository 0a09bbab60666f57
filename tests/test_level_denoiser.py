"""The level-posterior denoiser: exact ε̂ where the noise is far below the levels' spacing (so the
bound's first steps cost nothing), the network's logits deciding where it is large, and
gradients reaching the network."""

import math

import torch

from fastebm.models import DenoiserDiffusion, LevelPosteriorDenoiser, NoiseSchedule, UNetDenoiser

LEVELS = 17


def denoiser(schedule):
    torch.manual_seed(0)
    return LevelPosteriorDenoiser(UNetDenoiser((8, 8), schedule.n_timesteps, 8, LEVELS), schedule,
                                  LEVELS)


def on_grid(n):
    g = torch.Generator().manual_seed(1)
    return torch.randint(0, LEVELS, (n, 64), generator=g).float() * 2 / (LEVELS - 1) - 1


def test_small_noise_gives_the_exact_epsilon_whatever_the_network():
    schedule = NoiseSchedule.linear(1000)
    net = denoiser(schedule)
    torch.nn.init.normal_(net.net.out.weight, std=0.1)  # arbitrary logits, a few units
    x0, eps = on_grid(16), torch.randn(16, 64, generator=torch.Generator().manual_seed(2))
    t = torch.zeros(16, dtype=torch.long)  # σ = 0.01, a twelfth of the spacing
    x_t = schedule.q_sample(x0, t, eps)
    torch.testing.assert_close(net(x_t, t), eps, atol=1e-3, rtol=0)


def test_large_noise_follows_the_network_logits():
    schedule = NoiseSchedule.linear(1000)
    net = denoiser(schedule)
    x_t, t = torch.zeros(2, 64), torch.full((2,), 999)
    uniform = net(x_t, t)  # zero logits: the uniform prior's mean 0, so ε̂ = x_t / √(1-ᾱ) = 0
    torch.testing.assert_close(uniform, torch.zeros(2, 64), atol=1e-4, rtol=0)
    with torch.no_grad():
        net.net.out.bias[-1] = 20.0  # every pixel's prior on the top level (+1)
    ab = schedule.alphas_cumprod[999].item()
    expected = -math.sqrt(ab) / math.sqrt(1 - ab)  # x̂⁰ = 1
    torch.testing.assert_close(net(x_t, t), torch.full((2, 64), expected), atol=1e-3, rtol=0)
    net(torch.randn(2, 64), t).square().sum().backward()
    assert net.net.out.weight.grad.abs().sum() > 0


def test_the_first_steps_of_the_bound_cost_nothing():
    """The first step's KL of K is near 0 for any grid data, untrained (< 0.1 nats per digit):
    on 17 levels a trained ε-network pays ~28 nats (40 bits) per digit there (docs/cli.md)."""
    schedule = NoiseSchedule.linear(1000)
    model = DenoiserDiffusion(denoiser(schedule), schedule, levels=LEVELS)
    x0 = on_grid(32)
    noise_vars, alpha_bar = model._schedule()
    g = torch.Generator().manual_seed(3)
    with torch.no_grad():
        kl = model._kl_at(x0, torch.ones(32, dtype=torch.long), alpha_bar, noise_vars, g)
    assert float(kl.mean()) < 0.1, float(kl.mean())
