"""Moved: the stand-in of a remote t-SNE job is vae_widgets.bridge.remote_tsne, its constructor vae_widgets.widgets.listen. The old names import from here for one release, with a
DeprecationWarning."""
import importlib
import warnings

_MOVED = {'RemoteTSNE': 'vae_widgets.bridge.remote_tsne', 'listen_tsne': 'vae_widgets.widgets.listen'}


def __getattr__(name):
    if name in _MOVED:
        module = _MOVED[name]
        warnings.warn(f"vae_widgets.widgets.remote_tsne.{name} moved to {module}.{name}",
                      DeprecationWarning, stacklevel=2)
        return getattr(importlib.import_module(module), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
