"""The U-Net denoiser: flat rows in and out (channel-major), zero output at initialisation,
every weight trained by the loss, the step embedding heard, and shapes it cannot halve refused."""

import pytest
import torch

from fastebm.models import UNetDenoiser


def test_flat_rows_in_and_channel_major_rows_out():
    torch.manual_seed(0)
    net = UNetDenoiser((8, 12), 50, channels=8, out_channels=2)
    x, t = torch.randn(5, 96), torch.randint(0, 50, (5,))
    assert net.event_shape == (96,)
    assert torch.equal(net(x, t), torch.zeros(5, 192))  # the output layer starts at zero
    torch.nn.init.normal_(net.out.weight)
    out = net(x, t)
    assert out.shape == (5, 192)
    by_image = torch.stack([net(x[i:i + 1], t[i:i + 1])[0] for i in range(5)])
    torch.testing.assert_close(out, by_image, atol=1e-4, rtol=1e-4)  # rows independent (GroupNorm)


def test_every_weight_learns_and_the_step_matters():
    torch.manual_seed(0)
    net = UNetDenoiser((8, 8), 100, channels=8)
    torch.nn.init.normal_(net.out.weight, std=0.1)
    x = torch.randn(4, 64)
    first, last = net(x, torch.zeros(4, dtype=torch.long)), net(x, torch.full((4,), 99))
    assert (first - last).abs().max() > 1e-3
    net(x, torch.randint(0, 100, (4,))).square().mean().backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in net.parameters())


@pytest.mark.parametrize("shape", [(8, 6), (10, 8), (0, 8)])
def test_shapes_it_cannot_halve_twice_are_refused(shape):
    with pytest.raises(ValueError, match="shape"):
        UNetDenoiser(shape, 10)
