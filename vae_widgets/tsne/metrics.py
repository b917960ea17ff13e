"""How faithful is an embedding, and how far are new points from the data it was made of?

Plain numpy / scikit-learn, no openTSNE and no widgets.

- :func:`trustworthiness`: scikit-learn's trustworthiness (1 = no point has
  embedding neighbours that are far away in the input space).
- :func:`knn_preservation`: the fraction of each point's ``k`` input-space
  neighbours that are also among its ``k`` embedding neighbours, averaged.
- :func:`embedding_quality`: both, on a seeded random sample of at most
  ``sample`` points (exact neighbours cost O(n²) memory and time).
- :func:`drift`: how far new points lie from the reference data, relative to
  how far reference points lie from each other.

Neighbourhoods inside a sample are those of the sample, not of the full data:
with 2,000 of 70,000 points, a sampled point's 10 neighbours are roughly its 350
nearest in the full data. The numbers compare runs of the same data and sample
size well; they are not the full-data values.
"""
from __future__ import annotations

import numpy as np
from sklearn.manifold import trustworthiness as _sk_trustworthiness
from sklearn.neighbors import NearestNeighbors

#: neighbours per point in every score here
K = 10
#: at most this many points enter the quality scores (a seeded random sample)
SAMPLE = 2000


def _check_pair(X, Y, k):
    X = np.asarray(X, dtype=np.float64)
    Y = np.asarray(Y, dtype=np.float64)
    if X.ndim != 2 or Y.ndim != 2:
        raise ValueError(f"X and Y must be 2-D, got shapes {X.shape} and {Y.shape}.")
    if len(X) != len(Y):
        raise ValueError(f"X has {len(X)} rows but Y has {len(Y)}; they must be the same "
                         f"points (row i of Y is the embedding of row i of X).")
    if not isinstance(k, (int, np.integer)) or k < 1:
        raise ValueError(f"k must be a positive integer, got {k!r}.")
    if k >= len(X) / 2:
        raise ValueError(f"k={k} is too large for {len(X)} points; it must be below n/2 "
                         f"= {len(X) / 2:g} (use fewer neighbours or more points).")
    return X, Y


def _neighbours(Z, k, metric="euclidean"):
    """Each row's k nearest other rows (exact), as an (n, k) index array."""
    nn = NearestNeighbors(n_neighbors=k + 1, algorithm="brute", metric=metric).fit(Z)
    idx = nn.kneighbors(Z, return_distance=False)
    rows = np.arange(len(Z))[:, None]
    own = idx == rows
    own[~own.any(axis=1), -1] = True         # duplicates: drop the farthest instead of self
    return idx[~own].reshape(len(Z), k)


def trustworthiness(X, Y, k: int = K, metric: str = "euclidean") -> float:
    """scikit-learn's trustworthiness of embedding ``Y`` of data ``X``.

    Parameters
    ----------
    X : array (n, d)
        Input-space points.
    Y : array (n, 2)
        Their embedding (row i of ``Y`` is row i of ``X``).
    k : int
        Neighbours considered; must be below n / 2.
    metric : str
        Input-space distance (any scikit-learn metric name).

    Returns
    -------
    float
        In [0, 1]; 1 means every embedding neighbour is also an input neighbour.
    """
    X, Y = _check_pair(X, Y, k)
    return float(_sk_trustworthiness(X, Y, n_neighbors=k, metric=metric))


def knn_preservation(X, Y, k: int = K, metric: str = "euclidean") -> float:
    """Mean fraction of each point's ``k`` input neighbours kept among its ``k`` embedding ones.

    Parameters
    ----------
    X : array (n, d)
        Input-space points.
    Y : array (n, 2)
        Their embedding.
    k : int
        Neighbours per point (excluding the point itself); must be below n / 2.
    metric : str
        Input-space distance; the embedding always uses Euclidean distance.

    Returns
    -------
    float
        In [0, 1]; 1 means every neighbourhood is preserved exactly.
    """
    X, Y = _check_pair(X, Y, k)
    a = _neighbours(X, k, metric)
    b = _neighbours(Y, k)
    # rows sorted, then a merge count via searchsorted per row
    b.sort(axis=1)
    hits = 0
    for i in range(len(a)):
        pos = np.searchsorted(b[i], a[i])
        pos[pos == k] = k - 1
        hits += int(np.count_nonzero(b[i][pos] == a[i]))
    return hits / (len(a) * k)


