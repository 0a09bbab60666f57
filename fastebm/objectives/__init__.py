"""Training objectives. For Gibbs models (RBMs, Boltzmann machines): contrastive divergence,
persistent CD / SML, the deep Boltzmann machine's mean-field PCD, pseudo-likelihood (plain, stochastic, generalised over sets of sites) and
ratio matching. For continuous energy models: maximum likelihood with
Langevin / HMC negatives, exact, sliced and denoising score matching, noise-contrastive
estimation, Stein CD and SteinGAN (SVGD's Stein direction). For diffusion models: DDPM's
denoising objective and Sohl-Dickstein et al.'s bound. For VAEs: the ELBO.

Each objective's ``compute_grads(model, x, generator)`` fills the model parameters' ``.grad``
with the gradient to descend for the batch x and returns a dict of float metrics.
"""

from .base import Objective
from .contrastive import CD, PCD
from .deep_boltzmann import MeanFieldPCD
from .diffusion import DenoisingDiffusion, DiffusionBound
from .elbo import ELBO
from .maximum_likelihood import MaximumLikelihood
from .nce import NCE
from .pseudo_likelihood import (GeneralisedPseudoLikelihood, PseudoLikelihood,
                                log_generalised_pseudo_likelihood, log_pseudo_likelihood,
                                window_sets)
from .ratio_matching import RatioMatching, ratio_matching_loss
from .score_matching import DenoisingScoreMatching, ScoreMatching, SlicedScoreMatching
from .stein import SteinCD, SteinCDGAN, SteinGAN

__all__ = ["CD", "DenoisingDiffusion", "DiffusionBound", "DenoisingScoreMatching", "ELBO",
           "GeneralisedPseudoLikelihood", "MaximumLikelihood", "MeanFieldPCD", "NCE", "Objective", "PCD", "PseudoLikelihood",
           "RatioMatching", "ScoreMatching", "SlicedScoreMatching", "SteinCD", "SteinCDGAN", "SteinGAN",
           "log_generalised_pseudo_likelihood", "log_pseudo_likelihood", "ratio_matching_loss",
           "window_sets"]
