"""Bad input gets a clear error naming the argument, before any thread starts."""
import threading

import numpy as np
import pandas as pd
import pytest

from vae_widgets import TSNEWidget

rng = np.random.default_rng(0)
X = rng.normal(size=(60, 6))


@pytest.mark.parametrize("data, error, match", [
    (np.array([["a", "b"]] * 10), TypeError, "X must be numeric"),
    (pd.DataFrame({"s": list("abcdefghij")}), TypeError, r"X: the table has no numeric column to "
     r"embed \(columns: 's'\); pass features="),
    (np.where(np.arange(60 * 6).reshape(60, 6) == 7, np.nan, X), ValueError, r"non-finite values \(NaN\) in 1 rows \(first: \[1\]\)"),
    (np.where(np.arange(60 * 6).reshape(60, 6) == 7, np.inf, X), ValueError, r"\(inf\)"),
    (np.arange(10.0), ValueError, r"X must be 2-D .* X\.reshape\(-1, 1\)"),
    (np.zeros((10, 4, 4)), ValueError, r"got shape \(10, 4, 4\); flatten each sample"),
    (np.zeros((0, 3)), ValueError, "X is empty"),
    (np.zeros((4, 3)), ValueError, "X has 4 rows; at least 5"),
    (None, TypeError, "X is None"),
    ([[1, 2], [3]], TypeError, "could not be read as an array"),
])
def test_bad_data(data, error, match):
    with pytest.raises(error, match=match):
        TSNEWidget(data)


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(perplexity=30), ValueError, r"perplexity=30 is too large for 60 points.*perplexity < 19\.67"),
    (dict(perplexity=0), ValueError, "perplexity must be > 0"),
    (dict(perplexity="30"), TypeError, "perplexity must be a number"),
    (dict(labels=[1, 2, 3]), ValueError, "labels has 3 entries but the data has 60 rows"),
    (dict(image_shape=(4, 4)), ValueError, r"image_shape=\(4, 4\) holds 16 pixels but the data has 6 columns"),
    (dict(image_shape="big"), TypeError, "image_shape must be a tuple"),
    (dict(initialization="umap"), ValueError, r"initialization='umap' is not one of \['pca', 'spectral', 'random'\]"),
    (dict(metric="cosinus"), ValueError, "metric='cosinus' is not one of"),
    (dict(neighbors="faiss"), ValueError, "neighbors='faiss'"),
    (dict(negative_gradient_method="exact"), ValueError, "negative_gradient_method='exact'"),
    (dict(learning_rate="fast"), ValueError, "learning_rate must be 'auto' or a positive number"),
    (dict(n_iter=-1), ValueError, "n_iter must be >= 0"),
    (dict(n_iter=10.5), TypeError, "n_iter must be an integer"),
    (dict(n_jobs=0), ValueError, "n_jobs must be a positive thread count"),
    (dict(exaggeration=float("nan")), ValueError, "exaggeration must be finite"),
    (dict(dof=-1), ValueError, "dof must be > 0"),
    (dict(perplexitty=5), TypeError, "unknown t-SNE parameter 'perplexitty'"),
])
def test_bad_options(kwargs, error, match):
    kwargs.setdefault("perplexity", 5) if "perplexity" not in kwargs and "perplexitty" not in kwargs else None
    before = threading.active_count()
    with pytest.raises(error, match=match):
        TSNEWidget(X, **kwargs)
    assert threading.active_count() == before          # no thread was started


def test_bad_live_edit_is_refused_and_nothing_changes():
    w = TSNEWidget(X, perplexity=5)
    with pytest.raises(ValueError, match="perplexity=25 is too large"):
        w.set_params(perplexity=25)
    with pytest.raises(ValueError, match="exaggeration must be > 0"):
        w.set_params(exaggeration=0)
    assert w.perplexity == 5 and w.exaggeration == 1
