"""Moved: the stand-in of a remote VAE job is :mod:`vae_widgets.bridge.remote_vae`, the
widgets' constructors :mod:`vae_widgets.widgets.listen`. The old names import from here for
one release, with a DeprecationWarning."""
from .._validation import moved_names

__getattr__ = moved_names(__name__, {'RemoteVAE': 'vae_widgets.bridge.remote_vae', 'MonitorRecord': 'vae_widgets.bridge.remote_vae', 'RemoteSource': 'vae_widgets.bridge.remote_vae', 'record': 'vae_widgets.bridge.remote_vae', 'listen_vae': 'vae_widgets.widgets.listen', 'lightning_callback': 'vae_widgets.widgets.listen'})
