"""AnnData (scanpy) and sparse matrices in, the way scanpy users expect them.

Nothing here imports ``anndata`` or ``scanpy``: an AnnData is recognised by its shape
(``.X``, ``.obs``, ``.obsm``, ``.obs_names``), so the package works without them.

* :func:`read_anndata` picks the representation as ``scanpy`` does
  (``sc.tl.tsne(adata, use_rep=None)``): ``use_rep=None`` means ``.X`` when it has at
  most ``N_COMPS`` variables, else ``.obsm["X_pca"]`` when there is one, else ``.X``
  reduced to ``N_COMPS`` components here (a PCA for a dense ``.X``, a TruncatedSVD for a
  sparse one, as ``sc.pp.pca`` would be run first); ``use_rep="X"`` or any ``.obsm``
  key picks one. ``.obs`` becomes the widget's table, so colour, hover and
  ``selected_rows`` use its columns and ``obs_names``.
* :func:`reduce_sparse` is the same reduction for a ``scipy.sparse`` matrix given as ``X``.

Each says what it did in one line, for the widget's info line.
"""
from __future__ import annotations

from typing import Any

import numpy as np

#: components a large ``.X`` is reduced to (scanpy's ``settings.N_PCS``)
N_COMPS = 50


def is_anndata(obj: Any) -> bool:
    return (type(obj).__name__ in ("AnnData", "AnnDataView")
            and all(hasattr(obj, a) for a in ("X", "obs", "obsm", "obs_names", "n_vars")))


def is_sparse(obj: Any) -> bool:
    """A ``scipy.sparse`` matrix or array (without importing scipy)."""
    return hasattr(obj, "tocsr") and hasattr(obj, "nnz") and hasattr(obj, "shape")


def reduce_sparse(X, n_components: int = N_COMPS, seed: int = 0, name: str = "X"):
    """A sparse (n, d) matrix as a dense float32 (n, k) one: TruncatedSVD (no dense copy
    of ``X`` is made), k = min(n_components, d - 1). Returns (array, what was done)."""
    from sklearn.decomposition import TruncatedSVD

    n, d = X.shape
    if d <= n_components:
        return np.asarray(X.toarray(), dtype=np.float32), (
            f"{name} sparse {n:,} × {d:,}, used dense")
    k = max(2, min(n_components, d - 1, n - 1))
    svd = TruncatedSVD(n_components=k, random_state=seed)
    Z = svd.fit_transform(X.tocsr().astype(np.float32)).astype(np.float32)
    return Z, (f"{name} sparse {n:,} × {d:,} reduced to {k} components (TruncatedSVD, "
               f"{svd.explained_variance_ratio_.sum():.0%} of the variance)")


def _dense_pca(X, n_components: int, seed: int, name: str):
    from sklearn.decomposition import PCA

    n, d = X.shape
    k = max(2, min(n_components, d, n - 1))
    pca = PCA(n_components=k, random_state=seed)
    Z = pca.fit_transform(np.asarray(X, dtype=np.float32)).astype(np.float32)
    return Z, (f"{name} {n:,} × {d:,} reduced to {k} principal components "
               f"({pca.explained_variance_ratio_.sum():.0%} of the variance)")


def representation(adata, use_rep: str | None = None, seed: int = 0):
    """The rows to embed or train on, and what they are (see the module docstring)."""
    keys = list(adata.obsm.keys())
    if use_rep is not None and not isinstance(use_rep, str):
        raise TypeError(f"use_rep must be 'X' or a key of adata.obsm ({keys}), got "
                        f"{type(use_rep).__name__}.")
    if use_rep is None:
        if adata.n_vars <= N_COMPS:
            use_rep = "X"
        elif "X_pca" in keys:
            use_rep = "X_pca"
        else:
            X = adata.X
            return (reduce_sparse(X, seed=seed, name="adata.X") if is_sparse(X)
                    else _dense_pca(X, N_COMPS, seed, "adata.X"))
    if use_rep == "X":
        X = adata.X
        if is_sparse(X):
            return reduce_sparse(X, seed=seed, name="adata.X")
        return np.asarray(X), f"adata.X ({adata.n_vars:,} variables)"
    if use_rep not in keys:
        raise ValueError(f"use_rep={use_rep!r} is not in adata.obsm (it holds {keys}); pass "
                         f"use_rep='X', one of those keys, or run sc.pp.pca(adata) first for "
                         f"'X_pca'.")
    rep = adata.obsm[use_rep]
    rep = rep.to_numpy() if hasattr(rep, "to_numpy") else rep
    if is_sparse(rep):
        return reduce_sparse(rep, seed=seed, name=f"adata.obsm[{use_rep!r}]")
    rep = np.asarray(rep)
    return rep, f"adata.obsm[{use_rep!r}] ({rep.shape[1]} dims)"


def read_anndata(adata, use_rep: str | None = None, seed: int = 0):
    """(rows to embed, the table of the rows (``adata.obs``), what was done)."""
    X, what = representation(adata, use_rep, seed)
    obs = adata.obs.copy()
    obs.index = obs.index.astype(str)       # obs_names: the rows' names everywhere
    return X, obs, what


def write_obsm(adata, key: str, values: np.ndarray, names) -> None:
    """``adata.obsm[key] = values`` after checking the rows are the same, in order."""
    if not isinstance(key, str) or not key:
        raise TypeError(f"key must be a name for adata.obsm, e.g. 'X_tsne'; got {key!r}.")
    if not is_anndata(adata):
        raise TypeError(f"adata must be an AnnData, got {type(adata).__name__}.")
    if adata.n_obs != len(values):
        raise ValueError(f"adata has {adata.n_obs:,} cells but the widget has {len(values):,} "
                         f"rows (missing='drop' or another AnnData?); write to the AnnData "
                         f"the widget was made from.")
    if names is not None and list(map(str, adata.obs_names)) != list(map(str, names)):
        raise ValueError("adata's obs_names are not the widget's rows (in order); write to the "
                         "AnnData the widget was made from.")
    adata.obsm[key] = np.asarray(values, dtype=np.float32).copy()


def read_cells(X, df=None, use_rep=None, seed=0):
    """What a widget embeds or trains on, the table beside it, and what was done:
    an AnnData becomes its representation and ``.obs``; a sparse ``X`` its reduction;
    anything else comes back as it is (with ``""``)."""
    seed = seed if isinstance(seed, int) and not isinstance(seed, bool) else 0
    if is_anndata(X):
        if df is not None:
            raise TypeError("df= is adata.obs for an AnnData X; pass the AnnData alone (its "
                            ".obs is the table: colour, hover, selected_rows).")
        return read_anndata(X, use_rep, seed)
    if use_rep is not None:
        raise TypeError(f"use_rep= picks a representation of an AnnData X; X is of type "
                        f"{type(X).__name__}: pass the rows to embed as X.")
    if is_sparse(X):
        Z, what = reduce_sparse(X, seed=seed)
        return Z, df, what
    return X, df, ""
