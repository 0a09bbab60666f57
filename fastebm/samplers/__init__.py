"""Samplers: persistent block-Gibbs chains with optional parallel tempering; Langevin (ULA /
MALA) chains on continuous energies."""

from .gibbs import GibbsSampler, tempering_ladder
from .langevin import LangevinSampler

__all__ = ["GibbsSampler", "LangevinSampler", "tempering_ladder"]
