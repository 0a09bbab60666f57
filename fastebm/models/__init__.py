"""Energy-based models: RBMs (Bernoulli and Gaussian visible units) and energy models over
continuous x (any network, a Gaussian, a Gaussian mixture)."""

from .energy import (EnergyFunction, EnergyModel, GaussianEnergy, GaussianMixtureEnergy,
                     energy_and_grad)
from .rbm import BernoulliRBM, GaussianBernoulliRBM

__all__ = ["BernoulliRBM", "EnergyFunction", "EnergyModel", "GaussianBernoulliRBM",
           "GaussianEnergy", "GaussianMixtureEnergy", "energy_and_grad"]
