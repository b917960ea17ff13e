"""Small data sets that need no network: bundled with scikit-learn or generated."""
from __future__ import annotations

import numpy as np


def digits(return_images: bool = False):
    """scikit-learn's bundled 8x8 handwritten digits (1,797 samples).

    Returns ``(X, y)``: ``X`` float32 of shape (1797, 64) scaled to [0, 1],
    ``y`` int labels 0-9. With ``return_images=True`` X has shape (1797, 8, 8).
    """
    from sklearn.datasets import load_digits

    d = load_digits()
    X = (d.data / 16.0).astype(np.float32)
    if return_images:
        X = X.reshape(-1, 8, 8)
    return X, d.target.astype(np.int64)


def blobs(n: int = 2000, dims: int = 50, clusters: int = 10, spread: float = 1.0,
          seed: int = 0):
    """A Gaussian mixture for t-SNE teaching: ``clusters`` unit-variance blobs in
    ``dims`` dimensions whose centres lie ``6 * spread`` apart on average.

    Returns ``(X, y)``: float32 (n, dims) and int cluster labels.
    """
    if n < clusters:
        raise ValueError(f"n={n} must be at least clusters={clusters}.")
    rng = np.random.default_rng(seed)
    centres = rng.normal(scale=6.0 * spread / np.sqrt(2.0), size=(clusters, dims))
    y = np.arange(n) % clusters
    rng.shuffle(y)
    X = centres[y] + rng.normal(size=(n, dims))
    return X.astype(np.float32), y.astype(np.int64)
