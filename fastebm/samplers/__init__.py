"""Samplers: persistent block-Gibbs chains with optional parallel tempering; Langevin (ULA /
MALA) and HMC chains on continuous energies."""

from .continuous import ContinuousSampler
from .gibbs import GibbsSampler, tempering_ladder
from .hmc import HMCSampler
from .langevin import LangevinSampler

__all__ = ["ContinuousSampler", "GibbsSampler", "HMCSampler", "LangevinSampler",
           "tempering_ladder"]
