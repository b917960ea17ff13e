"""How numpy arrays travel in synced traits: raw little-endian bytes, never JSON lists.

The front end receives a DataView (see js/src/common/buffers.js).
"""
from __future__ import annotations

import numpy as np
import traitlets

from .._validation import moved_names


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


# moved to vae_widgets._images (no widget needs it here)
__getattr__ = moved_names(__name__, {"as_uint8_images": "vae_widgets._images"})
