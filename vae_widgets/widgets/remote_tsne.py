"""Moved: the stand-in of a remote t-SNE job is :mod:`vae_widgets.bridge.remote_tsne`, its
constructor :mod:`vae_widgets.widgets.listen`. The old names import from here for one
release, with a DeprecationWarning."""
from .._validation import moved_names

__getattr__ = moved_names(__name__, {'RemoteTSNE': 'vae_widgets.bridge.remote_tsne', 'listen_tsne': 'vae_widgets.widgets.listen'})
