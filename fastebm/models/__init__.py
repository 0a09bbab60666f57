"""Energy-based models: RBMs (Bernoulli and Gaussian visible units)."""

from .rbm import BernoulliRBM, GaussianBernoulliRBM

__all__ = ["BernoulliRBM", "GaussianBernoulliRBM"]
