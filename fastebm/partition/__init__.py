"""Partition functions and log-likelihoods: exact enumeration, AIS, reverse AIS, bridge sampling."""

from ..models.rbm import base_rate_biases
from .ais import LogZ, ais, reverse_ais, sm_betas
from .bridge import bridge_sampling
from .exact import exact_log_z, log_likelihood

__all__ = ["LogZ", "ais", "base_rate_biases", "bridge_sampling", "exact_log_z", "log_likelihood",
           "reverse_ais", "sm_betas"]
