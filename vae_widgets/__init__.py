"""vae_widgets: watch a variational autoencoder train and t-SNE optimise, live, in Jupyter."""
from importlib import import_module

__version__ = "0.1.0"
__all__ = ["AnomalyWidget", "TSNEWidget", "TSNESweepWidget", "VAEWidget", "TSNERunner", "VAETrainer", "datasets", "running", "stop_all", "__version__"]

from . import datasets  # noqa: E402  (light: numpy + sklearn only)
from ._runs import Run, running, stop_all  # noqa: E402,F401  (the runs going on; no imports)

# Widgets and engines import torch/openTSNE/anywidget; load them on first use so
# `import vae_widgets` stays quick and a missing optional piece fails where it is used.
_LAZY = {
    "TSNEWidget": "vae_widgets.widgets.tsne_widget",
    "TSNESweepWidget": "vae_widgets.widgets.sweep_widget",
    "VAEWidget": "vae_widgets.widgets.vae_widget",
    "AnomalyWidget": "vae_widgets.widgets.anomaly_widget",
    "TSNERunner": "vae_widgets.tsne.runner",
    "VAETrainer": "vae_widgets.vae.trainer",
}


def __getattr__(name):
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'vae_widgets' has no attribute {name!r}")


def load_ipython_extension(ipython):
    """``%load_ext vae_widgets``: register the ``%tsne`` and ``%vae`` line magics."""
    from .magics import load_ipython_extension as load

    load(ipython)
