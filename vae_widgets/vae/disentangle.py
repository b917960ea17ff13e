"""How well a latent space separates known factors of variation: mutual information and MIG.

Given the posterior means ``z`` (n, D) of n samples and a table of their discrete
generative factors (n, K) (e.g. ``datasets.shapes()``: shape, scale, rotation,
x and y position), this module estimates

* the mutual information ``I(z_j; v_k)`` between every latent dimension and every
  factor (nats), with ``z_j`` discretised into ``bins`` equal-width bins (as in
  Chen et al. 2018 and ``disentanglement_lib``), and
* the **Mutual Information Gap** (MIG, Chen et al. 2018, "Isolating Sources of
  Disentanglement in VAEs"): for each factor, the gap between the largest and the
  second-largest ``I(z_j; v_k)`` over the latent dimensions, divided by the
  factor's entropy ``H(v_k)``; averaged over the factors. 1 means every factor is
  captured by exactly one dimension (and completely); 0 means no dimension stands
  out (a factor is ignored, or smeared over several dimensions).

Limits worth knowing: the estimate is biased upwards for few samples per bin
(use a few thousand rows for 20 bins); a factor the data do not identify (a
square's rotation beyond 90 degrees) caps its own gap below 1; and MIG needs the
true factors, which real data rarely have.

``FactorProbe`` keeps a fixed, seeded subsample of rows and their factor codes so
a trainer can measure the same rows after every epoch.
"""
from __future__ import annotations

from typing import Any, Optional, Sequence

import numpy as np

#: a numeric factor with more distinct values than this is binned like a latent
MAX_LEVELS = 64


def _columns(factors: Any, name: str) -> tuple[list, list[str]]:
    """(list of 1-D arrays, names) from a DataFrame, dict, structured array, 1-D or 2-D array."""
    if hasattr(factors, "columns") and hasattr(factors, "select_dtypes"):   # DataFrame
        return [factors[c].to_numpy() for c in factors.columns], [str(c) for c in factors.columns]
    if hasattr(factors, "to_numpy") and hasattr(factors, "name"):            # Series
        return [factors.to_numpy()], [str(factors.name or "factor")]
    if isinstance(factors, dict):
        return [np.asarray(v) for v in factors.values()], [str(k) for k in factors]
    if hasattr(factors, "detach") and hasattr(factors, "cpu"):
        factors = factors.detach().cpu().numpy()
    arr = np.asarray(factors)
    if arr.dtype.names:                                                      # structured array
        return [arr[k] for k in arr.dtype.names], list(arr.dtype.names)
    if arr.ndim == 1:
        return [arr], ["factor"]
    if arr.ndim == 2:
        return [arr[:, k] for k in range(arr.shape[1])], [f"factor_{k}" for k in range(arr.shape[1])]
    raise ValueError(f"{name} must be a table of factors (a pandas DataFrame, a dict of "
                     f"columns, a structured array or a 2-D array (n, n_factors)), got an "
                     f"array of shape {arr.shape}.")


def factor_codes(factors: Any, n: Optional[int] = None, *, bins: int = 20,
                 name: str = "factors") -> tuple[np.ndarray, list[str]]:
    """Integer codes (n, K) for a factor table, and the factor names.

    Text, categorical and boolean columns, and numeric columns with at most
    ``MAX_LEVELS`` distinct values, are coded by value; numeric columns with more
    values are cut into ``bins`` equal-width bins. ``n``: the expected number of
    rows (checked). Raises ``ValueError``/``TypeError`` naming the factor.
    """
    cols, names = _columns(factors, name)
    if not cols:
        raise ValueError(f"{name} has no columns; pass at least one factor.")
    codes = []
    for col, fname in zip(cols, names):
        col = np.asarray(col)
        if col.ndim != 1:
            raise ValueError(f"{name}[{fname!r}] must be one value per row, got shape {col.shape}.")
        if n is not None and len(col) != n:
            raise ValueError(f"{name} has {len(col)} rows but the data has {n}; pass one row of "
                             f"factors per data row.")
        if col.dtype.kind in "fc" or col.dtype.kind in "iu":
            if col.dtype.kind == "c":
                raise TypeError(f"{name}[{fname!r}] is complex; pass real or categorical values.")
            if col.dtype.kind == "f" and not np.isfinite(col).all():
                raise ValueError(f"{name}[{fname!r}] has NaN or inf values; drop those rows or "
                                 f"fill them.")
            levels, code = np.unique(col, return_inverse=True)
            if len(levels) > MAX_LEVELS:
                code = _bin(col.astype(np.float64), bins)
        else:
            try:
                if any(v is None or (isinstance(v, float) and np.isnan(v)) for v in col):
                    raise ValueError(f"{name}[{fname!r}] has missing values; drop those rows "
                                     f"or fill them.")
                levels, code = np.unique(col.astype(str) if col.dtype == object else col,
                                         return_inverse=True)
            except TypeError:
                raise TypeError(f"{name}[{fname!r}] mixes types that cannot be compared; "
                                f"convert it with .astype(str).") from None
        codes.append(np.asarray(code, dtype=np.int64).reshape(-1))
    return np.stack(codes, axis=1), names


