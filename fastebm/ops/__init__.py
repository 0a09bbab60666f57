"""Typed wrappers over ``torch.ops.fastebm.*``, one module per kernel family.

Every stochastic op draws one 64-bit seed from ``generator`` (torch's default CPU generator when
None; a CUDA generator without a device sync) and keys the kernel's Philox4x32-10 by (seed,
element index, draw offset), so results do not depend on thread count, CPU ISA path or device.
Fake (meta) kernels check shapes, dtypes and devices as the real ones do, so ``torch.compile``
traces fail where the calls would.
"""

from .. import _C  # noqa: F401  (registers the ops)
from .seeds import SeedStream, draw_seed, draw_seeds
from .diffusion import (binomial_diffusion_step, ddim_step, ddpm_step,
                        gaussian_diffusion_step)
from .ising import bm_gibbs, ising_gibbs
from .langevin import (ChainRun, MetropolisResult, PhasePoint, gmm_langevin, hmc_accept,
                       langevin_step, leapfrog_step, mala_accept)
from .philox import philox4x32
from .svgd import (STEIN_KERNELS, SteinDirection, pair_distance_median, stein_kernel_matvec,
                   svgd_rbf)
from .vi import reparameterize
from .rbm import (AISRun, CDGrad, GaussianCDGrad, GibbsState, bernoulli_sigmoid, grbm_ais, grbm_cd_grad, grbm_gibbs, rbm_ais, rbm_cd_grad,
                  rbm_gibbs, rbm_pcd_sgd_)
from .half import register_float32_autocast

#: The ops that take float16 / bfloat16 (in float32 inside) and run in float32 under autocast:
#: every op but the in-place training updates and the integer Philox op.
HALF_PRECISION_OPS = ("bernoulli_sigmoid", "rbm_gibbs", "grbm_gibbs", "rbm_cd_grad",
                      "grbm_cd_grad", "rbm_ais", "grbm_ais", "langevin_step", "mala_accept",
                      "leapfrog_step", "hmc_accept", "gmm_langevin", "ddpm_step", "ddim_step",
                      "gaussian_diffusion_step", "binomial_diffusion_step", "svgd_rbf",
                      "pair_distance_median", "stein_kernel_matvec", "bm_gibbs", "ising_gibbs",
                      "reparameterize")
register_float32_autocast(*HALF_PRECISION_OPS)

__all__ = ["AISRun", "CDGrad", "ChainRun", "GaussianCDGrad", "GibbsState", "MetropolisResult",
           "PhasePoint", "SeedStream", "SteinDirection", "bernoulli_sigmoid", "binomial_diffusion_step",
           "bm_gibbs", "ddim_step", "ddpm_step", "draw_seed", "draw_seeds",
           "gaussian_diffusion_step", "gmm_langevin", "grbm_ais", "grbm_cd_grad", "grbm_gibbs",
           "hmc_accept", "ising_gibbs", "langevin_step", "leapfrog_step", "mala_accept",
           "pair_distance_median", "philox4x32", "rbm_ais", "rbm_cd_grad", "rbm_gibbs", "rbm_pcd_sgd_",
           "reparameterize", "STEIN_KERNELS", "stein_kernel_matvec", "svgd_rbf"]
