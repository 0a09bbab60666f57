"""Energy-based models: RBMs (Bernoulli and Gaussian visible units) and energy models over
continuous x (any network, a Gaussian, a Gaussian mixture); diffusion models' noise schedule
and denoisers; Sohl-Dickstein et al. 2015's Gaussian and binomial diffusion."""

from .binomial_diffusion import BinomialDiffusion
from .diffusion import MLPDenoiser, NoiseSchedule, timestep_embedding
from .energy import (EnergyFunction, EnergyModel, GaussianEnergy, GaussianMixtureEnergy,
                     energy_and_grad)
from .gaussian_diffusion import DenoiserDiffusion, GaussianDiffusion
from .rbm import BernoulliRBM, GaussianBernoulliRBM

__all__ = ["BernoulliRBM", "BinomialDiffusion", "DenoiserDiffusion", "EnergyFunction", "EnergyModel", "GaussianBernoulliRBM",
           "GaussianDiffusion", "GaussianEnergy", "GaussianMixtureEnergy", "MLPDenoiser", "NoiseSchedule", "energy_and_grad",
           "timestep_embedding"]