def _bin(x: np.ndarray, bins: int) -> np.ndarray:
    """Equal-width bins between the column's min and max -> codes 0..bins-1."""
    lo, hi = float(x.min()), float(x.max())
    if not hi > lo:
        return np.zeros(len(x), dtype=np.int64)
    return np.minimum(((x - lo) / (hi - lo) * bins).astype(np.int64), bins - 1)


def discretize(z: np.ndarray, bins: int = 20) -> np.ndarray:
    """Each column of ``z`` (n, D) into ``bins`` equal-width bins over its own range."""
    z = np.asarray(z, dtype=np.float64)
    if z.ndim == 1:
        z = z[:, None]
    return np.stack([_bin(z[:, j], bins) for j in range(z.shape[1])], axis=1)


def _mi(a: np.ndarray, b: np.ndarray) -> float:
    """Mutual information (nats) of two integer code vectors (plug-in estimate; equals
    ``sklearn.metrics.mutual_info_score``), from one bincount."""
    ka, kb = int(a.max()) + 1, int(b.max()) + 1
    joint = np.bincount(a * kb + b, minlength=ka * kb).reshape(ka, kb).astype(np.float64)
    joint /= joint.sum()
    pa, pb = joint.sum(1, keepdims=True), joint.sum(0, keepdims=True)
    nz = joint > 0
    return float(max(0.0, np.sum(joint[nz] * np.log(joint[nz] / (pa @ pb)[nz]))))


def entropy(codes: np.ndarray) -> np.ndarray:
    """Entropy (nats) of each column of integer codes (n, K)."""
    codes = np.asarray(codes).reshape(len(codes), -1)
    out = []
    for k in range(codes.shape[1]):
        p = np.bincount(codes[:, k]).astype(np.float64)
        p = p[p > 0] / len(codes)
        out.append(float(-(p * np.log(p)).sum()))
    return np.asarray(out)


def mutual_information(z: np.ndarray, codes: np.ndarray, bins: int = 20) -> np.ndarray:
    """``I(z_j; v_k)`` in nats, shape (D, K): ``z`` (n, D) continuous (discretised into
    ``bins`` bins per dimension), ``codes`` (n, K) integer factor codes."""
    zb = discretize(z, bins)
    codes = np.asarray(codes).reshape(len(codes), -1)
    if len(zb) != len(codes):
        raise ValueError(f"z has {len(zb)} rows but the factors have {len(codes)}.")
    return np.array([[_mi(zb[:, j], codes[:, k]) for k in range(codes.shape[1])]
                     for j in range(zb.shape[1])])


def mig(mi: np.ndarray, h: np.ndarray) -> tuple[float, np.ndarray]:
    """MIG from an MI matrix (D, K) and the factor entropies (K,).

    Returns ``(score, gaps)``: the per-factor normalised gaps (NaN for a factor with
    zero entropy, which carries no information) and their mean over the others.
    With a single latent dimension the second-largest MI is 0.
    """
    mi = np.asarray(mi, dtype=np.float64)
    h = np.asarray(h, dtype=np.float64)
    top = np.sort(mi, axis=0)[::-1]
    second = top[1] if mi.shape[0] > 1 else np.zeros(mi.shape[1])
    with np.errstate(divide="ignore", invalid="ignore"):
        gaps = np.where(h > 0, (top[0] - second) / h, np.nan)
    score = float(np.nanmean(gaps)) if np.isfinite(gaps).any() else float("nan")
    return score, gaps


