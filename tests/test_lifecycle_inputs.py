"""Inputs that used to end wrong (issue 14): degenerate data for t-SNE, labels with missing
values, indices that were silently truncated, and the memory a big float32 input costs."""
import gc
import tracemalloc

import numpy as np
import pandas as pd
import pytest
import torch
import traitlets

from vae_widgets import TSNEWidget, VAEWidget
from vae_widgets._validation import MISSING_LABEL, as_data_matrix, label_categories
from vae_widgets.tsne import runner as runner_mod
from vae_widgets.tsne.runner import TSNERunner

rng = np.random.default_rng(0)


# ------------------------------------------------------------------ degenerate data
@pytest.mark.parametrize("X", [np.ones((200, 5)), np.full((200, 1), 3.0),
                               np.c_[np.ones((200, 3)), np.zeros((200, 2))]],
                         ids=["identical rows", "one constant column", "constant columns"])
def test_identical_rows_are_refused_before_any_thread(fake_comm, X):
    with pytest.raises(ValueError, match="all 200 rows are identical, so there is nothing"):
        TSNEWidget(X)
    r = TSNERunner(rng.normal(size=(200, 5)))
    with pytest.raises(ValueError, match="rows are identical"):
        r.set_data(X if X.shape[1] > 1 else np.ones((200, 4)))


def test_one_column_runs_from_a_documented_start_with_a_notice(fake_comm):
    x = np.sort(rng.normal(size=300))[:, None]
    w = TSNEWidget(x, n_iter=200, early_exaggeration_iter=100)
    w.run()
    w.wait()
    assert w.status == "done" and w.error == ""
    E = w.embedding.reshape(-1, 2)
    assert np.isfinite(E).all() and E.std(axis=0).min() > 0
    assert "one column" in w.notice and "along x" in w.notice
    # the start layout put the column along x: neighbours in x stay neighbours in the map
    near = np.linalg.norm(E[1:] - E[:-1], axis=1).mean()
    far = np.linalg.norm(E[rng.permutation(300)] - E, axis=1).mean()
    assert near < 0.3 * far


def test_constant_columns_with_standardize_give_a_finite_map(fake_comm):
    X = np.c_[np.ones((200, 3)), rng.normal(size=(200, 2))]
    r = TSNERunner(X, standardize=True, n_iter=50, early_exaggeration_iter=50)
    assert np.isfinite(r.run()).all() and r.state == "done"


def test_a_nan_embedding_is_never_reported_as_done(fake_comm, monkeypatch):
    """Safety net: whatever makes the optimisation blow up ends as an error, not done."""
    real = runner_mod.kl_divergence_bh

    def blows_up(embedding, P, **kw):
        error, grad = real(embedding, P, **kw)
        return error, np.full_like(grad, np.nan)

    monkeypatch.setattr(runner_mod, "kl_divergence_bh", blows_up)
    w = TSNEWidget(rng.normal(size=(200, 5)), n_iter=20, early_exaggeration_iter=10)
    w.run()
    with pytest.raises(FloatingPointError, match="NaN or inf"):
        w.wait()
    assert w.status == "error" and "NaN or inf" in w.error


# ------------------------------------------------------------------ labels
def test_label_categories_one_rule_for_missing_values_and_mixed_types():
    names, codes = label_categories(np.array(["b", None, "a", np.nan, "b", pd.NA],
                                             dtype=object))
    assert names == ["a", "b", MISSING_LABEL]
    assert codes.tolist() == [1, 2, 0, 2, 1, 2]
    names, codes = label_categories(np.array([10, 2, 2, 33]))
    assert names == ["2", "10", "33"] and codes.tolist() == [1, 0, 0, 2]   # numeric order
    names, codes = label_categories(np.array([1.5, np.nan, 0.5]))
    assert names == ["0.5", "1.5", MISSING_LABEL] and codes.tolist() == [1, 2, 0]
    names, codes = label_categories(np.array(["x", 3, None], dtype=object))   # text and numbers
    assert names == ["3", "x", MISSING_LABEL] and codes.tolist() == [1, 0, 2]


def test_tsne_colours_labels_mixing_none_nan_and_text_with_one_missing_category(fake_comm):
    # t-SNE's table encoding (tsne/table.py) keeps the missing rows apart from the
    # named categories: code NaN, counted in color_info, one "missing" legend entry
    # listed last in the page (never named on the map)
    labels = np.array(["cat", None, "dog", float("nan")] * 50, dtype=object)
    w = TSNEWidget(rng.normal(size=(200, 5)), labels=labels)
    assert w.color_kind == "categorical"
    assert w.color_names == ["cat", "dog"]
    assert np.array_equal(w.color_values[:4], [0, np.nan, 1, np.nan], equal_nan=True)
    assert w.color_info["missing"] == 100


# ------------------------------------------------------------------ one index rule
def test_one_index_trait_with_one_rule_for_tsne_and_vae(fake_comm):
    X = rng.normal(size=(200, 6)).astype(np.float32)
    t = TSNEWidget(X)
    v = VAEWidget(X, latent_dim=2, likelihood="gaussian", visuals_every=None)
    assert type(t.traits()["selected"]) is type(v.traits()["selection_indices"])
    for w, name in ((t, "selected"), (v, "selection_indices")):
        for bad in ([1.5], [True], [1, True], np.array([1.0, 2.0]), np.array([True]), "12",
                    5, [[1, 2]], None):
            with pytest.raises((TypeError, traitlets.TraitError),
                               match=f"{name} must be a list of row indices"):
                setattr(w, name, bad)
        for good, expect in (([3, 1], [3, 1]), ((np.int64(4), 2), [4, 2]),
                             (np.array([5, 6], dtype=np.uint16), [5, 6]), (range(2), [0, 1]),
                             (torch.tensor([7]), [7]), (np.array([], dtype=float), [])):
            setattr(w, name, good)
            assert getattr(w, name) == expect


# ------------------------------------------------------------------ memory
def test_float32_input_is_kept_float32_and_not_copied():
    X = rng.normal(size=(50, 4)).astype(np.float32)
    assert as_data_matrix(X, keep_float32=True) is X
    assert as_data_matrix(X).dtype == np.float64          # the default stays float64
    bad = X.copy()
    bad[7, 2] = np.inf
    with pytest.raises(ValueError, match=r"1 non-finite values \(inf\) in 1 rows \(first: \[7\]\)"):
        as_data_matrix(bad, keep_float32=True)
    big = np.full((10, 3), 3e38, dtype=np.float32)         # finite values whose sum overflows
    assert as_data_matrix(big, keep_float32=True) is big


@pytest.mark.slow
def test_tsne_peak_memory_is_at_most_three_times_a_float32_input(fake_comm):
    """Issue 14: 5.1x before (a float64 copy of the input, PCA centring a float64 copy).

    Measured with tracemalloc (numpy's arrays are traced): the copies this is about,
    without the allocator's noise that peak RSS has on a busy machine.
    """
    def run(X):
        w = TSNEWidget(X, n_iter=5, early_exaggeration_iter=5)
        w.run()
        w.wait()
        w.close()

    run(rng.normal(size=(300, 60)).astype(np.float32))   # imports and first-call caches
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        X = np.random.default_rng(0).standard_normal((5000, 4000), dtype=np.float32)
        run(X)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    ratio = (peak - before) / X.nbytes
    print(f"\npeak traced memory: {ratio:.2f}x the {X.nbytes / 1e6:.0f} MB float32 input")
    assert ratio <= 3.0