def sample_rows(n: int, sample: int = SAMPLE, random_state: int = 0) -> np.ndarray:
    """Sorted row indices: all of ``range(n)`` or a seeded random sample of ``sample`` of them."""
    if n <= sample:
        return np.arange(n)
    rng = np.random.default_rng(random_state)
    return np.sort(rng.choice(n, size=sample, replace=False))


def embedding_quality(X, Y, k: int = K, sample: int = SAMPLE, random_state: int = 0,
                      metric: str = "euclidean") -> dict:
    """Trustworthiness and kNN preservation, on at most ``sample`` points.

    Parameters
    ----------
    X, Y : arrays (n, d) and (n, 2)
        Input-space points and their embedding.
    k : int
        Neighbours per point.
    sample : int
        Above this many points, a seeded random sample of this size is scored.
    random_state : int
        Seed of the sample.
    metric : str
        Input-space distance.

    Returns
    -------
    dict
        ``trustworthiness``, ``knn_preservation``, ``k``, ``n_sampled``, ``n_points``.
    """
    X = np.asarray(X, dtype=np.float64)
    Y = np.asarray(Y, dtype=np.float64)
    rows = sample_rows(len(X), sample, random_state)
    Xs, Ys = X[rows], Y[rows]
    k = min(k, max(1, (len(rows) - 1) // 2))
    return {"trustworthiness": trustworthiness(Xs, Ys, k, metric),
            "knn_preservation": knn_preservation(Xs, Ys, k, metric),
            "k": int(k), "n_sampled": int(len(rows)), "n_points": int(len(X))}


def drift(X_ref, X_new, k: int = K, sample: int = SAMPLE, random_state: int = 0,
          metric: str = "euclidean") -> dict:
    """How far new points lie from the reference data, in units of its own spacing.

    For each new point, the mean distance to its ``k`` nearest reference points;
    for (a seeded sample of at most ``sample``) reference points, the mean
    distance to their ``k`` nearest *other* reference points. The score is

        mean over new points / mean over reference points.

    About 1 for new points drawn from the same distribution as the reference
    (held-out data); well above 1 for points off the reference manifold (noise,
    another domain); below 1 for points in dense regions (or duplicates).

    Parameters
    ----------
    X_ref : array (n, d)
        Reference points (in the space the embedding was computed from).
    X_new : array (m, d)
        New points, same space.
    k : int
        Neighbours per point; must be below n.
    sample, random_state : int
        Size and seed of the reference sample used for the reference spacing.
    metric : str
        Distance (any scikit-learn metric name).

    Returns
    -------
    dict
        ``score`` (float), ``per_point`` (m ratios: each new point's mean kNN
        distance over the reference mean), ``k``, ``reference_mean``, ``new_mean``.
    """
    X_ref = np.asarray(X_ref, dtype=np.float64)
    X_new = np.asarray(X_new, dtype=np.float64)
    if X_ref.ndim != 2 or X_new.ndim != 2 or X_ref.shape[1] != X_new.shape[1]:
        raise ValueError(f"X_ref and X_new must be 2-D with the same columns, got shapes "
                         f"{X_ref.shape} and {X_new.shape}.")
    if not isinstance(k, (int, np.integer)) or not 1 <= k < len(X_ref):
        raise ValueError(f"k must be an integer in 1..{len(X_ref) - 1}, got {k!r}.")
    nn = NearestNeighbors(n_neighbors=k + 1, algorithm="brute", metric=metric).fit(X_ref)
    rows = sample_rows(len(X_ref), sample, random_state)
    d_ref, i_ref = nn.kneighbors(X_ref[rows], n_neighbors=k + 1)
    own = i_ref == rows[:, None]
    own[~own.any(axis=1), -1] = True
    ref_mean = float(d_ref[~own].reshape(len(rows), k).mean())
    d_new, _ = nn.kneighbors(X_new, n_neighbors=k)
    per_new = d_new.mean(axis=1)
    scale = ref_mean if ref_mean > 0 else 1.0
    return {"score": float(per_new.mean() / scale), "per_point": per_new / scale,
            "k": int(k), "reference_mean": ref_mean, "new_mean": float(per_new.mean())}
