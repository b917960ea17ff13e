"""Pixels for the export: per-point PNG thumbnails (data URIs) and image grids as RGBA."""
from __future__ import annotations

import base64
import io

import numpy as np


def _hwc(img: np.ndarray) -> np.ndarray:
    """(H, W) or (C, H, W) uint8 -> (H, W) grey or (H, W, 3|4) colour for PIL."""
    if img.ndim == 2:
        return img
    c = img.shape[0]
    if c in (3, 4):
        return np.moveaxis(img, 0, -1)
    return img[0]                       # other channel counts: the first channel, as the widget does


def png_data_uri(img: np.ndarray) -> str:
    """A uint8 image ((H, W) or (C, H, W)) as a ``data:image/png;base64,...`` URI."""
    from PIL import Image   # pillow ships with bokeh

    buf = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(_hwc(np.asarray(img, dtype=np.uint8)))).save(
        buf, format="PNG", optimize=True)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def thumbnail_uris(images: np.ndarray, limit: int, seed: int = 0) -> tuple[list[str], int]:
    """Data URIs for at most ``limit`` of ``images`` ((n, H, W) or (n, C, H, W) uint8).

    Returns ``(uris, count)``: one string per image (``""`` for those left out, chosen
    evenly at random with a fixed seed so the file stays bounded for big ``n``).
    """
    n = len(images)
    keep = np.arange(n) if n <= limit else np.sort(
        np.random.default_rng(seed).choice(n, size=limit, replace=False))
    uris = [""] * n
    for i in keep:
        uris[int(i)] = png_data_uri(images[i])
    return uris, len(keep)


def grid_rgba(array: np.ndarray, gap: int = 1, background: int = 0xFFFFFFFF,
              min_cell_height: int = 1) -> np.ndarray:
    """A ``(rows, cols, C, H, W)`` uint8 grid as one uint32 RGBA image (Bokeh ``image_rgba``).

    Cells are separated by ``gap`` background pixels. Feature strips (``H == 1``)
    are repeated to ``min_cell_height`` rows so they stay visible. The result is
    flipped vertically: Bokeh's y axis points up.
    """
    a = np.asarray(array, dtype=np.uint8)
    if a.ndim != 5:
        raise ValueError(f"array: expected a (rows, cols, C, H, W) grid, got shape {a.shape}.")
    rows, cols, c, h, w = a.shape
    if h < min_cell_height:
        a = np.repeat(a, int(np.ceil(min_cell_height / h)), axis=3)
        h = a.shape[3]
    if c in (3, 4):
        rgb = np.moveaxis(a[:, :, :3], 2, -1)
    else:
        rgb = np.repeat(a[:, :, 0, :, :, None], 3, axis=-1)
    H, W = rows * h + (rows - 1) * gap, cols * w + (cols - 1) * gap
    out = np.empty((H, W), dtype=np.uint32)
    out[:] = background
    view = out.view(np.uint8).reshape(H, W, 4)
    for r in range(rows):
        for k in range(cols):
            y, x = r * (h + gap), k * (w + gap)
            view[y:y + h, x:x + w, :3] = rgb[r, k]
            view[y:y + h, x:x + w, 3] = 255
    return out[::-1].copy()
