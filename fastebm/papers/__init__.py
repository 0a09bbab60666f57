"""Reproductions of the papers' published numbers (docs/papers.md), one command each:
``fastebm reproduce <row>``. A row runs the paper's experiment in its setting (or says how it
differs), writes its figure and metrics.json, and reports its numbers beside the published ones."""

from .base import Reproduction
from .consistency import ROW as CONSISTENCY
from .svgd_liu_wang import LOGREG, MIXTURE

REPRODUCTIONS: dict[str, Reproduction] = {row.name: row for row in (MIXTURE, LOGREG, CONSISTENCY)}

__all__ = ["REPRODUCTIONS", "Reproduction"]
