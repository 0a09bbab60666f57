"""Samplers: persistent block-Gibbs chains with optional parallel tempering."""

from .gibbs import GibbsSampler

__all__ = ["GibbsSampler"]
