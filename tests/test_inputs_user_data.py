"""User data in every form the widgets accept: numpy, pandas (with a label column), torch
tensors and torch Datasets, in both widgets and both engines; clear errors otherwise."""
import numpy as np
import pandas as pd
import pytest
import torch

from vae_widgets import TSNEWidget, VAEWidget
from vae_widgets._validation import as_data_matrix, dataset_arrays, split_labels
from vae_widgets.tsne.runner import TSNERunner
from vae_widgets.vae.trainer import VAETrainer

rng = np.random.default_rng(0)
N, F = 60, 5
X = rng.normal(size=(N, F)).astype(np.float32)
Y = np.arange(N) % 3

FAST_VAE = dict(hidden=(8,), latent_dim=2, visuals_every=None, batch_size=16)
FAST_TSNE = dict(perplexity=5)


class Pairs(torch.utils.data.Dataset):
    """A map-style Dataset whose items are (x, y) tensors, as most user Datasets are."""

    def __init__(self, x, y, image=None):
        self.x, self.y, self.image = torch.as_tensor(x), torch.as_tensor(y), image

    def __len__(self):
        return len(self.x)

    def __getitem__(self, i):
        x = self.x[i] if self.image is None else self.x[i].reshape(self.image)
        return x, self.y[i]


class Only(torch.utils.data.Dataset):
    def __init__(self, x):
        self.x = torch.as_tensor(x)

    def __len__(self):
        return len(self.x)

    def __getitem__(self, i):
        return self.x[i]


def frame():
    df = pd.DataFrame(X, columns=[f"f{i}" for i in range(F)])
    df["kind"] = np.array(["a", "b", "c"])[Y]
    return df


# ------------------------------------------------------------------ the reader itself
def test_dataframe_label_column_is_taken_out():
    Xo, lab = split_labels(frame(), "kind")
    assert list(Xo.columns) == [f"f{i}" for i in range(F)]
    assert list(lab[:4]) == ["a", "b", "c", "a"]
    np.testing.assert_array_equal(as_data_matrix(Xo), X.astype(np.float64))


@pytest.mark.parametrize("ds", [Pairs(X, Y), torch.utils.data.TensorDataset(
    torch.as_tensor(X), torch.as_tensor(Y))], ids=["custom", "TensorDataset"])
def test_dataset_of_pairs_gives_data_and_labels(ds):
    Xo, lab = split_labels(ds, None)
    np.testing.assert_array_equal(Xo, X)
    np.testing.assert_array_equal(lab, Y)


@pytest.mark.parametrize("ds", [Only(X), torch.utils.data.TensorDataset(torch.as_tensor(X))],
                         ids=["custom", "TensorDataset"])
def test_dataset_of_x_only(ds):
    Xo, lab = split_labels(ds, None)
    np.testing.assert_array_equal(Xo, X)
    assert lab is None
    np.testing.assert_array_equal(as_data_matrix(ds), X.astype(np.float64))   # engines too


def test_nullable_integer_column_reports_missing_values():
    df = pd.DataFrame({"a": pd.array([1, None, 3, 4, 5, 6], dtype="Int64"), "b": np.arange(6.0)})
    with pytest.raises(ValueError, match=r"X contains 1 non-finite values \(NaN\)"):
        as_data_matrix(df)


# ------------------------------------------------------------------ both widgets, both engines
def _check_tsne(X_in, labels=None, expect_labels=None, **kw):
    w = TSNEWidget(X_in, labels=labels, **FAST_TSNE, **kw)
    assert w.n_points == N
    np.testing.assert_allclose(w.runner.X, X.astype(np.float64), rtol=1e-6)
    if expect_labels is not None:
        np.testing.assert_array_equal(w._labels, expect_labels)
    return w


def _check_vae(X_in, labels=None, expect_labels=None, **kw):
    v = VAEWidget(X_in, labels=labels, **FAST_VAE, **kw)
    t = v.trainer
    assert t.data.shape[0] == N
    np.testing.assert_allclose(t.data.reshape(N, -1), X.reshape(N, -1), rtol=1e-6)
    if expect_labels is not None:
        np.testing.assert_array_equal(t.labels, expect_labels)
    return v


