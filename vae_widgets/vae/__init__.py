"""The VAE engine: plain Python, no Jupyter.

``VAETrainer`` trains a VAE on in-memory data and publishes events (metrics rows,
epoch rows, image grids, alerts, status) on ``trainer.events``; ``VAEConfig``
holds every setting and its default.
"""
from .config import LIVE_PARAMS, VAEConfig
from .checkpoint import UnsafeCheckpointError
from .trainer import EPOCH_COLUMNS, METRIC_COLUMNS, VAETrainer

__all__ = ["VAETrainer", "VAEConfig", "UnsafeCheckpointError", "LIVE_PARAMS",
           "METRIC_COLUMNS", "EPOCH_COLUMNS"]
