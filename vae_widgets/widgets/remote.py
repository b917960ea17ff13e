"""Moved: the stand-in of a remote VAE job is vae_widgets.bridge.remote_vae, the constructors vae_widgets.widgets.listen. The old names import from here for one release, with a
DeprecationWarning."""
import importlib
import warnings

_MOVED = {'RemoteVAE': 'vae_widgets.bridge.remote_vae', 'MonitorRecord': 'vae_widgets.bridge.remote_vae', 'RemoteSource': 'vae_widgets.bridge.remote_vae', 'record': 'vae_widgets.bridge.remote_vae', 'listen_vae': 'vae_widgets.widgets.listen', 'lightning_callback': 'vae_widgets.widgets.listen'}


def __getattr__(name):
    if name in _MOVED:
        module = _MOVED[name]
        warnings.warn(f"vae_widgets.widgets.remote.{name} moved to {module}.{name}",
                      DeprecationWarning, stacklevel=2)
        return getattr(importlib.import_module(module), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
