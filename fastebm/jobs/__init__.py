"""The CLI's jobs, one module per family: ``fastebm train <job>``. A new family adds its module
and one entry here."""

from .base import Job
from .dbm import JOB as DBM
from .diffusion import JOB as DIFFUSION
from .ebm import JOB as EBM
from .ising import JOB as ISING
from .rbm import JOB as RBM
from .svgd import JOB as SVGD
from .vae import JOB as VAE

JOBS: dict[str, Job] = {job.name: job for job in (RBM, DBM, EBM, DIFFUSION, SVGD, ISING, VAE)}

__all__ = ["JOBS", "Job"]
