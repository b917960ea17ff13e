"""AnnData (scanpy's container) and scipy.sparse in, the real anndata library: the
representation picked as scanpy picks it, .obs as the table, selections by obs_names,
the result written back to .obsm; unknown objects refused at once."""
import time

import anndata
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from vae_widgets import TSNEWidget, VAEWidget
from vae_widgets._anndata import N_COMPS
from vae_widgets.tsne.runner import TSNERunner
from vae_widgets.vae.trainer import VAETrainer

FAST = dict(early_exaggeration_iter=20, n_iter=20, n_jobs=1, perplexity=10)


def cells(n=300, genes=200, seed=0, sparse=True):
    """Counts with three cell types, PCA in obsm as scanpy leaves it, labels in obs."""
    rng = np.random.default_rng(seed)
    kind = rng.choice(["CD4 T", "B", "NK"], n)
    rate = np.where((kind == "B")[:, None], 2.0, 0.3) * rng.random((1, genes)) + 0.05
    counts = rng.poisson(rate * 3).astype(np.float32)
    X = sp.csr_matrix(counts) if sparse else counts
    ad = anndata.AnnData(X, obs=pd.DataFrame({"bulk_labels": kind, "n_genes": (counts > 0).sum(1)},
                                              index=[f"cell{i}" for i in range(n)]))
    centred = counts - counts.mean(0)
    u, s, vt = np.linalg.svd(centred, full_matrices=False)
    ad.obsm["X_pca"] = (u[:, :20] * s[:20]).astype(np.float32)
    return ad


def test_tsne_of_an_anndata_uses_x_pca_colours_by_obs_and_selects_by_obs_names(fake_comm):
    ad = cells()
    w = TSNEWidget(ad, color="bulk_labels", **FAST)
    assert w.n_points == ad.n_obs and w._runner.X.shape == (ad.n_obs, 20)   # X_pca, as scanpy
    assert "adata.obsm['X_pca'] (20 dims)" in w.info
    assert w.color == "bulk_labels" and "n_genes" in w.table.columns
    w.selected = [0, 5]
    assert list(w.selected_rows.index) == ["cell0", "cell5"]
    w.run()
    w.wait(120)
    w.to_anndata(ad)
    assert ad.obsm["X_tsne"].shape == (ad.n_obs, 2)
    np.testing.assert_allclose(ad.obsm["X_tsne"], np.asarray(w.embedding).reshape(-1, 2))


def test_use_rep_picks_x_or_an_obsm_key_and_a_wrong_key_lists_the_keys(fake_comm):
    ad = cells()
    w = TSNEWidget(ad, use_rep="X", **FAST)          # sparse .X: reduced, and said so
    assert w._runner.X.shape == (ad.n_obs, N_COMPS)
    assert "adata.X sparse 300 × 200 reduced to 50 components (TruncatedSVD" in w.info
    with pytest.raises(ValueError, match=r"use_rep='X_umap' is not in adata.obsm.*X_pca"):
        TSNEWidget(ad, use_rep="X_umap", **FAST)
    with pytest.raises(TypeError, match="use_rep= picks a representation of an AnnData"):
        TSNEWidget(np.zeros((50, 3)), use_rep="X_pca", **FAST)


def test_without_x_pca_a_wide_dense_x_is_reduced_to_50_components(fake_comm):
    ad = cells(sparse=False)
    del ad.obsm["X_pca"]
    w = TSNEWidget(ad, **FAST)
    assert w._runner.X.shape == (ad.n_obs, N_COMPS) and "principal components" in w.info


def test_a_sparse_matrix_is_reduced_with_truncated_svd(fake_comm):
    X = sp.random(200, 400, density=0.05, format="csr", random_state=0, dtype=np.float32)
    w = TSNEWidget(X, **FAST)
    assert w._runner.X.shape == (200, N_COMPS) and "TruncatedSVD" in w.info


def test_vae_of_an_anndata_takes_labels_from_obs_and_writes_its_latents_back(fake_comm):
    ad = cells()
    v = VAEWidget(ad, labels="bulk_labels", latent_dim=3, visuals_every=None, epochs=1)
    assert v.trainer.n_features == 20 and list(v.rows[:2]) == ["cell0", "cell1"]
    np.testing.assert_array_equal(v.trainer.labels, ad.obs["bulk_labels"].to_numpy())
    assert "adata.obsm['X_pca']" in v.info
    v.to_anndata(ad)
    assert ad.obsm["X_vae"].shape == (ad.n_obs, 3)
    with pytest.raises(ValueError, match="cells but the widget has"):
        v.to_anndata(ad[:10].copy())


def test_the_engines_refuse_an_anndata_or_a_sparse_matrix_at_once_and_say_what_to_pass():
    ad = cells()
    t0 = time.perf_counter()
    with pytest.raises(TypeError, match=r"X is an AnnData: pass it to TSNEWidget.*obsm\['X_pca'\]"):
        TSNERunner(ad)
    with pytest.raises(TypeError, match="scipy.sparse matrix.*TruncatedSVD"):
        VAETrainer(ad.X)
    with pytest.raises(TypeError, match="X is of type object, which is not an array"):
        TSNERunner(object())
    assert time.perf_counter() - t0 < 5      # not minutes of reading it element by element
