"""Bundled and generated data sets: shapes, ranges, labels, determinism, speed bound, errors."""
import time

import numpy as np
import pandas as pd
import pytest

from vae_widgets import datasets


def test_digits():
    X, y = datasets.digits()
    assert X.shape == (1797, 64) and X.dtype == np.float32
    assert X.min() == 0.0 and X.max() == 1.0
    assert set(np.unique(y)) == set(range(10))
    assert datasets.digits(return_images=True)[0].shape == (1797, 8, 8)


def test_blobs_signature_and_determinism():
    X, y = datasets.blobs(n=300, dims=7, clusters=4, seed=3)
    assert X.shape == (300, 7) and X.dtype == np.float32
    assert set(np.unique(y)) == set(range(4))
    np.testing.assert_array_equal(X, datasets.blobs(300, 7, 4, seed=3)[0])
    assert not np.array_equal(X, datasets.blobs(300, 7, 4, seed=4)[0])
    with pytest.raises(ValueError, match="n=3 must be at least clusters=4"):
        datasets.blobs(3, 7, 4)


@pytest.mark.parametrize("size", [32, 64])
def test_shapes_images_and_factors(size):
    X, f = datasets.shapes(600, size=size, seed=1)
    assert X.shape == (600, size, size) and X.dtype == np.float32
    assert X.min() >= 0.0 and X.max() <= 1.0
    assert isinstance(f, pd.DataFrame) and list(f.columns) == list(datasets.SHAPE_FACTORS)
    assert set(f["shape"]) == {"square", "ellipse", "heart"}
    assert f["scale"].nunique() == 6 and f["rotation"].nunique() == 10
    assert f["pos_x"].between(0, 1).all() and f["pos_y"].nunique() == size // 2
    # anti-aliased: grey edge pixels, solid insides; every image shows a shape, none is cut
    assert ((X > 0.05) & (X < 0.95)).any()
    assert (X.reshape(600, -1).max(1) == 1.0).all()
    border = np.concatenate([X[:, 0], X[:, -1], X[:, :, 0], X[:, :, -1]], axis=1)
    assert border.max() == 0.0


def test_shapes_factors_drive_the_pixels():
    X, f = datasets.shapes(3000, seed=2)
    area = X.reshape(len(X), -1).sum(1)
    # area grows with scale (squared), for each shape
    for s in ("square", "ellipse", "heart"):
        a = pd.Series(area[f["shape"] == s]).groupby(f["scale"][f["shape"] == s].to_numpy()).mean()
        assert a.is_monotonic_increasing and a.iloc[-1] / a.iloc[0] > 3
    # the centre of mass follows pos_x / pos_y
    cols = np.arange(32) + 0.5
    cx = (X.sum(1) * cols).sum(1) / area
    cy = (X.sum(2) * cols).sum(1) / area
    assert np.corrcoef(cx, f["pos_x"])[0, 1] > 0.97
    assert np.corrcoef(cy, f["pos_y"])[0, 1] > 0.97
    # a heart at 0 degrees stands upright: more ink in its upper half (the lobes)
    upright = np.flatnonzero((f["shape"] == "heart") & (f["rotation"] == 0) & (f["scale"] == 1))
    for i in upright[:5]:
        rows = X[i].sum(1)
        mid = int(round(cy[i] - 0.5))
        assert rows[:mid + 1].sum() > rows[mid + 1:].sum()
    # a square is symmetric under a 90 degree turn, a heart is not
    one = datasets._draw(np.array([0, 0, 2, 2]), np.ones(4), np.array([0.0, 90.0, 0.0, 90.0]),
                         np.full(4, 0.5), np.full(4, 0.5), 32, True)
    assert np.abs(one[0] - one[1]).max() < 1e-4
    assert np.abs(one[2] - one[3]).sum() > 20


def test_shapes_deterministic_and_fast():
    t0 = time.perf_counter()
    X, f = datasets.shapes(20000, size=32, seed=0)
    took = time.perf_counter() - t0
    assert took < 30, f"20,000 shapes took {took:.1f} s"     # ~1 s measured; generous bound
    X2, f2 = datasets.shapes(20000, size=32, seed=0)
    np.testing.assert_array_equal(X, X2)
    pd.testing.assert_frame_equal(f, f2)
    assert not np.array_equal(X[:50], datasets.shapes(50, seed=1)[0])
    print(f"\n20,000 shapes at 32x32 in {took:.2f} s")


@pytest.mark.parametrize("kw,exc,match", [
    (dict(size=48), ValueError, "size=48 is not supported; use size=32 or size=64"),
    (dict(n=0), ValueError, "n must be >= 1"),
    (dict(n=10.5), TypeError, "n must be an integer"),
    (dict(seed=-1), ValueError, "seed must be >= 0"),
    (dict(scales=0), ValueError, "scales must be >= 1"),
])
def test_shapes_bad_arguments(kw, exc, match):
    with pytest.raises(exc, match=match):
        datasets.shapes(**{"n": 10, **kw})


def test_load_data_reads_names_and_files(tmp_path):
    from vae_widgets.datasets import DataError, load_data

    imgs = np.random.default_rng(0).random((20, 4, 4)).astype(np.float32)
    np.save(tmp_path / "imgs.npy", imgs)
    X, y, shape, _, what = load_data(str(tmp_path / "imgs.npy"))
    assert X.shape == (20, 16) and shape == (4, 4) and y is None and "20 rows" in what
    df = pd.DataFrame({"a": range(10), "b": np.arange(10) * 0.5, "kind": list("xy" * 5)})
    df.to_csv(tmp_path / "t.csv", index=False)
    X, y, shape, name, _ = load_data(str(tmp_path / "t.csv"), labels_column="kind")
    assert list(X.columns) == ["a", "b"] and list(y[:2]) == ["x", "y"] and name == "kind"
    with pytest.raises(DataError, match="--labels 'nope': no such column"):
        load_data(str(tmp_path / "t.csv"), labels_column="nope")
    with pytest.raises(DataError, match="not one of digits, shapes, blobs"):
        load_data("mnist")
    X, y, *_ = load_data("blobs", n=50)
    assert len(X) == 50 and len(y) == 50
    X, y, shape, name, _ = load_data("shapes", n=20)
    assert X.shape == (20, 32 * 32) and shape == (32, 32) and name == "shape"
