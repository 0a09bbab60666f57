"""Pure-PyTorch oracles for every fastebm op, drawing the very same Philox bits as the kernels,
one module per kernel family.

Tests compare kernels against these; benchmarks use them as the "plain PyTorch" baseline for
correctness. Nothing here is fast: it is written to be obviously right.
"""

from .diffusion import (binomial_diffusion_step, ddim_step, ddpm_step,
                        gaussian_diffusion_step, predicted_x0)
from .ising import (bm_gibbs, bm_gibbs_torch, bm_uniforms, ising_gibbs, ising_gibbs_torch,
                    ising_probabilities, neighbour_sum)
from .langevin import (gmm_energy_grad, gmm_langevin, hmc_accept, langevin_step, leapfrog_step,
                       mala_accept, mala_log_alpha)
from .philox import normal_from_words, normals, philox4x32, philox_words, uniform_open, uniforms
from .svgd import (median_bandwidth, pair_distance_median, pair_distances, stein_kernel,
                   stein_kernel_matvec, svgd_rbf)
from .vi import reparameterize
from .rbm import (bernoulli_sigmoid, grbm_ais, grbm_cd_grad, grbm_gibbs, rbm_ais, rbm_cd_grad,
                  rbm_gibbs, rbm_gibbs_torch)

__all__ = ["bernoulli_sigmoid", "binomial_diffusion_step", "bm_gibbs", "bm_gibbs_torch",
           "bm_uniforms", "ising_gibbs", "ising_gibbs_torch", "ising_probabilities",
           "neighbour_sum", "ddim_step", "ddpm_step",
           "gaussian_diffusion_step", "predicted_x0", "gmm_energy_grad", "gmm_langevin", "grbm_ais", "grbm_cd_grad", "grbm_gibbs", "hmc_accept", "langevin_step", "leapfrog_step",
           "mala_accept", "mala_log_alpha", "normal_from_words", "normals", "philox4x32",
           "philox_words", "rbm_ais", "rbm_cd_grad", "rbm_gibbs", "rbm_gibbs_torch",
           "median_bandwidth", "pair_distance_median", "pair_distances", "reparameterize",
           "stein_kernel", "stein_kernel_matvec", "svgd_rbf", "uniform_open", "uniforms"]
