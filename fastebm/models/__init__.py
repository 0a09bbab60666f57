"""Energy-based models: RBMs (Bernoulli and Gaussian visible units), the fully visible
Boltzmann machine and the 2-D Ising model, and energy models over
continuous x (any network, a Gaussian, a Gaussian mixture); diffusion models' noise schedule
and denoisers; Sohl-Dickstein et al. 2015's Gaussian and binomial diffusion; the VAE."""

from .binomial_diffusion import BinomialDiffusion
from .boltzmann import BoltzmannMachine
from .dbm import DBM
from .diffusion import MLPDenoiser, NoiseSchedule, timestep_embedding
from .level_denoiser import LevelPosteriorDenoiser
from .unet import UNetDenoiser
from .energy import (EnergyFunction, EnergyModel, GaussianEnergy, GaussianMixtureEnergy,
                     energy_and_grad)
from .gaussian_diffusion import DenoiserDiffusion, GaussianDiffusion
from .ising import BETA_CRITICAL, Ising2D, onsager_energy, onsager_magnetisation
from .rbm import BernoulliRBM, GaussianBernoulliRBM
from .vae import VAE

__all__ = ["BETA_CRITICAL", "BernoulliRBM", "BinomialDiffusion", "BoltzmannMachine", "DBM", "DenoiserDiffusion", "EnergyFunction", "EnergyModel", "GaussianBernoulliRBM",
           "GaussianDiffusion", "GaussianEnergy", "GaussianMixtureEnergy", "Ising2D", "LevelPosteriorDenoiser", "MLPDenoiser", "UNetDenoiser", "NoiseSchedule", "energy_and_grad", "onsager_energy", "onsager_magnetisation",
           "timestep_embedding", "VAE"]
