"""Image grids of what the model does, as uint8 arrays ready to ship to a view.

Every grid function returns ``(array, labels)``:

* ``array``: ``uint8`` of shape ``(rows, cols, C, H, W)`` — one cell per
  image. Image data keep their ``(C, H, W)``; tabular data become a *feature
  heatmap*: each cell is ``(1, 1, n_features)``, one pixel per feature.
* ``labels``: a JSON-friendly dict::

      {"kind": "reconstructions" | "samples" | "traversal" | "interpolation",
       "rows": [str, ...], "cols": [str, ...],      # one caption per row / column
       "layout": "image" | "features",
       "value_range": [lo, hi],                      # data values drawn as 0 and 255
       "scale": "linear" | "zscore",                 # zscore: per-feature (x - mean) / std
       "feature_names": [...] | None, ...kind-specific extras}

Pixel mapping: Bernoulli data ``[0, 1] -> [0, 255]``; Gaussian images: the
training data's ``[min, max] -> [0, 255]``; tabular Gaussian data: per-feature
z-scores clipped to ``[-3, 3] -> [0, 255]`` (128 = the feature's mean).

The functions only use the trainer's public data-space methods (``encode``,
``decode``, ``reconstruct``) plus ``trainer.data`` / ``trainer.labels``, so
they work on a loaded checkpoint the same way.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Optional, Sequence

import numpy as np

KINDS = ("reconstructions", "samples", "traversal", "interpolation")


@dataclass
class Display:
    """How data-space values become pixels."""

    cell_shape: tuple                # (C, H, W)
    layout: str                      # "image" | "features"
    scale: str                       # "linear" | "zscore"
    lo: float = 0.0
    hi: float = 1.0
    mean: Optional[np.ndarray] = None
    std: Optional[np.ndarray] = None
    feature_names: Optional[list] = None
    extra: dict = field(default_factory=dict)

    @classmethod
    def for_data(cls, X: np.ndarray, image_shape, bernoulli: bool,
                 feature_names: Optional[Sequence[str]] = None, range_=None,
                 stats=None) -> "Display":
        """``range_`` ``(min, max)`` and ``stats`` ``(mean, std)`` per feature of ``X``, when
        the caller has them (big data: no second pass)."""
        n_features = X.shape[1]
        if image_shape is not None:
            cell = tuple(image_shape) if len(image_shape) == 3 else (1, *image_shape)
            if bernoulli:
                return cls(cell, "image", "linear", 0.0, 1.0)
            lo, hi = range_ if range_ is not None else (float(X.min()), float(X.max()))
            return cls(cell, "image", "linear", lo, hi if hi > lo else lo + 1.0)
        names = [str(c) for c in feature_names] if feature_names is not None else None
        if bernoulli:
            return cls((1, 1, n_features), "features", "linear", 0.0, 1.0, feature_names=names)
        mean, std = stats if stats is not None else (X.mean(0), X.std(0))
        std = np.where(std > 0, std, 1.0)
        return cls((1, 1, n_features), "features", "zscore", -3.0, 3.0, mean, std,
                   feature_names=names)

    def to_uint8(self, values: np.ndarray, rows: int, cols: int) -> np.ndarray:
        """Data-space values (rows*cols cells, any trailing shape) -> (rows, cols, C, H, W) uint8."""
        v = np.asarray(values, dtype=np.float64).reshape(rows * cols, -1)
        if self.scale == "zscore":
            v = (v - self.mean) / self.std
        v = (v - self.lo) / (self.hi - self.lo)
        v = np.clip(np.rint(v * 255.0), 0, 255).astype(np.uint8)
        return v.reshape(rows, cols, *self.cell_shape)

    def labels(self, kind: str, rows: Sequence[str], cols: Sequence[str], **extra) -> dict:
        return {"kind": kind, "rows": [str(r) for r in rows], "cols": [str(c) for c in cols],
                "layout": self.layout, "value_range": [float(self.lo), float(self.hi)],
                "scale": self.scale, "feature_names": self.feature_names, **extra}


def _cond(trainer, idx):
    return trainer.labels[idx] if trainer.conditional else None


def reconstructions(trainer, indices: Sequence[int]):
    """Row 0: original data rows ``indices``; row 1: their reconstructions (posterior means)."""
    idx = np.asarray(indices, dtype=np.int64)
    orig = trainer.data[idx]
    rec = trainer.reconstruct(orig, labels=_cond(trainer, idx))
    cells = np.concatenate([orig.reshape(len(idx), -1), rec.reshape(len(idx), -1)])
    arr = trainer.display.to_uint8(cells, 2, len(idx))
    return arr, trainer.display.labels("reconstructions", ["original", "reconstruction"],
                                       [f"#{i}" for i in idx], indices=idx.tolist())


def samples(trainer, n: int, temperature: float = 1.0, cols: int = 8, seed: int = 0):
    """``n`` decodings of ``z ~ N(0, temperature^2 I)`` (fixed noise for a given ``seed``,
    so successive grids show the same codes as the model learns)."""
    cols = min(cols, n)
    rows = math.ceil(n / cols)
    total = rows * cols
    labels = None
    if trainer.conditional:
        labels = np.asarray([trainer.classes[i % len(trainer.classes)] for i in range(total)],
                            dtype=object)
    x = trainer.sample(total, temperature=temperature, labels=labels, seed=seed)
    arr = trainer.display.to_uint8(x.reshape(total, -1), rows, cols)
    extra = {"temperature": float(temperature)}
    if labels is not None:
        extra["cell_labels"] = [str(v) for v in labels]
    return arr, trainer.display.labels("samples", [f"{r}" for r in range(rows)],
                                       [f"{c}" for c in range(cols)], **extra)


def traversal(trainer, base: int, kl_per_dim: Optional[Sequence[float]] = None,
              steps: int = 9, span: float = 3.0, max_dims: int = 10):
    """Rows: latent dimensions sorted by KL (largest first, at most ``max_dims``);
    columns: ``z_d = base_d + v`` for ``v`` evenly from ``-span`` to ``+span`` prior
    standard deviations, all other coordinates at the posterior mean of data row ``base``."""
    d = trainer.latent_dim
    kl = np.zeros(d) if kl_per_dim is None else np.asarray(kl_per_dim, dtype=np.float64)
    order = np.argsort(-kl, kind="stable")[:max_dims]
    values = np.linspace(-span, span, steps)
    base_row = trainer.data[[base]]
    lab = _cond(trainer, [base])
    mu, _ = trainer.encode(base_row, labels=lab)
    z = np.repeat(mu, len(order) * steps, axis=0).reshape(len(order), steps, d)
    for r, dim in enumerate(order):
        z[r, :, dim] += values
    z = z.reshape(-1, d)
    dec_labels = None if lab is None else np.repeat(lab, len(z))
    x = trainer.decode(z, labels=dec_labels)
    arr = trainer.display.to_uint8(x.reshape(len(z), -1), len(order), steps)
    return arr, trainer.display.labels(
        "traversal", [f"z{j} (KL {kl[j]:.2f})" for j in order], [f"{v:+.1f}σ" for v in values],
        dims=order.tolist(), values=values.tolist(), base=int(base))


def interpolation(trainer, pairs: Sequence[Sequence[int]], steps: int = 10):
    """One row per pair ``(a, b)`` of data rows: decodings of the posterior means
    ``(1 - t) mu_a + t mu_b`` for ``t`` evenly from 0 to 1 (same as ``trainer.interpolate``,
    batched: one encode and one decode for all pairs)."""
    pa = np.asarray([int(a) for a, _ in pairs], dtype=np.int64)
    pb = np.asarray([int(b) for _, b in pairs], dtype=np.int64)
    ends = np.concatenate([pa, pb])
    mu, _ = trainer.encode(trainer.data[ends], labels=_cond(trainer, ends))
    mu_a, mu_b = mu[:len(pairs)], mu[len(pairs):]
    ts = np.linspace(0.0, 1.0, steps, dtype=np.float32)
    z = ((1 - ts)[None, :, None] * mu_a[:, None, :] + ts[None, :, None] * mu_b[:, None, :])
    z = z.reshape(len(pairs) * steps, -1)
    lab = None if not trainer.conditional else np.repeat(trainer.labels[pa], steps)
    cells = trainer.decode(z, labels=lab).reshape(len(z), -1)
    arr = trainer.display.to_uint8(cells, len(pairs), steps)
    return arr, trainer.display.labels(
        "interpolation", [f"#{a} → #{b}" for a, b in zip(pa, pb)],
        [f"t={t:.2f}" for t in ts], pairs=[[int(a), int(b)] for a, b in zip(pa, pb)])