def disentanglement(z: np.ndarray, factors: Any, bins: int = 20) -> dict:
    """Mutual information between latents and factors, and MIG, in one call.

    Parameters
    ----------
    z : array (n, D)
        Latent codes, usually the posterior means (``trainer.encode(X)[0]``).
    factors : DataFrame, dict, structured array or array (n, K)
        The generative factors of the same rows (see :func:`factor_codes`).
    bins : int
        Bins per latent dimension.

    Returns
    -------
    dict
        ``mi`` (D, K) nats, ``mi_normalized`` (D, K): ``mi / H(v_k)`` in [0, 1],
        ``entropy`` (K,), ``gaps`` (K,), ``mig`` (float), ``factors`` (names),
        ``best_dim`` (K,): the dimension with the most information on each factor.
    """
    z = np.asarray(z, dtype=np.float64)
    codes, names = factor_codes(factors, len(z), bins=bins)
    return _summary(z, codes, names, bins)


def _summary(z, codes, names, bins) -> dict:
    mi = mutual_information(z, codes, bins)
    h = entropy(codes)
    score, gaps = mig(mi, h)
    with np.errstate(divide="ignore", invalid="ignore"):
        norm = np.where(h > 0, mi / h, 0.0)
    return {"mi": mi, "mi_normalized": np.clip(norm, 0.0, 1.0), "entropy": h, "gaps": gaps,
            "mig": score, "factors": list(names), "best_dim": np.argmax(mi, axis=0)}


class FactorProbe:
    """A fixed, seeded subsample of rows and their factor codes, measured after each epoch.

    Parameters
    ----------
    factors : factor table, one row per data row (see :func:`factor_codes`)
    n : int
        Rows of the data (the table must have as many).
    sample_size : int
        Rows measured (all when the data have fewer): 2,000 keeps one measurement at a
        few milliseconds plus one encoder pass.
    bins : int
        Bins per latent dimension (and for numeric factors with many values).
    seed : int
        Seed of the subsample.
    """

    def __init__(self, factors: Any, n: int, *, sample_size: int = 2000, bins: int = 20,
                 seed: int = 0, name: str = "factors"):
        codes, names = factor_codes(factors, n, bins=bins, name=name)
        h = entropy(codes)
        flat = [nm for nm, e in zip(names, h) if e == 0]
        if flat:
            raise ValueError(f"{name}: {flat} take a single value, so no latent can carry "
                             f"information about them; drop those columns.")
        rng = np.random.default_rng(seed)
        k = min(int(sample_size), n)
        self.rows = np.sort(rng.choice(n, size=k, replace=False)) if k < n else np.arange(n)
        self.codes = codes[self.rows]
        self.names = list(names)
        self.bins = int(bins)

    @classmethod
    def from_codes(cls, rows, codes, names, bins: int) -> "FactorProbe":
        """A probe from already chosen ``rows`` and their integer factor ``codes``."""
        probe = cls.__new__(cls)
        probe.rows = np.asarray(rows, dtype=np.int64)
        probe.codes = np.asarray(codes, dtype=np.int64).reshape(len(probe.rows), -1)
        probe.names = [str(n) for n in names]
        probe.bins = int(bins)
        return probe

    def measure(self, z: np.ndarray) -> dict:
        """The summary of :func:`disentanglement` for the probe rows' latents ``z``."""
        return _summary(np.asarray(z, dtype=np.float64), self.codes, self.names, self.bins)


def as_plain(result: dict) -> dict:
    """JSON-friendly copy (lists, NaN as None) of a :func:`disentanglement` result."""
    def clean(v):
        if isinstance(v, np.ndarray):
            return clean(v.tolist())
        if isinstance(v, (list, tuple)):
            return [clean(x) for x in v]
        if isinstance(v, (float, np.floating)):
            return float(v) if np.isfinite(v) else None
        if isinstance(v, np.integer):
            return int(v)
        return v
    return {k: clean(v) for k, v in result.items()}


__all__: Sequence[str] = ("FactorProbe", "disentanglement", "discretize", "entropy",
                          "factor_codes", "mig", "mutual_information", "as_plain")
