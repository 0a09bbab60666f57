"""Training: the :class:`Trainer` (any model, objective and data; schedules, EMA, atomic
checkpoints that resume bit for bit, torch.distributed shards), the fused optimizers
:class:`SGD` and :class:`Adam` (``torch.optim.Optimizer`` subclasses), the EMA of the weights,
learning-rate schedules, checkpoint files and the process-group helpers."""

from . import schedules
from .checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from .ema import EMA
from .optim import SGD, Adam
from .trainer import Trainer, TrainingDiverged

__all__ = ["Adam", "CheckpointError", "EMA", "SGD", "Trainer", "load_checkpoint",
           "save_checkpoint", "schedules", "TrainingDiverged"]
