"""Procrustes alignment of 2-D embeddings, so several t-SNE maps of the same points
can be compared side by side with each point in (about) the same place.

t-SNE's objective does not change under rotation, reflection, translation (and its
layout's overall size is arbitrary), so two runs that found the same structure may
still look different. :func:`procrustes` finds the similarity transform
(rotation/reflection, uniform scale, translation) that maps one embedding onto a
reference with the least squared error; :class:`Alignment` applies it to that
embedding or to any other frame of the same points. No Jupyter, no t-SNE here.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.linalg import orthogonal_procrustes


@dataclass(frozen=True)
class Alignment:
    """``aligned = scale * (X - centre) @ rotation + target_centre``.

    Attributes
    ----------
    rotation : ndarray (d, d)
        Orthogonal matrix; its determinant is -1 when the fit includes a reflection.
    scale : float
        Uniform scale factor.
    centre, target_centre : ndarray (d,)
        Means of the source and of the reference.
    disparity : float
        Residual sum of squares after alignment divided by the reference's sum of
        squares about its mean: 0 = identical up to the transform, 1 = nothing in
        common. Equals the ``disparity`` of :func:`scipy.spatial.procrustes`.
    """

    rotation: np.ndarray
    scale: float
    centre: np.ndarray
    target_centre: np.ndarray
    disparity: float

    @property
    def reflected(self) -> bool:
        """True when the best fit mirrors the source."""
        return bool(np.linalg.det(self.rotation) < 0)

    @property
    def angle(self) -> float:
        """Rotation angle in degrees (2-D only). When ``reflected``, the source's y axis
        is flipped first, then rotated by this angle."""
        r = np.diag([1.0, -1.0]) @ self.rotation if self.reflected else self.rotation
        return float(np.degrees(np.arctan2(r[0, 1], r[0, 0])))

    def apply(self, X) -> np.ndarray:
        """Map points given in the source's coordinates (any frame of the same run)."""
        X = np.asarray(X, dtype=np.float64)
        return self.scale * (X - self.centre) @ self.rotation + self.target_centre

    @classmethod
    def identity(cls, d: int = 2) -> "Alignment":
        z = np.zeros(d)
        return cls(np.eye(d), 1.0, z, z, 0.0)


def procrustes(X, reference, *, scale: bool = True, reflection: bool = True) -> Alignment:
    """Best similarity transform taking ``X`` onto ``reference`` (rows correspond).

    Parameters
    ----------
    X, reference : array-like (n, d)
        The same n points in two embeddings.
    scale : bool
        Fit a uniform scale (otherwise 1).
    reflection : bool
        Allow a mirror image (t-SNE maps have no handedness, so the default allows it).

    Returns
    -------
    Alignment
        Call ``.apply(X)`` for the aligned points; ``.disparity`` says how well they fit.

    Raises
    ------
    ValueError
        When the shapes differ, are not 2-D, or hold non-finite values.
    """
    X = np.asarray(X, dtype=np.float64)
    Y = np.asarray(reference, dtype=np.float64)
    if X.ndim != 2 or X.shape != Y.shape:
        raise ValueError(f"procrustes: X {X.shape} and reference {Y.shape} must be 2-D arrays "
                         f"of the same shape (the same points, in the same order).")
    if not (np.isfinite(X).all() and np.isfinite(Y).all()):
        raise ValueError("procrustes: X and reference must be finite (no NaN or inf).")
    cx, cy = X.mean(axis=0), Y.mean(axis=0)
    Xc, Yc = X - cx, Y - cy
    sx, sy = float((Xc ** 2).sum()), float((Yc ** 2).sum())
    d = X.shape[1]
    if sx == 0.0 or sy == 0.0:   # all points in one place: nothing to rotate
        return Alignment(np.eye(d), 1.0, cx, cy, 0.0 if sx == sy else 1.0)
    R, _ = orthogonal_procrustes(Xc, Yc)       # minimises ||Xc R - Yc||, R orthogonal
    if not reflection and np.linalg.det(R) < 0:
        # the best proper rotation: flip the axis of the smallest singular value
        U, S, Vt = np.linalg.svd(Xc.T @ Yc)
        D = np.eye(d)
        D[-1, -1] = -1.0
        R = U @ D @ Vt
    trace = float(np.sum((Xc @ R) * Yc))       # = sum of (signed) singular values
    s = trace / sx if scale else 1.0
    residual = float(((s * Xc @ R - Yc) ** 2).sum())
    return Alignment(R, s, cx, cy, residual / sy)