def test_numpy_and_tensor_inputs():
    for data in (X, torch.as_tensor(X), pd.DataFrame(X)):
        _check_tsne(data)
        _check_vae(data)
        assert TSNERunner(data, **FAST_TSNE).X.shape == (N, F)
        assert VAETrainer(data, **FAST_VAE).data.shape == (N, F)


def test_dataframe_with_label_column_in_both_widgets():
    names = np.array(["a", "b", "c"])[Y]
    _check_tsne(frame(), labels="kind", expect_labels=names)
    v = _check_vae(frame(), labels="kind", expect_labels=names)
    assert v.trainer.feature_names == [f"f{i}" for i in range(F)]
    t = VAETrainer(frame(), labels="kind", conditional=True, **FAST_VAE)
    assert t.classes == ["a", "b", "c"]


def test_torch_dataset_in_both_widgets_and_engines():
    _check_tsne(Pairs(X, Y), expect_labels=Y)
    _check_vae(Pairs(X, Y), expect_labels=Y)
    t = VAETrainer(Pairs(X, Y), conditional=True, **FAST_VAE)   # y -> classes
    assert t.classes == [0, 1, 2]
    assert TSNERunner(Pairs(X, Y), **FAST_TSNE).X.shape == (N, F)
    t.fit(1)                                                     # and it trains
    assert t.epoch == 1


def test_dataset_of_images():
    imgs = rng.random((N, 1, 4, 4)).astype(np.float32)
    ds = Pairs(imgs.reshape(N, -1), Y, image=(1, 4, 4))
    v = VAEWidget(ds, **FAST_VAE)
    assert v.trainer.image_shape == (1, 4, 4)
    w = TSNEWidget(ds, **FAST_TSNE)
    assert w.image_shape == [1, 4, 4] and w.runner.X.shape == (N, 16)


# ------------------------------------------------------------------ errors
def _VAE(X_, **k):
    return VAEWidget(X_, **FAST_VAE, **k)


@pytest.mark.parametrize("make", [
    lambda X_, **k: TSNEWidget(X_, **FAST_TSNE, **k),
    _VAE,
], ids=["tsne", "vae"])
def test_errors_name_the_problem(make):
    with pytest.raises(ValueError, match=r"labels='knd' is not a column of X\. Did you mean 'kind'\?"):
        make(frame(), labels="knd")
    # both widgets read a table alike: its numeric columns are the features, a text column
    # stays out of them (a TSNEWidget keeps it for display, tests/widgets/test_table_view.py)
    w = make(frame())
    names = w.trainer.feature_names if make is _VAE else w._feature_names
    assert "kind" not in names and names
    with pytest.raises(TypeError, match=r"labels='kind' names a column, which needs X to be a "
                                        r"pandas DataFrame"):
        make(X, labels="kind")
    with pytest.raises(ValueError, match=r"X yields \(x, y\) pairs and labels= was given too"):
        make(Pairs(X, Y), labels=Y)
    df = frame().assign(when=pd.Timestamp("2024-01-01"))
    with pytest.raises(TypeError, match=r"features: columns \['when'\] are not numeric"):
        make(df, labels="kind", features=[c for c in df.columns if c != "kind"])
    with pytest.raises(TypeError, match=r"non-numeric columns \['when'\]"):   # the engine itself
        VAETrainer(df, labels="kind", **FAST_VAE)


def test_bad_datasets():
    class Ragged(Only):
        def __getitem__(self, i):
            return self.x[i, : 3 if i == 2 else F]

    class Triples(Only):
        def __getitem__(self, i):
            return self.x[i], 0, 1

    class Stream(torch.utils.data.IterableDataset):
        def __iter__(self):
            return iter(torch.as_tensor(X))

    with pytest.raises(ValueError, match=r"X\[2\] has shape \(3,\) but X\[0\] has \(5,\)"):
        dataset_arrays(Ragged(X))
    with pytest.raises(ValueError, match=r"X\[0\] is a tuple of 3 items; .* x or \(x, y\)"):
        VAEWidget(Triples(X), **FAST_VAE)
    with pytest.raises(TypeError, match="without a length .*IterableDataset"):
        TSNEWidget(Stream(), **FAST_TSNE)
    with pytest.raises(ValueError, match="empty Dataset"):
        VAETrainer(Only(X[:0]), **FAST_VAE)
