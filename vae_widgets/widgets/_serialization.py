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


def as_uint8_images(X: np.ndarray, image_shape: tuple, lo: float | None = None,
                    hi: float | None = None) -> np.ndarray:
    """Rows of ``X`` as uint8 pixels (0-255), scaled by the data's own range (or lo..hi)."""
    lo = float(X.min()) if lo is None else lo
    hi = float(X.max()) if hi is None else hi
    scale = 255.0 / (hi - lo) if hi > lo else 0.0
    return np.clip((X - lo) * scale + 0.5, 0, 255).astype(np.uint8).reshape(len(X), *image_shape)
