"""Samplers: persistent block-Gibbs chains with optional parallel tempering."""

from .gibbs import GibbsSampler, tempering_ladder

__all__ = ["GibbsSampler", "tempering_ladder"]
