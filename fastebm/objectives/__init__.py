"""Training objectives: contrastive divergence, persistent CD / SML, pseudo-likelihood.

Each objective's ``compute_grads(model, v, generator)`` fills the model parameters' ``.grad``
with the gradient to descend for the batch v [B, V] and returns a dict of float metrics.
"""

from .contrastive import CD, PCD
from .pseudo_likelihood import PseudoLikelihood, log_pseudo_likelihood

__all__ = ["CD", "PCD", "PseudoLikelihood", "log_pseudo_likelihood"]
