"""Every element-wise op at the shapes users run: [4M] (a flat tensor), [2M, 2] (points, the
Swiss roll's shape) and [4096, 1024] (an image batch), float32 (and bfloat16 on the image batch:
fastebm computes it in float32 between two conversions), all threads, on every CPU ISA path
this machine has, against the same arithmetic in plain PyTorch ops (global RNG, scalar
coefficients as Python floats) and ``torch.compile`` of it, beside the memory-bandwidth floor
(the bytes each op must read and write at the measured copy bandwidth). Step sizes, timesteps
and noise variances are one value for every row, as a sampling loop passes them.
"""

from __future__ import annotations

import math

import torch

import fastebm
from fastebm import ops
from fastebm.models import NoiseSchedule

from bench_diffusion import T_STEP, plain_ddim, plain_ddpm
from common import isa_paths, markdown_table, on_path, side_by_side

CASES = (((1 << 22,), torch.float32), ((1 << 21, 2), torch.float32),
         ((4096, 1024), torch.float32), ((4096, 1024), torch.bfloat16))
STEP, BETA = 0.01, 0.02
T_PREV = T_STEP - 20


def _gaussian_reverse(x, mu, var):
    """Sohl-Dickstein et al. 2015's reverse step at β = BETA."""
    sd = torch.sigmoid(var + math.log(BETA / (1 - BETA))).sqrt()
    return x * math.sqrt(1 - BETA) + mu * math.sqrt(BETA) + sd * torch.randn_like(x)


def _leapfrog(x, p, grad):
    p_new = p - STEP * grad
    return x + STEP * p_new, p_new


#: name -> (fastebm call, plain PyTorch call, bytes read + written per element / element size),
#: each call taking the three [shape] inputs (a, b, c) and ᾱ.
OPS = {
    "bernoulli_sigmoid": (lambda a, b, c, ac: fastebm.bernoulli_sigmoid(a),
                          lambda a, b, c, ac: torch.bernoulli(torch.sigmoid(a)), 2),
    "binomial_diffusion_step": (lambda a, b, c, ac: ops.binomial_diffusion_step(c),
                                lambda a, b, c, ac: torch.bernoulli(c), 2),
    "ddpm_step": (lambda a, b, c, ac: ops.ddpm_step(a, b, T_STEP, ac, clip_sample=1.0),
                  lambda a, b, c, ac: plain_ddpm(a, b, T_STEP, ac, None), 3),
    "ddim_step": (lambda a, b, c, ac: ops.ddim_step(a, b, T_STEP, T_PREV, ac),
                  lambda a, b, c, ac: plain_ddim(a, b, T_STEP, T_PREV, ac), 3),
    "gaussian_diffusion_step": (lambda a, b, c, ac: ops.gaussian_diffusion_step(a, b, c, BETA),
                                lambda a, b, c, ac: _gaussian_reverse(a, b, c), 4),
    "langevin_step": (lambda a, b, c, ac: ops.langevin_step(a, b, STEP),
                      lambda a, b, c, ac: a - STEP * b + math.sqrt(2 * STEP) * torch.randn_like(a),
                      3),
    "leapfrog_step": (lambda a, b, c, ac: ops.leapfrog_step(a, b, c, STEP),
                      lambda a, b, c, ac: _leapfrog(a, b, c), 5),
    "reparameterize (forward)": (lambda a, b, c, ac: ops.reparameterize(a, b),
                                 lambda a, b, c, ac: a + b.exp() * torch.randn_like(a), 4),
}


def run(min_run_time: float = 1.0, copy_gbs: float | None = None) -> str:
    ac = NoiseSchedule.linear(1000).alphas_cumprod.float()
    g = torch.Generator().manual_seed(0)
    paths = isa_paths()
    rows = []
    for name, (fused, plain, elements_moved) in OPS.items():
        compiled = torch.compile(plain, dynamic=False)
        for shape, dtype in CASES:
            a, b = (torch.randn(shape, generator=g).to(dtype) for _ in range(2))
            c = torch.rand(shape, generator=g).to(dtype)
            fns = {isa: on_path(isa, lambda: fused(a, b, c, ac)) for isa in paths}
            fns["torch"] = lambda: plain(a, b, c, ac)
            fns["compile"] = lambda: compiled(a, b, c, ac)
            t = side_by_side(fns, min_run_time, rounds=3)
            best = min(t[isa] for isa in paths)
            floor = (elements_moved * a.element_size() * a.numel() / (copy_gbs * 1e9)
                     if copy_gbs else None)
            rows.append([name, "×".join(str(n) for n in shape), str(dtype)[6:]]
                        + [f"{t[isa] * 1e3:.2f}" for isa in paths]
                        + [f"{t['torch'] * 1e3:.2f}", f"{t['compile'] * 1e3:.2f}"]
                        + [f"**{t['torch'] / t[isa]:.1f}×**" for isa in paths]
                        + [f"{t['compile'] / best:.1f}×",
                           f"{best / floor:.1f}×" if floor else "-"])
    header = (["op", "shape", "dtype"] + [f"fastebm {isa} ms" for isa in paths]
              + ["PyTorch ms", "torch.compile ms"] + [f"{isa} vs PyTorch" for isa in paths]
              + ["best vs compile", "best / bandwidth floor"])
    return ("### Every element-wise op at [4M], [2M, 2] and [4096, 1024] (float32; bfloat16), "
            f"{torch.get_num_threads()} threads\n\n" + markdown_table(header, rows))


if __name__ == "__main__":
    print(run(0.3))
