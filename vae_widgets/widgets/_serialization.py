"""How numpy arrays travel in synced traits: raw little-endian bytes, never JSON lists.

The front end receives a DataView (see js/src/common/buffers.js).
"""
from __future__ import annotations

import numpy as np
import traitlets


def _array_to_json(dtype):
    def to_json(value, _widget):
        if value is None or len(value) == 0:
            return b""
        return memoryview(np.ascontiguousarray(value, dtype=dtype).reshape(-1)).cast("B")
    return to_json


def _array_from_json(dtype):
    def from_json(value, _widget):
        if not value:
            return None
        return np.frombuffer(bytes(value), dtype=dtype)
    return from_json


def array_trait(dtype) -> traitlets.TraitType:
    """A synced trait holding a numpy array that is sent as bytes of ``dtype``."""
    dt = np.dtype(dtype).newbyteorder("<")
    return traitlets.Instance(np.ndarray, allow_none=True).tag(
        sync=True, to_json=_array_to_json(dt), from_json=_array_from_json(dt))


def __getattr__(name):
    if name == "as_uint8_images":       # moved to vae_widgets._images (no widget needs it here)
        import warnings

        from .._images import as_uint8_images
        warnings.warn("vae_widgets.widgets._serialization.as_uint8_images moved to "
                      "vae_widgets._images.as_uint8_images", DeprecationWarning, stacklevel=2)
        return as_uint8_images
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
