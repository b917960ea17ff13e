"""Rows of data as uint8 pixels: the one conversion every image view and export uses."""
from __future__ import annotations

import numpy as np


def as_uint8_images(X: np.ndarray, image_shape: tuple, lo: float | None = None,
                    hi: float | None = None) -> np.ndarray:
    """Rows of ``X`` as uint8 pixels (0-255), scaled by the data's own range (or lo..hi)."""
    lo = float(X.min()) if lo is None else lo
    hi = float(X.max()) if hi is None else hi
    scale = 255.0 / (hi - lo) if hi > lo else 0.0
    return np.clip((X - lo) * scale + 0.5, 0, 255).astype(np.uint8).reshape(len(X), *image_shape)
