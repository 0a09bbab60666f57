"""The VAE family side by side in one process, on every CPU ISA path:

1. The reparameterised draw z = μ + exp(log σ) ⊙ ε, forward and backward, on 4M float32
   elements: ``ops.reparameterize`` against the plain PyTorch expression with ``torch.randn``,
   beside the memory-bandwidth floor (28 bytes per element: μ, log σ in, z, σ ⊙ ε out; the
   gradient and σ ⊙ ε in, the log σ gradient out; μ's gradient is the incoming one).
2. One training epoch of a VAE (64-256-8, batches of 100) on the binarised digits: fastebm's VAE,
   ELBO and Trainer (fused Adam) against the same MLPs trained by a plain PyTorch loop
   (``torch.randn`` reparameterisation, ``torch.optim.Adam``), eager and with its loss under
   ``torch.compile``.
3. One Adam step on that VAE's 171k parameters: fastebm's single-pass kernel against
   torch.optim.Adam (its CPU default, one tensor at a time) and its ``fused=True`` form.
"""

from __future__ import annotations

import torch
from torch import nn

from fastebm import data as datasets
from fastebm import ops
from fastebm.models import VAE
from fastebm.objectives import ELBO
from fastebm.training.optim import Adam
from fastebm.training.trainer import Trainer

from common import alternating, isa_paths, markdown_table, on_path, side_by_side

N_ELEMENTS = 4 * 1024 * 1024


def draw_table(copy_gbs: float, min_run_time: float) -> str:
    g = torch.Generator().manual_seed(0)
    mu = torch.randn(N_ELEMENTS, generator=g).requires_grad_()
    log_sigma = (0.1 * torch.randn(N_ELEMENTS, generator=g)).requires_grad_()
    grad_z = torch.randn(N_ELEMENTS, generator=g)

    def fused():
        ops.reparameterize(mu, log_sigma, generator=g).backward(grad_z)

    def plain():
        (mu + log_sigma.exp() * torch.randn(N_ELEMENTS, generator=g)).backward(grad_z)

    fns = {isa: on_path(isa, fused) for isa in isa_paths()}
    fns["torch"] = plain
    t = side_by_side(fns, min_run_time)
    floor = 28 * N_ELEMENTS / (copy_gbs * 1e9)
    rows = [[isa, f"{t[isa] * 1e3:.1f}", f"{t['torch'] * 1e3:.1f}", f"**{t['torch'] / t[isa]:.2f}×**",
             f"{floor * 1e3:.1f}", f"{t[isa] / floor:.2f}×"] for isa in isa_paths()]
    header = ["ISA path", "fastebm fwd+bwd ms", "PyTorch fwd+bwd ms", "fastebm vs PyTorch",
              "bandwidth floor ms", "fastebm / floor"]
    return "### reparameterize, 4M float32 elements, forward + backward\n\n" + markdown_table(header, rows)


class PlainVAE(nn.Module):
    """The same MLPs as fastebm's default VAE, its ELBO in plain PyTorch."""

    def __init__(self, source: VAE):
        super().__init__()
        self.encoder, self.decoder, self.D = source.encoder, source.decoder, source.n_latent

    def loss(self, x: torch.Tensor) -> torch.Tensor:
        out = self.encoder(x)
        mu, log_sigma = out[:, :self.D], out[:, self.D:]
        z = mu + log_sigma.exp() * torch.randn_like(mu)
        fit = -nn.functional.binary_cross_entropy_with_logits(self.decoder(z), x, reduction="none").sum(1)
        kl = (0.5 * (mu.square() + (2 * log_sigma).exp()) - log_sigma - 0.5).sum(1)
        return -(fit - kl).mean()


def epoch_table(min_run_time: float) -> str:
    train = datasets.digits().train
    torch.manual_seed(0)
    fused_model = VAE(64, 8, 256)
    trainer = Trainer(fused_model, ELBO(), train, lr=1e-3, batch_size=100, progress=False)
    torch.manual_seed(0)
    plain_model = PlainVAE(VAE(64, 8, 256))
    optimizer = torch.optim.Adam(plain_model.parameters(), lr=1e-3)

    compiled_loss = torch.compile(plain_model.loss)

    def plain_epoch(loss):
        for batch in train[torch.randperm(len(train))].split(100):
            optimizer.zero_grad()
            loss(batch).backward()
            optimizer.step()

    fns = {isa: on_path(isa, lambda: trainer.fit(trainer.epoch + 1)) for isa in isa_paths()}
    fns["torch"] = lambda: plain_epoch(plain_model.loss)
    fns["compile"] = lambda: plain_epoch(compiled_loss)
    t = alternating(fns, rounds=max(10, int(40 * min_run_time)))
    rows = [[isa, f"{t[isa] * 1e3:.1f}", f"{t['torch'] * 1e3:.1f}", f"{t['compile'] * 1e3:.1f}",
             f"**{t['torch'] / t[isa]:.2f}×**", f"**{t['compile'] / t[isa]:.2f}×**"]
            for isa in isa_paths()]
    header = ["ISA path", "fastebm epoch ms", "PyTorch epoch ms", "compiled loss epoch ms",
              "fastebm vs PyTorch", "fastebm vs compiled"]
    return ("### one VAE epoch on the digits (1,438 images, batches of 100, 64-256-8)\n\n"
            + markdown_table(header, rows))


def adam_table(min_run_time: float) -> str:
    params = list(VAE(64, 8, 256).parameters())
    g = torch.Generator().manual_seed(0)

    def with_grads(copies):
        for p, q in zip(params, copies):
            q.grad = 1e-3 * torch.randn(p.shape, generator=g)
        return copies

    def clone():
        return [torch.nn.Parameter(p.detach().clone()) for p in params]

    ours = with_grads(clone())
    fused_params, single_params = with_grads(clone()), with_grads(clone())
    optimizers = {"ours": Adam(ours, lr=1e-3),
                  "torch": torch.optim.Adam(single_params, lr=1e-3),
                  "fused": torch.optim.Adam(fused_params, lr=1e-3, fused=True)}
    fns = {isa: on_path(isa, optimizers["ours"].step) for isa in isa_paths()}
    fns["torch"], fns["fused"] = optimizers["torch"].step, optimizers["fused"].step
    t = side_by_side(fns, min_run_time)
    n = sum(p.numel() for p in params)
    rows = [[isa, f"{t[isa] * 1e6:.0f}", f"{t['torch'] * 1e6:.0f}", f"{t['fused'] * 1e6:.0f}",
             f"**{t['torch'] / t[isa]:.2f}×**", f"**{t['fused'] / t[isa]:.2f}×**"]
            for isa in isa_paths()]
    header = ["ISA path", "fastebm Adam µs", "torch.optim.Adam µs", "Adam(fused=True) µs",
              "fastebm vs torch", "fastebm vs fused"]
    return (f"### one Adam step on the VAE's {n:,} parameters (12 tensors)\n\n"
            + markdown_table(header, rows))


def run(min_run_time: float = 1.0, copy_gbs: float = 15.0) -> str:
    """The epoch table first: after the 4M-element draws, the process's allocator serves the
    epoch's buffers ~1.6x slower for every contender (a state a training process is not in)."""
    epochs = epoch_table(min_run_time)
    return "\n\n".join([draw_table(copy_gbs, min_run_time), epochs, adam_table(min_run_time)])


if __name__ == "__main__":
    from common import machine_floor, machine_line

    floor = machine_floor()
    print(machine_line(floor) + "\n")
    print(run(copy_gbs=floor["copy_gbs"]))
