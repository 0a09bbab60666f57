"""Samplers: persistent block-Gibbs chains with optional parallel tempering; Langevin (ULA /
MALA) and HMC chains on continuous energies; reverse diffusion (DDPM / DDIM); SVGD particles and
amortized-SVGD generators."""

from .amortized_svgd import AmortizedSVGD
from .continuous import ContinuousSampler
from .diffusion import ReverseDiffusionSampler
from .gibbs import GibbsSampler, tempering_ladder
from .hmc import HMCSampler
from .langevin import LangevinSampler
from .svgd import SVGD

__all__ = ["AmortizedSVGD", "ContinuousSampler", "GibbsSampler", "HMCSampler", "LangevinSampler",
           "ReverseDiffusionSampler", "SVGD",
           "tempering_ladder"]
